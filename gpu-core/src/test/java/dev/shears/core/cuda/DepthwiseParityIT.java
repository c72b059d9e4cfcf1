package dev.shears.core.cuda;

import dev.shears.core.backend.ConvGeometry;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Parameter;
import dev.shears.core.nn.layers.Conv2D;
import dev.shears.core.nn.layers.Conv2DLayoutOverride;
import dev.shears.core.tensor.DType;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * depthwise.cu against its CPU twin (CpuDepthwise and Depthwise3x3 through CpuBackend.depthwiseConv
 * and depthwiseConvBackward) on seeded random inputs: 3x3 kernels at stride 1 and 2 (Depthwise3x3's
 * path), depth multipliers 1, 2 and 3, odd sizes, asymmetric padding, dilation, non-square and 5x5
 * kernels (CpuDepthwise's general loops), more output positions than a block has threads (the
 * kernel gradient's strided loop), and few weights over many positions (the kernel gradient split
 * over several blocks a weight). Then a depthwise Conv2D on the CUDA backend takes the direct
 * kernel (one launch forward) and agrees with the grouped GEMM path it replaced, which other
 * grouped convolutions keep.
 *
 * <p>Tolerances ({@code |gpu - cpu| <= atol + rtol * |cpu|}; inputs, kernels and dy uniform in
 * [-1, 1]), and why:
 * <ul>
 * <li>forward: the same float products, added in the same (ki, kj) order as the CPU's: equal but
 *     for the sign of a zero; atol 1e-6, rtol 1e-6 (a few ulp of outputs up to ~9), in case a
 *     compiler reorders. Measured on the emulator: 0.</li>
 * <li>input gradient: at most m*kh*kw products, added by the CPU in output-row order for 3x3
 *     kernels (Depthwise3x3) and in tap order otherwise, by the kernel in tap order: only the
 *     order differs, a few ulp of sums up to ~25; atol 1e-5, rtol 1e-5. Measured: at most 9.5e-7
 *     (3x3), 0 (other kernels: the same order).</li>
 * <li>kernel gradient: up to n*outH*outW = 1,183 products per weight in one CPU running sum here
 *     (Depthwise3x3; the general path sums each image's, at most 840, then adds the images'), which
 *     the kernel adds in double, rounding once, so the difference is the CPU's own float rounding:
 *     a random walk of about u * sqrt(count) * |partial sum| (u = 2^-24, partial sums up to
 *     ~sqrt(count) / 3 for these inputs), ~2e-5 at 1,183 products; atol 2e-4 (ten times that),
 *     rtol 1e-5. Measured: 1.2e-5 (588 products), 2.5e-5 (1,183), 1.7e-5 (4,200 in 5 images, the
 *     kernel gradient split over blocks).</li>
 * </ul>
 * The kernel gradient is added to a gradient that starts at seeded values (accumulation checked);
 * dx and y start as NaN, so an element the kernels skipped shows.
 */
class DepthwiseParityIT extends GpuParityFixture {
    static final double FA = 1e-6, FR = 1e-6, XA = 1e-5, XR = 1e-5, WA = 2e-4, WR = 1e-5;

    @AfterEach void restore() { Conv2DLayoutOverride.directDepthwise(true); }

    record Case(int channels, int multiplier, int h, int w, int kh, int kw, int sh, int sw,
                int top, int left, int bottom, int right, int dilation, int batch) {
        ConvGeometry geometry() {
            return new ConvGeometry(channels, h, w, kh, kw, sh, sw, top, left, bottom, right, dilation, dilation, false);
        }

        static Case square(int channels, int multiplier, int size, int k, int stride, int pad, int batch) {
            return new Case(channels, multiplier, size, size, k, k, stride, stride, pad, pad, pad, pad, 1, batch);
        }

        long inputs() { return (long) batch * channels * h * w; }
        long weights() { return (long) channels * multiplier * kh * kw; }
        long outputs() { ConvGeometry g = geometry(); return (long) batch * channels * multiplier * g.outH() * g.outW(); }
    }

    /** Largest |gpu - cpu| of a and b. */
    private static double worst(float[] a, float[] b) {
        double w = 0;
        for (int i = 0; i < a.length; i++) w = Math.max(w, Math.abs(a[i] - b[i]));
        return w;
    }

