package dev.shears.core.cpu;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Batch normalisation over x viewed as [outer, channels, inner]: statistics per channel over the
 * outer and inner axes. Channel c's elements are {@code outer} rows of {@code inner} contiguous
 * floats, {@code channels * inner} apart. Channels are independent, so large tensors split them
 * over {@link Parallel}; each channel is computed the same way whatever the split, so results are
 * bit-identical at any thread count.
 *
 * <p>Precision: the per-channel sums are accumulated in double, from the same per-element terms
 * as a scalar loop would (x; (x - mean)^2 with x and mean in double; dy and dy * xhat with xhat
 * rounded to float), only added in a different order: 2 vector accumulators of the preferred
 * double species plus a scalar one for row tails, the accumulators' lanes then summed in lane
 * order. The variance is two-pass (the mean first, then the centred squares), not
 * E[x^2] - E[x]^2, so it does not lose digits when the mean is large against the spread. A
 * channel's data (128 x 14 x 14 floats = 100 KB in mobilenet-v2-mini) stays in L2 between
 * passes, so the second pass costs little. The order is fixed by the code and the lane count
 * alone (no {@code reduceLanes}, whose order may change once the JIT compiles it, see
 * {@link Lanes}).
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

    static void batchNormTrain(float[] x, float[] gamma, float[] beta, float[] runMean, float[] runVar,
                               float momentum, float eps, float[] y, float[] saveMean, float[] saveInvStd,
                               int outer, int channels, int inner) {
        long count = (long) outer * inner;
        Parallel.forRange(channels, CpuConv.grain(outer * inner), (c0, c1) -> {
            for (int c = c0; c < c1; c++) {
                int first = c * inner, stride = channels * inner;
                double s = sum(x, first, stride, outer, inner);
                double mean = count == 0 ? 0 : s / count;
                double sq = centredSquares(x, mean, first, stride, outer, inner);
                double var = count == 0 ? 0 : sq / count;
                double unbiased = count > 1 ? sq / (count - 1) : var;
                float meanF = (float) mean;
                float invStd = (float) (1.0 / Math.sqrt(var + eps));
                saveMean[c] = meanF;
                saveInvStd[c] = invStd;
                runMean[c] = momentum * runMean[c] + (1 - momentum) * meanF;
                runVar[c] = momentum * runVar[c] + (1 - momentum) * (float) unbiased;
                float a = gamma[c] * invStd, b = beta[c] - meanF * a; // y = a*x + b
                affine(x, y, a, b, first, stride, outer, inner);
            }
        });
    }

    static void batchNormInference(float[] x, float[] gamma, float[] beta, float[] runMean, float[] runVar,
                                   float eps, float[] y, int outer, int channels, int inner) {
        Parallel.forRange(channels, CpuConv.grain(outer * inner), (c0, c1) -> {
            for (int c = c0; c < c1; c++) {
                float invStd = (float) (1.0 / Math.sqrt((double) runVar[c] + eps));
                float a = gamma[c] * invStd, b = beta[c] - runMean[c] * a;
                affine(x, y, a, b, c * inner, channels * inner, outer, inner);
            }
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
            double[] sums = new double[2]; // sum(dy), sum(dy * xhat): one per task, not per channel
            for (int c = c0; c < c1; c++) {
                int first = c * inner, stride = channels * inner;
                float mean = saveMean[c], inv = saveInvStd[c];
                gradientSums(x, dy, mean, inv, first, stride, outer, inner, sums);
                double sdy = sums[0], sdyx = sums[1];
                dBeta[c] += (float) sdy;
                dGamma[c] += (float) sdyx;
                if (count == 0) continue; // no samples: nothing flows back
                float k = gamma[c] * inv;
                float mdy = (float) (sdy / count), mdyx = (float) (sdyx / count);
                inputGradient(x, dy, dx, mean, inv, k, mdy, mdyx, first, stride, outer, inner);
            }
        });
    }

    /** The sum of one channel's elements, in double. */
    private static double sum(float[] x, int first, int stride, int outer, int inner) {
        int n = H.length(), bound = H.loopBound(inner), pairs = (inner / (2 * n)) * (2 * n);
        DoubleVector a0 = DoubleVector.zero(D), a1 = DoubleVector.zero(D);
        double tail = 0;
        for (int o = 0, row = first; o < outer; o++, row += stride) {
            int j = 0;
            for (; j < pairs; j += 2 * n) {
                a0 = a0.add(widen(x, row + j));
                a1 = a1.add(widen(x, row + j + n));
            }
            for (; j < bound; j += n) a0 = a0.add(widen(x, row + j));
            for (; j < inner; j++) tail += x[row + j];
        }
        return lanes(a0.add(a1)) + tail;
    }

    /** The sum of (x - mean)^2 over one channel, each term and the sum in double. */
    private static double centredSquares(float[] x, double mean, int first, int stride, int outer, int inner) {
        int n = H.length(), bound = H.loopBound(inner), pairs = (inner / (2 * n)) * (2 * n);
        DoubleVector a0 = DoubleVector.zero(D), a1 = DoubleVector.zero(D);
        double tail = 0;
        for (int o = 0, row = first; o < outer; o++, row += stride) {
            int j = 0;
            for (; j < pairs; j += 2 * n) {
                DoubleVector d0 = widen(x, row + j).sub(mean), d1 = widen(x, row + j + n).sub(mean);
                a0 = a0.add(d0.mul(d0));
                a1 = a1.add(d1.mul(d1));
            }
            for (; j < bound; j += n) {
                DoubleVector d0 = widen(x, row + j).sub(mean);
                a0 = a0.add(d0.mul(d0));
            }
            for (; j < inner; j++) {
                double d = x[row + j] - mean;
                tail += d * d;
            }
        }
        return lanes(a0.add(a1)) + tail;
    }

    /** y = a*x + b over one channel (a multiply then an add, as the scalar expression rounds). */
    private static void affine(float[] x, float[] y, float a, float b, int first, int stride, int outer, int inner) {
        int n = F.length(), bound = F.loopBound(inner);
        for (int o = 0, row = first; o < outer; o++, row += stride) {
            int j = 0;
            for (; j < bound; j += n) FloatVector.fromArray(F, x, row + j).mul(a).add(b).intoArray(y, row + j);
            for (; j < inner; j++) y[row + j] = a * x[row + j] + b;
        }
    }

    /**
     * sums[0] = sum(dy), sums[1] = sum(dy * xhat) over one channel, in double, with
     * xhat = (x - mean) * inv rounded to float as the forward's normalised value is.
     */
    private static void gradientSums(float[] x, float[] dy, float mean, float inv, int first, int stride, int outer, int inner,
                                     double[] sums) {
        int n = H.length(), bound = H.loopBound(inner);
        DoubleVector sdy = DoubleVector.zero(D), sdyx = DoubleVector.zero(D);
        double tdy = 0, tdyx = 0;
        for (int o = 0, row = first; o < outer; o++, row += stride) {
            int j = 0;
            for (; j < bound; j += n) {
                DoubleVector g = widen(dy, row + j);
                FloatVector xhat = FloatVector.fromArray(H, x, row + j).sub(mean).mul(inv);
                sdy = sdy.add(g);
                sdyx = sdyx.add(g.mul(toDouble(xhat)));
            }
            for (; j < inner; j++) {
                int p = row + j;
                tdy += dy[p];
                tdyx += (double) dy[p] * ((x[p] - mean) * inv);
            }
        }
        sums[0] = lanes(sdy) + tdy;
        sums[1] = lanes(sdyx) + tdyx;
    }

    /** dx = k * (dy - mdy - xhat * mdyx) over one channel, in float, with the scalar expression's rounding steps. */
    private static void inputGradient(float[] x, float[] dy, float[] dx, float mean, float inv, float k, float mdy, float mdyx,
                                      int first, int stride, int outer, int inner) {
        int n = F.length(), bound = F.loopBound(inner);
        for (int o = 0, row = first; o < outer; o++, row += stride) {
            int j = 0;
            for (; j < bound; j += n) {
                FloatVector xhat = FloatVector.fromArray(F, x, row + j).sub(mean).mul(inv);
                FloatVector.fromArray(F, dy, row + j).sub(mdy).sub(xhat.mul(mdyx)).mul(k).intoArray(dx, row + j);
            }
            for (; j < inner; j++) {
                int p = row + j;
                float xhat = (x[p] - mean) * inv;
                dx[p] = k * (dy[p] - mdy - xhat * mdyx);
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

    /** The lanes of v summed in lane order. */
    private static double lanes(DoubleVector v) {
        double s = 0;
        for (int i = 0; i < D.length(); i++) s += v.lane(i);
        return s;
    }
}
