package dev.shears.core.cuda;

import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.tensor.DType;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * lrn.cu against its CPU twins (HostKernels.lrn and HostKernels.lrnBackward through CpuBackend)
 * on seeded random inputs: odd and even window sizes, size 1, fewer channels than the window, one
 * channel, one column per sample (inner 1), columns wider than a warp, AlexNet's parameters over
 * 96 channels, and values spanning twelve orders of magnitude (a sliding float sum would keep a
 * residue of the large squares after they leave the window).
 *
 * <p>Tolerances ({@code |gpu - cpu| <= atol + rtol * |cpu|}), and why: the CPU twin works in
 * double and rounds once; the kernels sum in double too, but round d to float and raise it with
 * powf, which CUDA documents as a few ulp from the correctly rounded value (Java's Math.pow is
 * within 1 ulp of the double result). Forward, y = x * d^-beta carries a few ulp (~1e-7 each):
 * atol 1e-6, rtol 1e-5, about ten times the few-ulp error expected on a GPU. Backward, dx is the
 * difference of two terms of magnitude up to ~1 here (|dy| <= 1, d >= bias >= 0.5), each a few
 * ulp off, and they can cancel, so the bound is absolute: atol 2e-6 (several ulp of the terms),
 * rtol 1e-5. Measured on the emulator (host libm powf): forward at most 1.2e-7 absolute and
 * 1.3e-7 relative, backward at most 1.2e-7 absolute; a float running sum instead of the double
 * one misses by 3e-3 on the wide-range case.
 */
class LrnParityIT extends GpuParityFixture {
    static final double FA = 1e-6, FR = 1e-5, BA = 2e-6, BR = 1e-5;

    record Case(int outer, int channels, int inner, int size, float alpha, float beta, float bias) {}

    /** Forward and backward on both backends for x and dy; fails naming the case. */
    private void check(Case c, float[] x, float[] dy) {
        int n = c.outer() * c.channels() * c.inner();
        Shape s = Shape.of(c.outer(), c.channels(), c.inner());
        Tensor cx = cpu.upload(x, s), cdy = cpu.upload(dy, s), cyy = cpu.allocate(s, DType.FLOAT32), cdx = cpu.allocate(s, DType.FLOAT32);
        cpu.lrn(cx, cyy, c.outer(), c.channels(), c.inner(), c.size(), c.alpha(), c.beta(), c.bias());
        cpu.lrnBackward(cx, cdy, cdx, c.outer(), c.channels(), c.inner(), c.size(), c.alpha(), c.beta(), c.bias());
        try (Tensor gx = gpu.upload(x, s); Tensor gdy = gpu.upload(dy, s);
             Tensor gy = gpu.allocate(s, DType.FLOAT32); Tensor gdx = gpu.allocate(s, DType.FLOAT32)) {
            gpu.fill(gy, Float.NaN); // an element the kernel skipped stays NaN
            gpu.fill(gdx, Float.NaN);
            gpu.lrn(gx, gy, c.outer(), c.channels(), c.inner(), c.size(), c.alpha(), c.beta(), c.bias());
            gpu.lrnBackward(gx, gdy, gdx, c.outer(), c.channels(), c.inner(), c.size(), c.alpha(), c.beta(), c.bias());
            Parity.assertClose("lrn " + c, cpu.download(cyy), gpu.download(gy), FA, FR);
            Parity.assertClose("lrnBackward " + c, cpu.download(cdx), gpu.download(gdx), BA, BR);
        }
    }

    private void check(Case c, long seed) {
        int n = c.outer() * c.channels() * c.inner();
        check(c, Parity.uniform(n, seed, -3, 3), Parity.uniform(n, seed + 1, -1, 1));
    }

    @Test
    void oddAndEvenWindows() {
        check(new Case(3, 16, 45, 5, 1f, 0.75f, 1f), 1);    // odd; 45 columns: a warp and a partial one
        check(new Case(2, 13, 33, 4, 0.5f, 0.75f, 2f), 3);  // even: one more channel after than before
        check(new Case(2, 11, 20, 3, 2f, 0.6f, 1f), 5);
        check(new Case(2, 11, 20, 6, 2f, 0.6f, 1f), 7);
        check(new Case(4, 7, 10, 1, 2f, 0.5f, 1f), 9);      // the channel alone
        check(new Case(2, 200, 40, 5, 1f, 0.75f, 1f), 11);  // a long walk
    }

    @Test
    void fewerChannelsThanTheWindow() {
        check(new Case(2, 3, 40, 7, 1f, 0.75f, 1f), 21);    // odd window wider than the channels on both sides
        check(new Case(3, 4, 17, 8, 1.5f, 0.6f, 0.5f), 23); // even
        check(new Case(2, 2, 9, 3, 1f, 0.75f, 1f), 25);
        check(new Case(5, 1, 20, 3, 1f, 0.75f, 1f), 27);    // one channel
    }

    @Test
    void oneColumnPerSampleAndAlexNetParameters() {
        check(new Case(64, 9, 1, 6, 1f, 0.75f, 1f), 31);
        check(new Case(2, 96, 9, 5, 1e-4f, 0.75f, 2f), 33);
    }

    @Test
    void largeSquaresLeaveNoResidueWhenTheyLeaveTheWindow() {
        Case c = new Case(2, 64, 33, 3, 1f, 0.75f, 1f);
        int n = c.outer() * c.channels() * c.inner();
        SplittableRandom r = new SplittableRandom(41);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) ((r.nextDouble() * 2 - 1) * (r.nextInt(8) == 0 ? 1e3 : 1e-3));
        check(c, x, Parity.uniform(n, 42, -1, 1));
    }

    @Test
    void badArgumentsAreRefusedAsOnTheCpu() {
        Shape s = Shape.of(2, 3, 4);
        try (Tensor x = gpu.allocate(s, DType.FLOAT32); Tensor y = gpu.allocate(s, DType.FLOAT32)) {
            Tensor cx = cpu.allocate(s, DType.FLOAT32), cy = cpu.allocate(s, DType.FLOAT32);
            String gpuSize = assertThrows(IllegalArgumentException.class, () -> gpu.lrn(x, y, 2, 3, 4, 0, 1f, 0.75f, 1f)).getMessage();
            String cpuSize = assertThrows(IllegalArgumentException.class, () -> cpu.lrn(cx, cy, 2, 3, 4, 0, 1f, 0.75f, 1f)).getMessage();
            assertEquals(cpuSize, gpuSize);
            assertTrue(gpuSize.contains("lrn: window size 0 < 1"), gpuSize);
            var layout = assertThrows(IllegalArgumentException.class, () -> gpu.lrn(x, y, 2, 4, 4, 3, 1f, 0.75f, 1f));
            assertTrue(layout.getMessage().contains("lrn x:") && layout.getMessage().contains("channels=4"), layout.getMessage());
            for (var inPlace : List.<Runnable>of(() -> gpu.lrn(x, x, 2, 3, 4, 3, 1f, 0.75f, 1f),
                    () -> gpu.lrnBackward(x, y, y, 2, 3, 4, 3, 1f, 0.75f, 1f))) {
                var e = assertThrows(IllegalArgumentException.class, inPlace::run);
                assertTrue(e.getMessage().contains("cannot run in place"), e.getMessage());
            }
        }
    }
}