    /** The three results of both backends for one case; their largest differences (forward, dx, dW), for the record. */
    private double[] check(Case c, long seed) {
        ConvGeometry g = c.geometry();
        int m = c.multiplier(), n = c.batch();
        float[] x = Parity.uniform((int) c.inputs(), seed, -1, 1), w = Parity.uniform((int) c.weights(), seed + 1, -1, 1);
        float[] dy = Parity.uniform((int) c.outputs(), seed + 2, -1, 1), dW0 = Parity.uniform((int) c.weights(), seed + 3, -1, 1);
        Shape xs = Shape.of(n, c.channels(), c.h(), c.w()), ws = Shape.of(c.channels() * m, 1, c.kh(), c.kw());
        Shape ys = Shape.of(n, c.channels() * m, g.outH(), g.outW());
        Tensor cx = cpu.upload(x, xs), cw = cpu.upload(w, ws), cdy = cpu.upload(dy, ys), cdW = cpu.upload(dW0, ws);
        Tensor cy = cpu.allocate(ys, DType.FLOAT32), cdx = cpu.allocate(xs, DType.FLOAT32);
        cpu.depthwiseConv(cx, cw, cy, g, n, m);
        cpu.depthwiseConvBackward(cx, cw, cdy, cdx, cdW, g, n, m);
        try (Tensor gx = gpu.upload(x, xs); Tensor gw = gpu.upload(w, ws); Tensor gdy = gpu.upload(dy, ys);
             Tensor gdW = gpu.upload(dW0, ws); Tensor gy = gpu.allocate(ys, DType.FLOAT32); Tensor gdx = gpu.allocate(xs, DType.FLOAT32)) {
            gpu.fill(gy, Float.NaN);
            gpu.fill(gdx, Float.NaN);
            gpu.depthwiseConv(gx, gw, gy, g, n, m);
            gpu.depthwiseConvBackward(gx, gw, gdy, gdx, gdW, g, n, m);
            float[][] ref = {cpu.download(cy), cpu.download(cdx), cpu.download(cdW)};
            float[][] got = {gpu.download(gy), gpu.download(gdx), gpu.download(gdW)};
            Parity.assertClose("depthwise forward " + c, ref[0], got[0], FA, FR);
            Parity.assertClose("depthwise input gradient " + c, ref[1], got[1], XA, XR);
            Parity.assertClose("depthwise kernel gradient " + c, ref[2], got[2], WA, WR);
            return new double[]{worst(ref[0], got[0]), worst(ref[1], got[1]), worst(ref[2], got[2])};
        }
    }

    /** Prints the largest differences over the cases, so a run records how close the kernels come. */
    private static void record(String what, double[]... cases) {
        double[] w = new double[3];
        for (double[] c : cases) for (int i = 0; i < 3; i++) w[i] = Math.max(w[i], c[i]);
        System.out.println("depthwise " + what + ": largest |gpu - cpu| forward " + w[0] + ", input gradient " + w[1] + ", kernel gradient " + w[2]);
    }

    @Test
    void threeByThreeAtStrideOneAndTwo() {
        record("3x3",
                check(Case.square(16, 1, 14, 3, 1, 1, 3), 1),   // MobileNetV2's stride-1 block
                check(Case.square(24, 1, 14, 3, 2, 1, 2), 11),  // its stride-2 block
                check(Case.square(7, 1, 7, 3, 2, 1, 4), 21),    // odd size at stride 2: 4x4 out
                check(Case.square(5, 1, 9, 3, 1, 0, 2), 31),    // no padding
                check(new Case(3, 1, 11, 6, 3, 3, 2, 1, 0, 2, 1, 1, 1, 3), 41)); // asymmetric stride and padding
    }

    @Test
    void depthMultipliers() {
        record("multipliers",
                check(Case.square(5, 2, 9, 3, 1, 1, 3), 51),
                check(Case.square(4, 2, 8, 3, 2, 1, 2), 61),
                check(new Case(3, 3, 10, 8, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2), 71)); // multiplier 3, dilation 2
    }

    @Test
    void otherKernelsDilationAndAsymmetricPadding() {
        record("other kernels",
                check(new Case(5, 2, 9, 11, 3, 5, 1, 2, 0, 2, 1, 1, 1, 3), 81), // non-square kernel, asymmetric padding and stride
                check(Case.square(4, 1, 5, 5, 1, 0, 2), 91),                       // kernel as big as the image: 1x1 out
                check(Case.square(6, 1, 13, 5, 2, 2, 2), 101),                     // 5x5 at stride 2
                check(new Case(6, 1, 4, 4, 3, 3, 3, 3, 2, 2, 2, 2, 1, 5), 111),    // stride 3, more padding than input per tap
                check(new Case(2, 1, 9, 7, 1, 1, 1, 1, 0, 0, 0, 0, 1, 2), 121));   // 1x1 kernel
    }

