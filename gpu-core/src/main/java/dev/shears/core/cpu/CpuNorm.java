package dev.shears.core.cpu;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;

/**
 * Batch normalisation over x viewed as [outer, channels, inner]: statistics per channel over the
 * outer and inner axes. Channel c's elements are {@code outer} rows of {@code inner} contiguous
 * floats, {@code channels * inner} apart. Channels are independent, so large tensors split them
 * over {@link Parallel}; each channel is computed the same way whatever the split, so results are
 * bit-identical at any thread count.
 *
 * <p>Memory order: every pass walks its task's channel range in memory order (for each outer
 * index, the range's rows one after another), keeping each channel's accumulators in a small
 * per-task array. Walking channel by channel instead reads rows of inner floats (784 bytes for a
 * 14x14 plane) spaced channels*inner apart, which the hardware prefetchers do not follow: on the
 * 9.6 MB input of mobilenet-v2-mini's block_2_expand_BN one such pass took 2.5 times as long as a
 * sequential one (1.1 against 0.45 ms). The passes therefore read the whole range each time
 * (forward: sum, centred squares, normalise; backward: both gradient sums, then dx) rather than
 * reusing a channel from cache.
 *
 * <p>Precision: the per-channel sums are accumulated in double, from the same per-element terms
 * as a scalar loop would (x; (x - mean)^2 with x and mean in double; dy and dy * xhat with xhat
 * rounded to float), only added in a different order: vector accumulators of the preferred
 * double species plus a scalar one for row tails, the accumulators' lanes then summed in lane
 * order. The variance is two-pass (the mean first, then the centred squares), not
 * E[x^2] - E[x]^2, so it does not lose digits when the mean is large against the spread. The
 * order is fixed by the code and the lane count alone (no {@code reduceLanes}, whose order may
 * change once the JIT compiles it, see {@link Lanes}).
 *
 * <p>Why vectors here: a scalar {@code s += x[p]} is one dependent double add per element, bound
 * by the add's latency (4 cycles), which made batch norm the largest CPU cost of a
 * mobilenet-v2-mini training step; the element-wise passes (normalise, dx) are float vector code
 * with the same rounding steps as the scalar expressions they replace.
 */
final class CpuNorm {
    private CpuNorm() {}

