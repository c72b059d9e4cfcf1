package dev.shears.core.cuda;

import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import dev.shears.kernels.ThresholdPlan;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The batched radix select against the CPU backend and a sort: exact (same float bits, same
 * below/equal counts), both scopes, both histogram kernels, with zeros, -0.0, ties, tensors of one
 * element and tensors straddling the 32768-element tile boundary.
 */
class MagnitudeThresholdParityIT extends GpuParityFixture {
    private static final int[] SIZES = {1, 7, 300, 32767, 32768, 32769, 100_000, 250_003};

    private List<float[]> data(long seed, double zeros) {
        List<float[]> out = new ArrayList<>();
        for (int i = 0; i < SIZES.length; i++) out.add(Parity.weights(SIZES[i], seed + i, zeros));
        return out;
    }

    private void compare(List<float[]> data, long[] k, boolean global, ThresholdPlan.Variant variant) {
        int t = data.size();
        List<Tensor> g = new ArrayList<>(), c = new ArrayList<>();
        long[] pointers = new long[t], sizes = new long[t];
        for (int i = 0; i < t; i++) {
            Tensor gt = keep(gpu.upload(data.get(i), Shape.of(data.get(i).length)));
            g.add(gt);
            c.add(cpu.upload(data.get(i), Shape.of(data.get(i).length)));
            pointers[i] = ((CudaTensor) gt).pointer();
            sizes[i] = data.get(i).length;
        }
        float[] tc = new float[t], tg = new float[t];
        long[] bc = new long[t], bg = new long[t], ec = new long[t], eg = new long[t];
        cpu.magnitudeThresholds(c, k, global, tc, bc, ec);
        if (variant == ThresholdPlan.Variant.TILED) {
            gpu.magnitudeThresholds(g, k, global, tg, bg, eg);
        } else {
            gpu.thresholdKernels().select(pointers, new ThresholdPlan(sizes, k, global, variant), tg, bg, eg);
        }
        String what = variant + (global ? " global" : " layer") + " k=" + Arrays.toString(k);
        Parity.assertBitExact(what + " thresholds", tc, tg);
        assertArrayEquals(bc, bg, what + " below");
        assertArrayEquals(ec, eg, what + " equal");
    }

    @Test
    void layerScopeMatchesTheCpuExactly() {
        for (ThresholdPlan.Variant v : ThresholdPlan.Variant.values()) {
            for (double zeros : new double[] {0.0, 0.5, 0.95}) {
                List<float[]> d = data(11, zeros);
                for (double s : new double[] {0.5, 0.9, 0.95, 1.0}) {
                    long[] k = new long[d.size()];
                    for (int i = 0; i < k.length; i++) k[i] = Math.max(1, Math.round(s * d.get(i).length));
                    compare(d, k, false, v);
                }
            }
        }
    }

    @Test
    void globalScopeMatchesTheCpuExactly() {
        for (ThresholdPlan.Variant v : ThresholdPlan.Variant.values()) {
            for (double zeros : new double[] {0.0, 0.6}) {
                List<float[]> d = data(23, zeros);
                long total = d.stream().mapToLong(a -> a.length).sum();
                for (long k : new long[] {1, total / 2, (long) (0.9 * total), total - 1, total}) {
                    compare(d, new long[] {k}, true, v);
                }
            }
        }
    }

    @Test
    void agreesWithASortIncludingTies() {
        float[] w = Parity.weights(70_001, 5, 0.3);
        Tensor t = keep(gpu.upload(w, Shape.of(w.length)));
        int[] keys = new int[w.length];
        for (int i = 0; i < w.length; i++) keys[i] = Float.floatToRawIntBits(w[i]) & 0x7FFFFFFF;
        Arrays.sort(keys);
        for (long k : new long[] {1, 20_000, 21_000, 35_000, 70_001}) {
            float[] thr = new float[1];
            long[] below = new long[1], equal = new long[1];
            gpu.magnitudeThresholds(List.of(t), new long[] {k}, false, thr, below, equal);
            int expect = keys[(int) k - 1];
            assertEquals(expect, Float.floatToRawIntBits(thr[0]), "k=" + k);
            long lt = Arrays.stream(keys).filter(x -> x < expect).count(), eq = Arrays.stream(keys).filter(x -> x == expect).count();
            assertEquals(lt, below[0], "below, k=" + k);
            assertEquals(eq, equal[0], "equal, k=" + k);
            assertTrue(below[0] < k && k <= below[0] + equal[0]);
        }
    }

    @Test
    void rejectsRanksOutsideTheTensorBeforeLaunching() {
        Tensor t = keep(gpu.upload(new float[10], Shape.of(10)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> gpu.magnitudeThresholds(List.of(t), new long[] {11}, false, new float[1], new long[1], new long[1]));
        assertTrue(e.getMessage().contains("k=11"), e.getMessage());
    }
}