    @Test
    void moreOutputPositionsThanABlockHasThreads() {
        // 7 * 13 * 13 = 1,183 products per weight: each thread of the kernel-gradient block takes several
        record("1,183 products per weight", check(Case.square(3, 2, 13, 3, 1, 1, 7), 131));
    }

    @Test
    void kernelGradientSplitOverBlocksWhenTheWeightsAreFew() {
        // 6 weights of 4,200 products each: DepthwiseKernels splits each weight over several blocks
        // (ChannelParts: on any GPU of 2 or more SMs, the emulator's included), partial sums then a finishing launch
        Case c = new Case(1, 2, 30, 30, 1, 3, 1, 1, 0, 0, 0, 0, 1, 5);
        record("split kernel gradient", check(c, 141));
        ConvGeometry g = c.geometry();
        Shape xs = Shape.of(5, 1, 30, 30), ws = Shape.of(2, 1, 1, 3), ys = Shape.of(5, 2, g.outH(), g.outW());
        try (Tensor x = gpu.upload(Parity.uniform((int) c.inputs(), 1, -1, 1), xs);
             Tensor dy = gpu.upload(Parity.uniform((int) c.outputs(), 2, -1, 1), ys);
             Tensor w = gpu.allocate(ws, DType.FLOAT32); Tensor a = gpu.allocate(ws, DType.FLOAT32); Tensor b = gpu.allocate(ws, DType.FLOAT32)) {
            long before = gpu.launchesIssued();
            gpu.depthwiseConvBackward(x, w, dy, null, a, g, 5, 2);
            assertEquals(2, gpu.launchesIssued() - before, "partial sums and the finishing launch");
            gpu.depthwiseConvBackward(x, w, dy, null, b, g, 5, 2);
            Parity.assertBitExact("split kernel gradient, second run", gpu.download(a), gpu.download(b));
        }
    }

    @Test
    void eachGradientAloneAndTheSameBitsRunToRun() {
        Case c = Case.square(6, 2, 11, 3, 2, 1, 3);
        ConvGeometry g = c.geometry();
        Shape xs = Shape.of(3, 6, 11, 11), ws = Shape.of(12, 1, 3, 3), ys = Shape.of(3, 12, g.outH(), g.outW());
        float[] dW0 = Parity.uniform(108, 5, -1, 1);
        try (Tensor x = gpu.upload(Parity.uniform((int) c.inputs(), 1, -1, 1), xs); Tensor w = gpu.upload(Parity.uniform(108, 2, -1, 1), ws);
             Tensor dy = gpu.upload(Parity.uniform((int) c.outputs(), 3, -1, 1), ys);
             Tensor dxBoth = gpu.allocate(xs, DType.FLOAT32); Tensor dxAlone = gpu.allocate(xs, DType.FLOAT32);
             Tensor dWBoth = gpu.upload(dW0, ws); Tensor dWAlone = gpu.upload(dW0, ws); Tensor dWAgain = gpu.upload(dW0, ws)) {
            gpu.depthwiseConvBackward(x, w, dy, dxBoth, dWBoth, g, 3, 2);
            gpu.depthwiseConvBackward(x, w, dy, dxAlone, null, g, 3, 2);
            gpu.depthwiseConvBackward(x, w, dy, null, dWAlone, g, 3, 2);
            gpu.depthwiseConvBackward(x, w, dy, null, dWAgain, g, 3, 2);
            Parity.assertBitExact("input gradient without the kernel gradient", gpu.download(dxBoth), gpu.download(dxAlone));
            Parity.assertBitExact("kernel gradient without the input gradient", gpu.download(dWBoth), gpu.download(dWAlone));
            Parity.assertBitExact("kernel gradient, second run", gpu.download(dWAlone), gpu.download(dWAgain));
        }
    }