    /** double accumulators */
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    /** float loads that widen lane for lane into {@link #D} (half its bits, the same lane count) */
    private static final VectorSpecies<Float> H = FloatVector.SPECIES_PREFERRED.withShape(VectorShape.forBitSize(D.vectorBitSize() / 2));
    /** element-wise float passes */
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** doubles of accumulator per channel: two vectors of {@link #D} */
    private static final int ACC = 2 * D.length();

    static void batchNormTrain(float[] x, float[] gamma, float[] beta, float[] runMean, float[] runVar,
                               float momentum, float eps, float[] y, float[] saveMean, float[] saveInvStd,
                               int outer, int channels, int inner) {
        long count = (long) outer * inner;
        Parallel.forRange(channels, CpuConv.grain(outer * inner), (c0, c1) -> {
            int k = c1 - c0;
            // per task, for its channels: accumulators, scalar tails, means, then y = a*x + b's a and b
            double[] acc = new double[k * ACC], tail = new double[k], mean = new double[k];
            float[] ab = new float[2 * k];
            sums(x, c0, c1, channels, outer, inner, acc, tail);
            for (int c = 0; c < k; c++) mean[c] = count == 0 ? 0 : total(acc, tail, c) / count;
            centredSquares(x, mean, c0, c1, channels, outer, inner, acc, tail);
            for (int c = c0; c < c1; c++) {
                double sq = total(acc, tail, c - c0);
                double var = count == 0 ? 0 : sq / count;
                double unbiased = count > 1 ? sq / (count - 1) : var;
                float meanF = (float) mean[c - c0];
                float invStd = (float) (1.0 / Math.sqrt(var + eps));
                saveMean[c] = meanF;
                saveInvStd[c] = invStd;
                runMean[c] = momentum * runMean[c] + (1 - momentum) * meanF;
                runVar[c] = momentum * runVar[c] + (1 - momentum) * (float) unbiased;
                float a = gamma[c] * invStd;
                ab[2 * (c - c0)] = a;
                ab[2 * (c - c0) + 1] = beta[c] - meanF * a;
            }
            affine(x, y, ab, c0, c1, channels, outer, inner);
        });
    }

    static void batchNormInference(float[] x, float[] gamma, float[] beta, float[] runMean, float[] runVar,
                                   float eps, float[] y, int outer, int channels, int inner) {
        Parallel.forRange(channels, CpuConv.grain(outer * inner), (c0, c1) -> {
            float[] ab = new float[2 * (c1 - c0)];
            for (int c = c0; c < c1; c++) {
                float invStd = (float) (1.0 / Math.sqrt((double) runVar[c] + eps));
                float a = gamma[c] * invStd;
                ab[2 * (c - c0)] = a;
                ab[2 * (c - c0) + 1] = beta[c] - runMean[c] * a;
            }
            affine(x, y, ab, c0, c1, channels, outer, inner);
        });
    }

    /**
     * With xhat = (x - mean) * invStd and M = outer*inner:
     * dBeta += sum(dy), dGamma += sum(dy * xhat),
     * dx = gamma * invStd / M * (M * dy - sum(dy) - xhat * sum(dy * xhat)).
     * One pass reads x and dy for both sums, a second writes dx.
     */
    static void batchNormBackward(float[] x, float[] dy, float[] gamma, float[] saveMean, float[] saveInvStd,
                                  float[] dx, float[] dGamma, float[] dBeta, int outer, int channels, int inner) {
        long count = (long) outer * inner;
        Parallel.forRange(channels, CpuConv.grain(outer * inner), (c0, c1) -> {
            int k = c1 - c0;
            // per task: accumulators of sum(dy) and sum(dy * xhat) per channel and their scalar tails
            double[] acc = new double[k * ACC], tail = new double[2 * k];
            gradientSums(x, dy, saveMean, saveInvStd, c0, c1, channels, outer, inner, acc, tail);
            float[] coef = new float[3 * k]; // per channel: gamma * invStd, mean(dy), mean(dy * xhat)
            for (int c = c0; c < c1; c++) {
                int i = c - c0, at = i * ACC, dl = D.length();
                double sdy = 0, sdyx = 0;
                for (int l = 0; l < dl; l++) {
                    sdy += acc[at + l];
                    sdyx += acc[at + dl + l];
                }
                sdy += tail[2 * i];
                sdyx += tail[2 * i + 1];
                dBeta[c] += (float) sdy;
                dGamma[c] += (float) sdyx;
                coef[3 * i] = gamma[c] * saveInvStd[c];
                coef[3 * i + 1] = (float) (sdy / count);
                coef[3 * i + 2] = (float) (sdyx / count);
            }
            if (count == 0) return; // no samples: nothing flows back
            inputGradient(x, dy, dx, saveMean, saveInvStd, coef, c0, c1, channels, outer, inner);
        });
    }

    /**
     * Sets acc and tail, for channels c0..c1-1 (index c - c0), to two vector partial sums of the
     * channel's elements and a scalar sum of its row tails, in double.
     */
    private static void sums(float[] x, int c0, int c1, int channels, int outer, int inner, double[] acc, double[] tail) {
        Arrays.fill(acc, 0);
        Arrays.fill(tail, 0);
        int n = H.length(), dl = D.length(), bound = H.loopBound(inner), pairs = (inner / (2 * n)) * (2 * n);
        for (int o = 0; o < outer; o++) {
            int row = (o * channels + c0) * inner;
            for (int c = 0; c < c1 - c0; c++, row += inner) {
                DoubleVector a0 = DoubleVector.fromArray(D, acc, c * ACC), a1 = DoubleVector.fromArray(D, acc, c * ACC + dl);
                int j = 0;
                for (; j < pairs; j += 2 * n) {
                    a0 = a0.add(widen(x, row + j));
                    a1 = a1.add(widen(x, row + j + n));
                }
                for (; j < bound; j += n) a0 = a0.add(widen(x, row + j));
                double t = tail[c];
                for (; j < inner; j++) t += x[row + j];
                tail[c] = t;
                a0.intoArray(acc, c * ACC);
                a1.intoArray(acc, c * ACC + dl);
            }
        }
    }

    /** As {@link #sums} for (x - mean)^2, each term and the sum in double; mean[c - c0] per channel. */
    private static void centredSquares(float[] x, double[] mean, int c0, int c1, int channels, int outer, int inner,
                                       double[] acc, double[] tail) {
        Arrays.fill(acc, 0);
        Arrays.fill(tail, 0);
        int n = H.length(), dl = D.length(), bound = H.loopBound(inner), pairs = (inner / (2 * n)) * (2 * n);
        for (int o = 0; o < outer; o++) {
            int row = (o * channels + c0) * inner;
            for (int c = 0; c < c1 - c0; c++, row += inner) {
                double m = mean[c];
                DoubleVector a0 = DoubleVector.fromArray(D, acc, c * ACC), a1 = DoubleVector.fromArray(D, acc, c * ACC + dl);
                int j = 0;
                for (; j < pairs; j += 2 * n) {
                    DoubleVector d0 = widen(x, row + j).sub(m), d1 = widen(x, row + j + n).sub(m);
                    a0 = a0.add(d0.mul(d0));
                    a1 = a1.add(d1.mul(d1));
                }
                for (; j < bound; j += n) {
                    DoubleVector d0 = widen(x, row + j).sub(m);
                    a0 = a0.add(d0.mul(d0));
                }
                double t = tail[c];
                for (; j < inner; j++) {
                    double d = x[row + j] - m;
                    t += d * d;
                }
                tail[c] = t;
                a0.intoArray(acc, c * ACC);
                a1.intoArray(acc, c * ACC + dl);
            }
        }
    }

    /** Channel i's accumulators and tail added up: lane by lane (first vector's lane + second's), then the tail. */
    private static double total(double[] acc, double[] tail, int i) {
        int at = i * ACC, dl = D.length();
        double s = 0;
        for (int l = 0; l < dl; l++) s += acc[at + l] + acc[at + dl + l];
        return s + tail[i];
    }

    /**
     * y = a*x + b for channels c0..c1-1, with a, b = ab[2(c - c0)], ab[2(c - c0) + 1] (a multiply
     * then an add, as the scalar expression rounds).
     */
    private static void affine(float[] x, float[] y, float[] ab, int c0, int c1, int channels, int outer, int inner) {
        int n = F.length(), bound = F.loopBound(inner);
        for (int o = 0; o < outer; o++) {
            int row = (o * channels + c0) * inner;
            for (int c = 0; c < c1 - c0; c++, row += inner) {
                float a = ab[2 * c], b = ab[2 * c + 1];
                int j = 0;
                for (; j < bound; j += n) FloatVector.fromArray(F, x, row + j).mul(a).add(b).intoArray(y, row + j);
                for (; j < inner; j++) y[row + j] = a * x[row + j] + b;
            }
        }
    }

    /**
     * Sets acc to sum(dy) and sum(dy * xhat) as vectors (channel c - c0 at (c - c0) * ACC and
     * + D.length()) and tail to their scalar row-tail sums (at 2(c - c0) and + 1), in double, with
     * xhat = (x - mean) * inv rounded to float as the forward's normalised value is.
     */
    private static void gradientSums(float[] x, float[] dy, float[] mean, float[] inv, int c0, int c1, int channels,
                                     int outer, int inner, double[] acc, double[] tail) {
        Arrays.fill(acc, 0);
        Arrays.fill(tail, 0);
        int n = H.length(), dl = D.length(), bound = H.loopBound(inner);
        for (int o = 0; o < outer; o++) {
            int row = (o * channels + c0) * inner;
            for (int c = 0; c < c1 - c0; c++, row += inner) {
                float m = mean[c0 + c], s = inv[c0 + c];
                DoubleVector sdy = DoubleVector.fromArray(D, acc, c * ACC), sdyx = DoubleVector.fromArray(D, acc, c * ACC + dl);
                int j = 0;
                for (; j < bound; j += n) {
                    DoubleVector g = widen(dy, row + j);
                    FloatVector xhat = FloatVector.fromArray(H, x, row + j).sub(m).mul(s);
                    sdy = sdy.add(g);
                    sdyx = sdyx.add(g.mul(toDouble(xhat)));
                }
                double tdy = tail[2 * c], tdyx = tail[2 * c + 1];
                for (; j < inner; j++) {
                    int p = row + j;
                    tdy += dy[p];
                    tdyx += (double) dy[p] * ((x[p] - m) * s);
                }
                tail[2 * c] = tdy;
                tail[2 * c + 1] = tdyx;
                sdy.intoArray(acc, c * ACC);
                sdyx.intoArray(acc, c * ACC + dl);
            }
        }
    }

    /**
     * dx = k * (dy - mdy - xhat * mdyx) for channels c0..c1-1, with k, mdy, mdyx = coef[3(c - c0) ..],
     * in float with the scalar expression's rounding steps.
     */
    private static void inputGradient(float[] x, float[] dy, float[] dx, float[] mean, float[] inv, float[] coef,
                                      int c0, int c1, int channels, int outer, int inner) {
        int n = F.length(), bound = F.loopBound(inner);
        for (int o = 0; o < outer; o++) {
            int row = (o * channels + c0) * inner;
            for (int c = 0; c < c1 - c0; c++, row += inner) {
                float m = mean[c0 + c], s = inv[c0 + c], k = coef[3 * c], mdy = coef[3 * c + 1], mdyx = coef[3 * c + 2];
                int j = 0;
                for (; j < bound; j += n) {
                    FloatVector xhat = FloatVector.fromArray(F, x, row + j).sub(m).mul(s);
                    FloatVector.fromArray(F, dy, row + j).sub(mdy).sub(xhat.mul(mdyx)).mul(k).intoArray(dx, row + j);
                }
                for (; j < inner; j++) {
                    int p = row + j;
                    float xhat = (x[p] - m) * s;
                    dx[p] = k * (dy[p] - mdy - xhat * mdyx);
                }
            }
        }
    }

    /** H.length() floats from v[at], widened exactly to double. */
    private static DoubleVector widen(float[] v, int at) {
        return toDouble(FloatVector.fromArray(H, v, at));
    }

    private static DoubleVector toDouble(FloatVector v) {
        return (DoubleVector) v.convertShape(VectorOperators.F2D, D, 0);
    }
}
