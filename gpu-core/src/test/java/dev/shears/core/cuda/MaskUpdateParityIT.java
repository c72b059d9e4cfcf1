package dev.shears.core.cuda;

import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Mask update with the tie rule and mask apply against the CPU backend: exact masks, weights and
 * counts; sizes spanning many 4096-element tie chunks and ragged ends; ties masked before, ties
 * to prune fewer than, equal to and more than the unmasked ties.
 */
class MaskUpdateParityIT extends GpuParityFixture {
    private void compare(float[] w, byte[] m, float threshold, long ties, String what) {
        Shape s = Shape.of(w.length);
        Tensor cw = cpu.upload(w, s), cm = cpu.uploadBytes(m, s);
        long ones = cpu.updateMask(cw, cm, threshold, ties);
        try (Tensor gw = gpu.upload(w, s); Tensor gm = gpu.uploadBytes(m, s)) {
            long gOnes = gpu.updateMask(gw, gm, threshold, ties);
            assertEquals(ones, gOnes, what + ": ones");
            Parity.assertExact(what + ": mask", cpu.downloadBytes(cm), gpu.downloadBytes(gm));
            Parity.assertBitExact(what + ": weights", cpu.download(cw), gpu.download(gw));
        }
    }

    @Test
    void updateMaskMatchesTheCpuForEveryTieCase() {
        for (int n : new int[] {1, 4095, 4096, 4097, 50_000, 1_000_003}) {
            float[] w = Parity.weights(n, n, 0.3);
            byte[] m = Parity.mask(n, n + 1, 0.8);
            for (int i = 0; i < n; i++) if (m[i] == 0) w[i] = 0f; // masked weights are zero
            // thresholds: the tie value (many ties), zero (masked ties count first), a plain value
            for (float thr : new float[] {0.03125f, 0f, 0.01f}) {
                for (long ties : new long[] {0, 1, 37, n / 10, n}) {
                    compare(w, m, thr, ties, "n=" + n + " threshold=" + thr + " ties=" + ties);
                }
            }
        }
    }

    /**
     * The N:M update against the CPU twin on the layouts the pruner passes: Conv2D kernels
     * (out, in, kh*kw), groups of input channels at each output and kernel position (NVIDIA's
     * grouping), with a short last group, a 1x1 kernel and a Dense kernel (1, in, out); from an
     * all-ones mask and from a mask already holding zeros (masks only gain zeros). Exact masks,
     * bit-exact weights and counts: the rule is a comparison, no arithmetic to round.
     */
    @Test
    void updateMaskNmMatchesTheCpuOnConvAndDenseLayouts() {
        // {outer, k, inner, keep, m}
        long[][] layouts = {{64, 32, 9, 2, 4}, {16, 6, 25, 2, 4}, {32, 64, 1, 2, 4}, {1, 300, 100, 2, 4}, {12, 20, 9, 3, 8}};
        int seed = 900;
        for (long[] l : layouts) {
            int n = (int) (l[0] * l[1] * l[2]), keep = (int) l[3], m = (int) l[4];
            for (double ones : new double[] {1.0, 0.7}) {
                float[] w = Parity.weights(n, seed++, 0.3);
                byte[] mask = Parity.mask(n, seed++, ones);
                for (int i = 0; i < n; i++) if (mask[i] == 0) w[i] = 0f;
                String what = "updateMaskNm [" + l[0] + ", " + l[1] + ", " + l[2] + "] keep " + keep + " of " + m + " from " + ones + " ones";
                Shape s = Shape.of(n);
                Tensor cw = cpu.upload(w, s), cm = cpu.uploadBytes(mask, s);
                long cOnes = cpu.updateMaskNm(cw, cm, l[0], l[1], l[2], keep, m);
                try (Tensor gw = gpu.upload(w, s); Tensor gm = gpu.uploadBytes(mask, s)) {
                    assertEquals(cOnes, gpu.updateMaskNm(gw, gm, l[0], l[1], l[2], keep, m), what + ": ones");
                    Parity.assertExact(what + ": mask", cpu.downloadBytes(cm), gpu.downloadBytes(gm));
                    Parity.assertBitExact(what + ": weights", cpu.download(cw), gpu.download(gw));
                }
            }
        }
    }

    @Test
    void applyMaskMatchesTheCpu() {
        int n = 333_333;
        float[] w = Parity.uniform(n, 3, -1, 1);
        byte[] m = Parity.mask(n, 4, 0.3);
        Tensor cw = cpu.upload(w, Shape.of(n)), cm = cpu.uploadBytes(m, Shape.of(n));
        long ones = cpu.applyMask(cw, cm);
        try (Tensor gw = gpu.upload(w, Shape.of(n)); Tensor gm = gpu.uploadBytes(m, Shape.of(n))) {
            assertEquals(ones, gpu.applyMask(gw, gm));
            Parity.assertBitExact("applyMask", cpu.download(cw), gpu.download(gw));
        }
    }

    @Test
    void negativeTiesAreRejected() {
        try (Tensor w = gpu.upload(new float[4], Shape.of(4)); Tensor m = gpu.uploadBytes(new byte[4], Shape.of(4))) {
            assertThrows(IllegalArgumentException.class, () -> gpu.updateMask(w, m, 0f, -1));
        }
    }
}
