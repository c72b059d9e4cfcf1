package dev.shears.core.cpu;

import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * CpuNorm's vectorised batch norm against exact arithmetic (BigDecimal): the per-channel
 * statistics and gradient sums are within one float ulp of the exactly computed value, which a
 * float accumulator over thousands of terms would miss by many ulps, and the element-wise outputs
 * (y, dx) are bit for bit the scalar float expressions. Shapes cover rows shorter than a vector,
 * rows with a scalar tail, whole-vector rows and mobilenet-v2-mini's 14x14 planes; data with a
 * mean of 1000 and a spread of 1 checks that the variance keeps its digits (two-pass).
 */
class CpuNormTest {
    private static final MathContext MC = MathContext.DECIMAL128;
    /** [outer, channels, inner] */
    private static final int[][] SHAPES = {{5, 3, 1}, {4, 2, 7}, {3, 2, 17}, {2, 3, 33}, {3, 2, 49}, {2, 2, 64}, {64, 3, 196}};

    private static float[] random(int n, long seed, double lo, double hi) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextDouble(lo, hi);
        return a;
    }

    private static void assertWithinUlp(String what, double exact, float got) {
        float nearest = (float) exact;
        assertTrue(Math.abs(got - exact) <= Math.ulp(nearest), what + ": got " + got + ", exact " + exact
                + " (more than one float ulp " + Math.ulp(nearest) + " away)");
    }

    @Test
    void trainingStatisticsAreWithinOneUlpOfExactAndYIsTheScalarExpression() {
        long seed = 1;
        for (int[] s : SHAPES) {
            for (double offset : new double[]{0, 1000}) {
                int outer = s[0], channels = s[1], inner = s[2], n = outer * channels * inner, count = outer * inner;
                String shape = "[" + outer + ", " + channels + ", " + inner + "] offset " + offset;
                float[] x = random(n, seed++, offset - 1, offset + 1);
                float[] gamma = random(channels, seed++, 0.5, 1.5), beta = random(channels, seed++, -1, 1);
                float[] rm = random(channels, seed++, -1, 1), rv = random(channels, seed++, 0.5, 2);
                float[] rm0 = rm.clone(), rv0 = rv.clone();
                float[] y = new float[n], mean = new float[channels], inv = new float[channels];
                float momentum = 0.9f, eps = 1e-3f;
                CpuNorm.batchNormTrain(x, gamma, beta, rm, rv, momentum, eps, y, mean, inv, outer, channels, inner);
                for (int c = 0; c < channels; c++) {
                    BigDecimal sum = BigDecimal.ZERO;
                    for (int o = 0; o < outer; o++)
                        for (int j = 0; j < inner; j++) sum = sum.add(new BigDecimal(x[(o * channels + c) * inner + j]));
                    BigDecimal exactMean = sum.divide(BigDecimal.valueOf(count), MC);
                    BigDecimal sq = BigDecimal.ZERO;
                    for (int o = 0; o < outer; o++)
                        for (int j = 0; j < inner; j++) {
                            BigDecimal d = new BigDecimal(x[(o * channels + c) * inner + j]).subtract(exactMean);
                            sq = sq.add(d.multiply(d, MC));
                        }
                    BigDecimal var = sq.divide(BigDecimal.valueOf(count), MC);
                    double exactInv = BigDecimal.ONE.divide(var.add(new BigDecimal(eps)).sqrt(MC), MC).doubleValue();
                    assertWithinUlp(shape + " channel " + c + " mean", exactMean.doubleValue(), mean[c]);
                    assertWithinUlp(shape + " channel " + c + " 1/sqrt(var + eps)", exactInv, inv[c]);
                    float unbiased = sq.divide(BigDecimal.valueOf(count - 1), MC).floatValue();
                    float expectRv = momentum * rv0[c] + (1 - momentum) * unbiased;
                    assertEquals(expectRv, rv[c], 2 * Math.ulp(expectRv), shape + " channel " + c + " running variance");
                    assertEquals(momentum * rm0[c] + (1 - momentum) * mean[c], rm[c], 0f, shape + " channel " + c + " running mean");
                    float a = gamma[c] * inv[c], b = beta[c] - mean[c] * a;
                    for (int o = 0; o < outer; o++)
                        for (int j = 0; j < inner; j++) {
                            int p = (o * channels + c) * inner + j;
                            assertEquals(a * x[p] + b, y[p], 0f, shape + " y at " + p);
                        }
                }
            }
        }
    }

    @Test
    void gradientSumsAreWithinOneUlpOfExactAndDxIsTheScalarExpression() {
        long seed = 100;
        for (int[] s : SHAPES) {
            int outer = s[0], channels = s[1], inner = s[2], n = outer * channels * inner, count = outer * inner;
            String shape = "[" + outer + ", " + channels + ", " + inner + "]";
            float[] x = random(n, seed++, 2, 5), dy = random(n, seed++, -1, 1), gamma = random(channels, seed++, 0.5, 1.5);
            float[] mean = random(channels, seed++, 3, 4), inv = random(channels, seed++, 0.5, 2);
            float[] dx = new float[n], dg = new float[channels], db = new float[channels];
            CpuNorm.batchNormBackward(x, dy, gamma, mean, inv, dx, dg, db, outer, channels, inner);
            for (int c = 0; c < channels; c++) {
                BigDecimal sdy = BigDecimal.ZERO, sdyx = BigDecimal.ZERO;
                for (int o = 0; o < outer; o++)
                    for (int j = 0; j < inner; j++) {
                        int p = (o * channels + c) * inner + j;
                        float xhat = (x[p] - mean[c]) * inv[c];
                        sdy = sdy.add(new BigDecimal(dy[p]));
                        sdyx = sdyx.add(new BigDecimal(dy[p]).multiply(new BigDecimal(xhat)));
                    }
                assertWithinUlp(shape + " channel " + c + " dBeta = sum(dy)", sdy.doubleValue(), db[c]);
                assertWithinUlp(shape + " channel " + c + " dGamma = sum(dy * xhat)", sdyx.doubleValue(), dg[c]);
                // the means of the sums correctly rounded to float, as the double sums round them here
                float k = gamma[c] * inv[c];
                float mdy = sdy.divide(BigDecimal.valueOf(count), MC).floatValue();
                float mdyx = sdyx.divide(BigDecimal.valueOf(count), MC).floatValue();
                for (int o = 0; o < outer; o++)
                    for (int j = 0; j < inner; j++) {
                        int p = (o * channels + c) * inner + j;
                        float xhat = (x[p] - mean[c]) * inv[c];
                        assertEquals(k * (dy[p] - mdy - xhat * mdyx), dx[p], 0f, shape + " dx at " + p);
                    }
            }
        }
    }

    @Test
    void gradientsOfGammaAndBetaAccumulate() {
        int outer = 2, channels = 2, inner = 49, n = outer * channels * inner;
        float[] x = random(n, 7, -1, 1), dy = random(n, 8, -1, 1), gamma = {1f, 2f}, mean = {0.1f, -0.2f}, inv = {1.5f, 0.7f};
        float[] dx = new float[n], dg = new float[channels], db = new float[channels];
        CpuNorm.batchNormBackward(x, dy, gamma, mean, inv, dx, dg, db, outer, channels, inner);
        float[] dg1 = dg.clone(), db1 = db.clone();
        CpuNorm.batchNormBackward(x, dy, gamma, mean, inv, dx, dg, db, outer, channels, inner);
        for (int c = 0; c < channels; c++) {
            assertEquals(dg1[c] + dg1[c], dg[c], 0f, "dGamma accumulates, channel " + c);
            assertEquals(db1[c] + db1[c], db[c], 0f, "dBeta accumulates, channel " + c);
        }
    }

    @Test
    void inferenceIsTheScalarExpression() {
        for (int[] s : SHAPES) {
            int outer = s[0], channels = s[1], inner = s[2], n = outer * channels * inner;
            float[] x = random(n, 40, -3, 3), gamma = random(channels, 41, 0.5, 1.5), beta = random(channels, 42, -1, 1);
            float[] rm = random(channels, 43, -1, 1), rv = random(channels, 44, 0.5, 2), y = new float[n];
            CpuNorm.batchNormInference(x, gamma, beta, rm, rv, 1e-3f, y, outer, channels, inner);
            for (int p = 0; p < n; p++) {
                int c = (p / inner) % channels;
                float a = gamma[c] * (float) (1.0 / Math.sqrt((double) rv[c] + 1e-3f)), b = beta[c] - rm[c] * a;
                assertEquals(a * x[p] + b, y[p], 0f, "inference y at " + p + " of " + java.util.Arrays.toString(s));
            }
        }
    }

    @Test
    void anEmptyBatchLeavesGradientsAndGivesZeroMean() {
        float[] none = new float[0], gamma = {1f, 1f}, beta = {0f, 0f}, rm = {0f, 0f}, rv = {1f, 1f};
        float[] mean = {9f, 9f}, inv = new float[2], dg = {1f, 2f}, db = {3f, 4f};
        CpuNorm.batchNormTrain(none, gamma, beta, rm, rv, 0.9f, 1e-3f, none, mean, inv, 0, 2, 5);
        assertEquals(0f, mean[0], 0f, "mean of no samples");
        assertEquals((float) (1 / Math.sqrt(1e-3f)), inv[1], 0f, "1/sqrt(0 + eps) for no samples");
        CpuNorm.batchNormBackward(none, none, gamma, mean, inv, none, dg, db, 0, 2, 5);
        assertEquals(1f, dg[0], 0f, "dGamma unchanged by no samples");
        assertEquals(4f, db[1], 0f, "dBeta unchanged by no samples");
    }

    @Test
    void eachChannelIsTheSameWhateverTheSplitOverTasks() {
        // 40 channels of 8 x 196: enough work for Parallel to split the channels over tasks where it has
        // threads; each channel on its own ([8, 1, 196], one task) must give the same bits
        int outer = 8, channels = 40, inner = 196, n = outer * channels * inner;
        float[] x = random(n, 50, -2, 3), dy = random(n, 51, -1, 1), gamma = random(channels, 52, 0.5, 1.5), beta = random(channels, 53, -1, 1);
        float[] y = new float[n], dx = new float[n], rm = new float[channels], rv = new float[channels];
        float[] mean = new float[channels], inv = new float[channels], dg = new float[channels], db = new float[channels];
        CpuNorm.batchNormTrain(x, gamma, beta, rm, rv, 0.9f, 1e-3f, y, mean, inv, outer, channels, inner);
        CpuNorm.batchNormBackward(x, dy, gamma, mean, inv, dx, dg, db, outer, channels, inner);
        for (int c = 0; c < channels; c++) {
            float[] xc = new float[outer * inner], dyc = new float[outer * inner];
            for (int o = 0; o < outer; o++) {
                System.arraycopy(x, (o * channels + c) * inner, xc, o * inner, inner);
                System.arraycopy(dy, (o * channels + c) * inner, dyc, o * inner, inner);
            }
            float[] yc = new float[xc.length], dxc = new float[xc.length];
            float[] m1 = new float[1], i1 = new float[1], dg1 = new float[1], db1 = new float[1];
            CpuNorm.batchNormTrain(xc, new float[]{gamma[c]}, new float[]{beta[c]}, new float[1], new float[1], 0.9f, 1e-3f,
                    yc, m1, i1, outer, 1, inner);
            assertEquals(mean[c], m1[0], 0f, "mean of channel " + c);
            assertEquals(inv[c], i1[0], 0f, "1/sqrt(var + eps) of channel " + c);
            CpuNorm.batchNormBackward(xc, dyc, new float[]{gamma[c]}, m1, i1, dxc, dg1, db1, outer, 1, inner);
            assertEquals(dg[c], dg1[0], 0f, "dGamma of channel " + c);
            assertEquals(db[c], db1[0], 0f, "dBeta of channel " + c);
            for (int o = 0; o < outer; o++)
                for (int j = 0; j < inner; j++) {
                    int p = (o * channels + c) * inner + j;
                    assertEquals(y[p], yc[o * inner + j], 0f, "y of channel " + c + " at " + p);
                    assertEquals(dx[p], dxc[o * inner + j], 0f, "dx of channel " + c + " at " + p);
                }
        }
    }
}
