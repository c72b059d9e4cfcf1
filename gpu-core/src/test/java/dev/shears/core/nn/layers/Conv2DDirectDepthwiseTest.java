package dev.shears.core.nn.layers;

import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.GradientChecker;
import dev.shears.core.nn.Parameter;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The CPU's direct depthwise convolution (CpuDepthwise, taken by a Conv2D with one group per input
 * channel) against the grouped GEMM path it replaces, on seeded inputs: the output, the input
 * gradient and the kernel gradient (added to what the gradient already held) agree to float
 * rounding over strides, asymmetric padding, dilation, non-square kernels, channel multipliers and
 * odd sizes (3x3 kernels take Depthwise3x3's unrolled loops, the 3x5 and 5x5 ones CpuDepthwise's
 * general loops); and finite differences of the direct path's forward agree with its backward.
 */
class Conv2DDirectDepthwiseTest {
    static CpuBackend cpu;

    @BeforeAll static void setUp() { cpu = new CpuBackend(2); }
    @AfterAll static void tearDown() { cpu.close(); }
    @AfterEach void restore() { Conv2D.useDirectDepthwise = true; }

    private static float[] random(SplittableRandom r, long n) {
        float[] v = new float[(int) n];
        for (int i = 0; i < v.length; i++) v[i] = (float) (r.nextDouble() * 2 - 1);
        return v;
    }

    /** y, dx and dW (dW starting at seeded values, so accumulation shows) of one forward and backward. */
    private static float[][] run(Conv2D c, float[] x, Shape xs, float[] dy, float[] w, float[] dW0, boolean direct) {
        Conv2D.useDirectDepthwise = direct;
        Parameter k = c.kernel();
        k.setValue(cpu.upload(w, k.shape()));
        k.setGrad(cpu.upload(dW0, k.shape()));
        ExecContext ctx = new ExecContext(cpu, true, 0);
        try (Tensor xt = cpu.upload(x, xs)) {
            Tensor y = c.forward(ctx, List.of(xt));
            float[] yv = cpu.download(y);
            try (Tensor dyt = cpu.upload(dy, y.shape())) {
                Tensor dx = c.backward(ctx, dyt, true).get(0);
                return new float[][]{yv, cpu.download(dx), cpu.download(k.grad())};
            }
        }
    }

    @ParameterizedTest(name = "{0} ch x{1}, {2}x{3} image, kernel {4}x{5}, stride {6}x{7}, pads {8},{9},{10},{11}, dilation {12}, batch {13}")
    @CsvSource({
            // channels, multiplier, H, W, kh, kw, sh, sw, top, left, bottom, right, dilation, batch
            "16, 1, 14, 14, 3, 3, 1, 1, 1, 1, 1, 1, 1, 5",  // MobileNetV2's stride-1 block
            "24, 1, 14, 14, 3, 3, 2, 2, 1, 1, 1, 1, 1, 3",  // its stride-2 block
            "7, 1, 7, 7, 3, 3, 2, 2, 1, 1, 1, 1, 1, 4",     // odd size, stride 2: 4x4 out
            "5, 2, 9, 11, 3, 5, 1, 2, 0, 2, 1, 1, 1, 3",    // multiplier 2, non-square kernel, asymmetric padding and stride
            "3, 3, 10, 8, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2",    // dilation 2
            "4, 1, 5, 5, 5, 5, 1, 1, 0, 0, 0, 0, 1, 2",     // kernel as big as the image: 1x1 out
            "6, 1, 4, 4, 3, 3, 3, 3, 2, 2, 2, 2, 1, 37"})   // stride 3, more padding than input per tap, an odd batch
    void directPathMatchesTheGroupedGemmPath(int ch, int mult, int h, int w, int kh, int kw, int sh, int sw,
                                             int top, int left, int bottom, int right, int dil, int batch) {
        Conv2D c = new Conv2D("dw", ch, ch * mult, kh, kw, sh, sw, top, left, bottom, right, dil, dil, ch, false);
        assertTrue(c.depthwise());
        SplittableRandom r = new SplittableRandom(ch * 31L + h);
        Shape xs = Shape.of(batch, ch, h, w);
        Shape ys = c.outputShape(List.of(Shape.of(ch, h, w))).withBatch(batch);
        float[] x = random(r, xs.size()), dy = random(r, ys.size());
        float[] k = random(r, c.kernel().shape().size()), dW0 = random(r, c.kernel().shape().size());
        float[][] ref = run(c, x, xs, dy, k, dW0, false);
        float[][] got = run(c, x, xs, dy, k, dW0, true);
        String[] what = {"output", "input gradient", "kernel gradient"};
        for (int t = 0; t < 3; t++) {
            assertEquals(ref[t].length, got[t].length, what[t]);
            // both sum the same products in float; only their order differs
            double scale = 0;
            for (float v : ref[t]) scale = Math.max(scale, Math.abs(v));
            for (int i = 0; i < ref[t].length; i++)
                assertEquals(ref[t][i], got[t][i], 1e-5 * Math.max(1, scale), what[t] + " [" + i + "]");
        }
        // the kernel gradient was added to, not overwritten: at least one value differs from the gradient alone
        boolean accumulated = false;
        for (int i = 0; i < dW0.length; i++) accumulated |= dW0[i] != 0 && Math.abs(got[2][i] - dW0[i]) > 0;
        assertTrue(accumulated);
    }

    @Test
    void directPathIsBitIdenticalRunToRun() {
        Conv2D c = new Conv2D("dw", 12, 12, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 12, false);
        SplittableRandom r = new SplittableRandom(4);
        Shape xs = Shape.of(9, 12, 13, 13);
        float[] x = random(r, xs.size()), dy = random(r, 9 * 12 * 7 * 7), k = random(r, 108), dW0 = new float[108];
        float[][] a = run(c, x, xs, dy, k, dW0, true), b = run(c, x, xs, dy, k, dW0, true);
        for (int t = 0; t < 3; t++) assertArrayEquals(a[t], b[t]);
    }

    @Test
    void directPathGradientsMatchFiniteDifferences() {
        GradientChecker gc = new GradientChecker(cpu, 13);
        Conv2D c = new Conv2D("dw", 3, 6, 3, 3, 2, 1, 1, 0, 2, 1, 2, 1, 3, true);
        gc.bindParameters(c);
        gc.check(c, gc.inputs(gc.uniform(), Shape.of(2, 3, 7, 6)));
        Conv2D s1 = new Conv2D("dw1", 4, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 4, false);
        gc.bindParameters(s1);
        gc.check(s1, gc.inputs(gc.uniform(), Shape.of(3, 4, 5, 5)));
    }
}
