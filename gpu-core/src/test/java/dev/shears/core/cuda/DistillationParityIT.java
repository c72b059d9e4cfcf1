package dev.shears.core.cuda;

import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The distillation kernel (distillation.cu) against its CPU twin, CpuBackend.distillation, on 517
 * rows (many blocks of 8 warps) of 10, 33 and 1000 columns (one lane's columns and rows wider than
 * a warp), at T = 1, 2 and 4, every tenth row scaled by 500 (logits up to +-4000: the softmaxes
 * underflow to one-hot in float). dLogits starts from random values, so adding (not writing) is
 * checked. Tolerances, and why:
 * <ul>
 *   <li>gradient 1e-6 + 1e-4 relative: one float expression per element from a float row max and
 *       log-sum (the CPU works in double), values at most weight * T * gradScale in size;</li>
 *   <li>loss 1e-6 * |loss| + 1e-3 per extreme row: a float sum of cols terms per row against a
 *       double one; a row of extreme logits holds terms of size up to 8000 / T whose float
 *       rounding (ulp(8000) = 4.9e-4) the double sum does not share.</li>
 * </ul>
 * The capture form (distillationIntoStep) is checked by the trainer's CUDA-graph test.
 */
class DistillationParityIT extends GpuParityFixture {

    @Test
    void lossAndGradientMatchTheCpu() {
        int rows = 517;
        for (int cols : new int[] {10, 33, 1000}) {
            int n = rows * cols;
            float[] s = Parity.uniform(n, cols, -8, 8), t = Parity.uniform(n, cols + 1, -8, 8);
            int extreme = 0;
            for (int r = 0; r < rows; r += 10, extreme++)
                for (int j = 0; j < cols; j++) {
                    s[r * cols + j] *= 500;
                    t[r * cols + j] *= 500;
                }
            float[] d0 = Parity.uniform(n, cols + 2, -1, 1);
            for (float temp : new float[] {1, 2, 4}) {
                String what = "cols=" + cols + " T=" + temp;
                float weight = 0.7f, gradScale = 1f / rows;
                Tensor cs = cpu.upload(s, Shape.of(rows, cols)), ct = cpu.upload(t, Shape.of(rows, cols)), cd = cpu.upload(d0, Shape.of(rows, cols));
                Tensor gs = keep(gpu.upload(s, Shape.of(rows, cols))), gt = keep(gpu.upload(t, Shape.of(rows, cols)));
                Tensor gd = keep(gpu.upload(d0, Shape.of(rows, cols)));
                double lc = cpu.distillation(cs, ct, cd, weight, temp, gradScale, rows, cols);
                double lg = gpu.distillation(gs, gt, gd, weight, temp, gradScale, rows, cols);
                assertTrue(Double.isFinite(lg) && lg > 0, what + ": loss " + lg);
                Parity.assertClose("distillation loss " + what, lc, lg, 1e-3 * extreme, 1e-6);
                float[] want = cpu.download(cd), got = gpu.download(gd);
                Parity.assertClose("distillation gradient " + what, want, got, 1e-6, 1e-4);
                // the gradient moved dLogits: the test would not pass with a kernel that adds nothing
                double moved = 0;
                for (int i = 0; i < n; i++) moved = Math.max(moved, Math.abs(got[i] - d0[i]));
                assertTrue(moved > 1e-4, what + ": dLogits barely changed (" + moved + ")");
                // the loss alone (no gradient) is the same number
                assertEquals(lg, gpu.distillation(gs, gt, null, weight, temp, gradScale, rows, cols), 1e-9 * lg, what);
                cs.close();
                ct.close();
                cd.close();
            }
        }
    }

    @Test
    void equalLogitsGiveZeroLossAndLeaveDLogits() {
        int rows = 40, cols = 37;
        float[] x = Parity.uniform(rows * cols, 11, -30, 30), d0 = Parity.uniform(rows * cols, 12, -1, 1);
        Tensor gx = keep(gpu.upload(x, Shape.of(rows, cols))), gd = keep(gpu.upload(d0, Shape.of(rows, cols)));
        assertEquals(0, gpu.distillation(gx, gx, gd, 1f, 2f, 1f, rows, cols), 1e-4);
        Parity.assertClose("dLogits after KL(p || p)", d0, gpu.download(gd), 1e-6, 0);
    }

    /**
     * Large logits (+-4000) at T = 3, where 1/T is not a power of two: the scaled logits x/T round
     * in float (ulp(1333) = 1.2e-4), so the kernel takes each logit's difference from the row max
     * (exact in float) before scaling. With weight and gradScale 1 and dLogits from 0 the gradient
     * is T * (q - p) itself, not hidden under a 1/rows scale; the teacher is the student plus a
     * little noise, so p and q overlap and are far from one-hot.
     */
    @Test
    void largeLogitsAtATemperatureNotAPowerOfTwoKeepTheGradientPrecise() {
        int rows = 64, cols = 100;
        float temp = 3;
        float[] s = Parity.uniform(rows * cols, 21, -4000, 4000), t = s.clone(), noise = Parity.uniform(rows * cols, 22, -2, 2);
        for (int i = 0; i < t.length; i++) t[i] += noise[i];
        float[] want;
        try (Tensor cs = cpu.upload(s, Shape.of(rows, cols)); Tensor ct = cpu.upload(t, Shape.of(rows, cols)); Tensor cd = cpu.zeros(rows, cols)) {
            cpu.distillation(cs, ct, cd, 1f, temp, 1f, rows, cols);
            want = cpu.download(cd);
        }
        Tensor gs = keep(gpu.upload(s, Shape.of(rows, cols))), gt = keep(gpu.upload(t, Shape.of(rows, cols)));
        Tensor gd = keep(gpu.zeros(rows, cols));
        gpu.distillation(gs, gt, gd, 1f, temp, 1f, rows, cols);
        double largest = 0;
        for (float v : want) largest = Math.max(largest, Math.abs(v));
        assertTrue(largest > 0.1, "the test needs gradients well away from 0, got at most " + largest);
        Parity.assertClose("distillation gradient at T=3, logits +-4000", want, gpu.download(gd), 2e-6, 1e-5);
    }

    /**
     * A row whose logits span more than the float range (3e38 - -3e38 overflows to -inf): the
     * probability there is 0 in both softmaxes, and its KL term 0 * (-inf - -inf) must count as 0,
     * not NaN. The other row is ordinary, so the loss is the CPU's.
     */
    @Test
    void logitsSpanningMoreThanTheFloatRangeGiveAFiniteLoss() {
        int rows = 2, cols = 3;
        float[] s = {3e38f, -3e38f, 0, 1, 2, 3}, t = {3e38f, -3e38f, 0, 3, 2, 1};
        double want;
        try (Tensor cs = cpu.upload(s, Shape.of(rows, cols)); Tensor ct = cpu.upload(t, Shape.of(rows, cols))) {
            want = cpu.distillation(cs, ct, null, 1f, 2f, 1f, rows, cols);
        }
        Tensor gs = keep(gpu.upload(s, Shape.of(rows, cols))), gt = keep(gpu.upload(t, Shape.of(rows, cols)));
        Tensor gd = keep(gpu.zeros(rows, cols));
        double got = gpu.distillation(gs, gt, gd, 1f, 2f, 1f, rows, cols);
        assertTrue(want > 0.1, "the test needs a loss well above 0, got " + want);
        Parity.assertClose("distillation loss over the float range", want, got, 1e-6, 1e-5);
        for (float v : gpu.download(gd)) assertTrue(Float.isFinite(v), "gradient " + v);
    }
}