    @Test
    void badArgumentsAreRefusedAsOnTheCpu() {
        ConvGeometry g = Case.square(4, 1, 6, 3, 1, 1, 2).geometry();
        Shape xs = Shape.of(2, 4, 6, 6), ws = Shape.of(4, 1, 3, 3);
        try (Tensor x = gpu.allocate(xs, DType.FLOAT32); Tensor w = gpu.allocate(ws, DType.FLOAT32); Tensor y = gpu.allocate(xs, DType.FLOAT32)) {
            Tensor cx = cpu.allocate(xs, DType.FLOAT32), cw = cpu.allocate(ws, DType.FLOAT32), cy = cpu.allocate(xs, DType.FLOAT32);
            // multiplier 0; multiplier 2 against a kernel sized for 1
            for (int m : new int[]{0, 2}) {
                String onGpu = assertThrows(IllegalArgumentException.class, () -> gpu.depthwiseConv(x, w, y, g, 2, m)).getMessage();
                String onCpu = assertThrows(IllegalArgumentException.class, () -> cpu.depthwiseConv(cx, cw, cy, g, 2, m)).getMessage();
                assertEquals(onCpu.replace(cw.toString(), "KERNEL"), onGpu.replace(w.toString(), "KERNEL"));
                assertTrue(onGpu.contains(m == 0 ? "multiplier 0 must be at least 1" : "depthwiseConv kernel: expected 72 elements"), onGpu);
            }
            var dx = assertThrows(IllegalArgumentException.class, () -> gpu.depthwiseConvBackward(x, w, y, w, null, g, 2, 1));
            assertTrue(dx.getMessage().contains("depthwiseConvBackward dx: expected 288 elements"), dx.getMessage());
        }
    }

    /** A depthwise Conv2D's forward output, input gradient and kernel gradient on {@code b}. */
    private static float[][] runConv(CudaBackend b, Conv2D c, float[] x, Shape xs, float[] k, float[] dy) {
        Parameter kernel = c.kernel();
        kernel.setValue(b.upload(k, kernel.shape()));
        kernel.setGrad(b.allocate(kernel.shape(), DType.FLOAT32));
        ExecContext ctx = new ExecContext(b, true, 0);
        Tensor xt = b.upload(x, xs);
        long before = b.launchesIssued();
        Tensor y = c.forward(ctx, List.of(xt));
        long forwardLaunches = b.launchesIssued() - before;
        Tensor dyt = b.upload(dy, y.shape());
        Tensor dx = c.backward(ctx, dyt, true).get(0);
        return new float[][]{b.download(y), b.download(dx), b.download(kernel.grad()), {forwardLaunches}};
    }

    @Test
    void aDepthwiseConv2DTakesTheDirectKernelAndOtherGroupedConvsTheGemms() {
        // RELEASE: the layer's output and gradient buffers are its own for its life (a Layer has no close)
        try (CudaBackend b = CudaBackend.create(0, CudaBackend.LeakPolicy.RELEASE)) {
            Conv2D dw = new Conv2D("dw", 8, 16, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 8, false);
            Shape xs = Shape.of(4, 8, 9, 9);
            float[] x = Parity.uniform((int) xs.size(), 7, -1, 1), k = Parity.uniform(16 * 9, 8, -1, 1);
            float[] dy = Parity.uniform(4 * 16 * 5 * 5, 9, -1, 1);
            float[][] direct = runConv(b, dw, x, xs, k, dy);
            assertEquals(1, direct[3][0], "launches of a depthwise forward without bias");
            Conv2DLayoutOverride.directDepthwise(false);
            float[][] gemm = runConv(b, dw, x, xs, k, dy);
            assertTrue(gemm[3][0] > 1, "the grouped GEMM path launches an im2col and GEMMs: " + gemm[3][0]);
            Parity.assertClose("direct vs grouped GEMM forward", gemm[0], direct[0], FA, 1e-5);
            Parity.assertClose("direct vs grouped GEMM input gradient", gemm[1], direct[1], XA, XR);
            Parity.assertClose("direct vs grouped GEMM kernel gradient", gemm[2], direct[2], WA, WR);
            Conv2DLayoutOverride.directDepthwise(true);
            // two groups of four channels: not depthwise, the GEMM path even with the direct kernel on
            Conv2D grouped = new Conv2D("g2", 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2, false);
            assertFalse(grouped.depthwise());
            float[][] g2 = runConv(b, grouped, x, xs, Parity.uniform(8 * 4 * 9, 10, -1, 1), Parity.uniform(4 * 8 * 81, 11, -1, 1));
            assertTrue(g2[3][0] > 1, "a two-group conv took " + g2[3][0] + " launches: not the GEMM path");
        }
    }
}
