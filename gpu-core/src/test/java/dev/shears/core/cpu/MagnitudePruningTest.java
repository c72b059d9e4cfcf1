package dev.shears.core.cpu;

import dev.shears.core.backend.Backend;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * magnitudeThresholds + updateMask driven the way a GMP pruner drives them: sparsity rising over
 * many steps, per layer and global (ties at the threshold spread over the tensors in order), on
 * weights with heavy ties and exact zeros. After every step the pruned count equals the target
 * exactly (whenever the target is at least what was already pruned), the threshold equals the
 * sort-based k-th magnitude, and masks only gain zeros.
 */
class MagnitudePruningTest {
    private final Backend be = new CpuBackend(1);

    private static float[] quantised(int n, long seed, int levels, double zeroFraction) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] w = new float[n];
        for (int i = 0; i < n; i++) {
            if (r.nextDouble() < zeroFraction) { w[i] = r.nextBoolean() ? 0f : -0f; continue; }
            float v = (1 + r.nextInt(levels)) / (float) levels;
            w[i] = r.nextBoolean() ? v : -v;
        }
        return w;
    }

    private static float kth(List<float[]> arrays, long k) {
        return dev.shears.core.backend.ReferenceOps.kthMagnitude(arrays, k);
    }

    @Test
    void layerScopeScheduleHitsEveryTargetExactly() {
        int[] sizes = {5000, 1200, 64};
        List<Tensor> ws = new ArrayList<>(), masks = new ArrayList<>();
        for (int t = 0; t < sizes.length; t++) {
            ws.add(be.upload(quantised(sizes[t], 10 + t, 3 + t, 0.05), Shape.of(sizes[t])));
            byte[] ones = new byte[sizes[t]];
            Arrays.fill(ones, (byte) 1);
            masks.add(be.uploadBytes(ones, Shape.of(sizes[t])));
        }
        byte[][] previous = new byte[sizes.length][];
        for (double s : new double[]{0.05, 0.2, 0.2, 0.5, 0.77, 0.9, 0.95, 0.999}) {
            long[] k = new long[sizes.length];
            for (int t = 0; t < sizes.length; t++) k[t] = Math.max(1, Math.round(s * sizes[t]));
            float[] th = new float[sizes.length];
            long[] below = new long[sizes.length], equal = new long[sizes.length];
            List<float[]> host = new ArrayList<>();
            for (Tensor w : ws) host.add(be.download(w));
            be.magnitudeThresholds(ws, k, false, th, below, equal);
            for (int t = 0; t < sizes.length; t++) {
                assertEquals(kth(List.of(host.get(t)), k[t]), th[t], "threshold of layer " + t + " at sparsity " + s);
                long ones = be.updateMask(ws.get(t), masks.get(t), th[t], k[t] - below[t]);
                assertEquals(sizes[t] - k[t], ones, "layer " + t + " at sparsity " + s + ": exactly k pruned");
                byte[] m = be.downloadBytes(masks.get(t));
                if (previous[t] != null) for (int i = 0; i < m.length; i++) if (previous[t][i] == 0) assertEquals(0, m[i], "mask gained a one at " + i);
                previous[t] = m;
            }
        }
    }

    @Test
    void globalScopeSpreadsTiesInTensorOrder() {
        int[] sizes = {3000, 900, 700};
        List<Tensor> ws = new ArrayList<>(), masks = new ArrayList<>();
        for (int t = 0; t < sizes.length; t++) {
            ws.add(be.upload(quantised(sizes[t], 20 + t, 4, 0.1), Shape.of(sizes[t])));
            byte[] ones = new byte[sizes[t]];
            Arrays.fill(ones, (byte) 1);
            masks.add(be.uploadBytes(ones, Shape.of(sizes[t])));
        }
        int total = Arrays.stream(sizes).sum();
        byte[][] previous = new byte[sizes.length][];
        for (double s : new double[]{0.1, 0.3, 0.31, 0.6, 0.9, 0.97}) {
            long k = Math.round(s * total);
            List<float[]> host = new ArrayList<>();
            for (Tensor w : ws) host.add(be.download(w));
            float[] th = new float[sizes.length];
            long[] below = new long[sizes.length], equal = new long[sizes.length];
            be.magnitudeThresholds(ws, new long[]{k}, true, th, below, equal);
            assertEquals(kth(host, k), th[0], "global threshold at sparsity " + s);
            long ties = k - Arrays.stream(below).sum();
            long pruned = 0;
            for (int t = 0; t < sizes.length; t++) {
                long mine = Math.min(ties, equal[t]);
                ties -= mine;
                pruned += sizes[t] - be.updateMask(ws.get(t), masks.get(t), th[t], mine);
                byte[] m = be.downloadBytes(masks.get(t));
                if (previous[t] != null) for (int i = 0; i < m.length; i++) if (previous[t][i] == 0) assertEquals(0, m[i]);
                previous[t] = m;
            }
            assertEquals(0, ties, "every tie to prune found a tensor");
            assertEquals(k, pruned, "global sparsity " + s + ": exactly k pruned over all tensors");
        }
    }

    @Test
    void edgeCasesAllEqualAllZeroSingleElementHugeValues() {
        float[][] cases = {
                new float[100],                                   // all zeros (k-th is 0, all ties)
                filled(77, -0.25f),                               // all equal, negative
                {3f},                                             // one element
                {Float.MAX_VALUE, -Float.MIN_VALUE, 0f, -0f, Float.MIN_NORMAL, 1e-30f, -Float.MAX_VALUE}, // extremes, subnormals, signed zeros
        };
        for (float[] w : cases) {
            for (long k = 1; k <= w.length; k += Math.max(1, w.length / 7)) {
                Tensor t = be.upload(w, Shape.of(w.length));
                float[] th = new float[1];
                long[] below = new long[1], equal = new long[1];
                be.magnitudeThresholds(List.of(t), new long[]{k}, false, th, below, equal);
                float e = kth(List.of(w), k);
                assertEquals(Float.floatToIntBits(e), Float.floatToIntBits(th[0]), "k=" + k + " of " + Arrays.toString(Arrays.copyOf(w, 8)));
                byte[] ones = new byte[w.length];
                Arrays.fill(ones, (byte) 1);
                Tensor m = be.uploadBytes(ones, Shape.of(w.length));
                assertEquals(w.length - k, be.updateMask(t, m, th[0], k - below[0]));
                assertTrue(below[0] < k && k <= below[0] + equal[0]);
            }
        }
    }

    private static float[] filled(int n, float v) {
        float[] a = new float[n];
        Arrays.fill(a, v);
        return a;
    }
}
