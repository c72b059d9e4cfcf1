package dev.shears.kernels;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A host model of the GPU select (magnitude_threshold.cu), step for step: per-tensor histograms of
 * the digit of the keys matching the group's prefix, then the select step's bin choice and its
 * below/equal bookkeeping. It checks the digit plans and that bookkeeping against a full sort on
 * seeded data with many ties; the CUDA code itself is checked against the CPU backend by the *IT
 * tests on a GPU.
 */
class RadixSelectModelTest {

    static int key(float w) { return Float.floatToRawIntBits(w) & 0x7FFFFFFF; }

    /** The kernels' algorithm on the host; returns {threshold bits per tensor, below, equal}. */
    static long[][] model(float[][] tensors, long[] k, boolean global, ThresholdPlan.Variant variant) {
        int t = tensors.length, groups = global ? 1 : t;
        int[] prefix = new int[groups];
        long[] krem = Arrays.copyOf(k, groups);
        long[] below = new long[t], equal = new long[t];
        int[][] passes = variant.passes();
        for (int p = 0; p < passes.length; p++) {
            int shift = passes[p][0], bits = passes[p][1], hiMask = ThresholdPlan.hiMask(shift, bits);
            long[][] hist = new long[t][1 << bits];
            for (int i = 0; i < t; i++) {
                int pre = prefix[global ? 0 : i] & hiMask;
                for (float w : tensors[i]) {
                    int key = key(w);
                    if ((key & hiMask) == pre) hist[i][(key >>> shift) & ((1 << bits) - 1)]++;
                }
            }
            for (int g = 0; g < groups; g++) {
                int from = global ? 0 : g, to = global ? t : g + 1;
                long cum = 0;
                int sel = -1;
                for (int b = 0; b < 1 << bits && sel < 0; b++) {
                    long c = 0;
                    for (int i = from; i < to; i++) c += hist[i][b];
                    if (cum < krem[g] && krem[g] <= cum + c) sel = b;
                    else cum += c;
                }
                assertTrue(sel >= 0, "rank lost");
                prefix[g] |= sel << shift;
                krem[g] -= cum;
                for (int i = from; i < to; i++) {
                    for (int b = 0; b < sel; b++) below[i] += hist[i][b];
                    if (p == passes.length - 1) equal[i] = hist[i][sel];
                }
            }
        }
        long[] thr = new long[t];
        for (int i = 0; i < t; i++) thr[i] = prefix[global ? 0 : i];
        return new long[][] {thr, below, equal};
    }

    static float[] randomTensor(Random r, int n) {
        float[] w = new float[n];
        for (int i = 0; i < n; i++) {
            int kind = r.nextInt(10);
            // zeros (pruned), a few repeated values (ties), -0, and Gaussian weights of varied scale
            w[i] = kind == 0 ? 0f : kind == 1 ? -0f : kind == 2 ? (r.nextBoolean() ? 0.25f : -0.25f)
                    : (float) (r.nextGaussian() * Math.pow(10, r.nextInt(5) - 3));
        }
        return w;
    }

    @Test
    void modelAgreesWithASortInBothScopesAndBothDigitPlans() {
        Random r = new Random(42);
        for (int trial = 0; trial < 20; trial++) {
            int t = 1 + r.nextInt(5);
            float[][] tensors = new float[t][];
            for (int i = 0; i < t; i++) tensors[i] = randomTensor(r, 1 + r.nextInt(3000));
            for (ThresholdPlan.Variant v : ThresholdPlan.Variant.values()) {
                // layer scope
                long[] k = new long[t];
                for (int i = 0; i < t; i++) k[i] = 1 + r.nextInt(tensors[i].length);
                long[][] got = model(tensors, k, false, v);
                for (int i = 0; i < t; i++) {
                    int[] keys = Arrays.stream(toDoubles(tensors[i])).mapToInt(d -> key((float) d)).sorted().toArray();
                    int expect = keys[(int) k[i] - 1];
                    assertEquals(expect, got[0][i], v + " layer tensor " + i);
                    assertEquals(Arrays.stream(keys).filter(x -> x < expect).count(), got[1][i]);
                    assertEquals(Arrays.stream(keys).filter(x -> x == expect).count(), got[2][i]);
                }
                // global scope
                int total = Arrays.stream(tensors).mapToInt(a -> a.length).sum();
                long kg = 1 + r.nextInt(total);
                long[][] g = model(tensors, new long[] {kg}, true, v);
                int[] all = Arrays.stream(tensors).flatMapToInt(a -> Arrays.stream(toDoubles(a)).mapToInt(d -> key((float) d)))
                        .sorted().toArray();
                int expect = all[(int) kg - 1];
                long belowSum = 0, equalSum = 0;
                for (int i = 0; i < t; i++) {
                    assertEquals(expect, g[0][i]);
                    int[] keys = Arrays.stream(toDoubles(tensors[i])).mapToInt(d -> key((float) d)).toArray();
                    assertEquals(Arrays.stream(keys).filter(x -> x < expect).count(), g[1][i], v + " global below, tensor " + i);
                    assertEquals(Arrays.stream(keys).filter(x -> x == expect).count(), g[2][i], v + " global equal, tensor " + i);
                    belowSum += g[1][i];
                    equalSum += g[2][i];
                }
                assertTrue(belowSum < kg && kg <= belowSum + equalSum, "k falls among the ties");
            }
        }
    }

    private static double[] toDoubles(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) d[i] = a[i];
        return d;
    }
}
