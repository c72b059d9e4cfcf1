package dev.shears.core.nn.layers;

import dev.shears.core.backend.Backend;
import dev.shears.core.backend.ConvGeometry;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.GradientChecker;
import dev.shears.core.nn.Parameter;
import dev.shears.core.tensor.DType;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Conv2D's images-together layout (the one the CUDA backend picks: a chunk of images unfolded side
 * by side by im2colBatch, one GEMM per chunk, a permute of its output) on the CPU specification:
 * gradient checks for every shape of convolution, agreement with the image-by-image layout, bit
 * for bit determinism, and the Backend interface's default im2colBatch/col2imBatch/permute at
 * offsets (what a backend without its own kernels runs) against CpuBackend's.
 */
class Conv2DImagesTogetherTest {
    private final Backend be = new CpuBackend(1);

    @AfterEach void reset() {
        Conv2D.unfoldImagesTogether = null;
        Conv2D.colsBudgetFloats = 0;
    }

    private void gradientCheck(long seed, Conv2D c, Shape input) {
        Conv2D.unfoldImagesTogether = true;
        GradientChecker gc = new GradientChecker(be, seed);
        gc.bindParameters(c);
        gc.check(c, gc.inputs(gc.uniform(), input));
    }

    @Test void plain() { gradientCheck(3, Conv2D.of("conv", 2, 3, 3, 1, 1, true), Shape.of(2, 2, 5, 5)); }

    @Test void strideAndAsymmetricPadding() {
        gradientCheck(4, new Conv2D("conv", 2, 4, 3, 2, 2, 3, 0, 1, 2, 0, 1, 1, 1, true), Shape.of(2, 2, 7, 6));
    }

    @Test void groupsAndDilation() {
        gradientCheck(5, new Conv2D("conv", 4, 6, 3, 3, 1, 2, 2, 1, 1, 2, 2, 2, 2, true), Shape.of(2, 4, 7, 8));
    }

    @Test void depthwiseWithoutBias() {
        gradientCheck(6, new Conv2D("conv", 3, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 3, false), Shape.of(2, 3, 6, 6));
    }

    @Test void pointwiseGrouped() {
        gradientCheck(7, new Conv2D("conv", 4, 6, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 2, true), Shape.of(3, 4, 3, 4));
    }

    @Test void inChunks() {
        // two images' scratch (columns: all groups' 4 channels * 9 taps rows, plus 4 output rows; 16 columns each): 5 images go as 2, 2, 1
        Conv2D.colsBudgetFloats = 2 * (4 * 9 + 4) * 16;
        gradientCheck(42, new Conv2D("conv", 4, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2, true), Shape.of(5, 4, 4, 4));
    }

    private static float[] rand(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (r.nextDouble() * 2 - 1);
        return v;
    }

    /** Output, input gradient, kernel gradient and bias gradient after one forward and backward (gradients start at 1s: backward must add). */
    private float[][] run(boolean together, int budget) {
        Conv2D.unfoldImagesTogether = together;
        Conv2D.colsBudgetFloats = budget;
        Conv2D c = new Conv2D("conv", 4, 6, 3, 2, 2, 1, 1, 0, 2, 1, 1, 2, 2, true);
        for (Parameter p : c.parameters()) {
            p.setValue(be.upload(rand(p.shape().intSize(), p.name().hashCode()), p.shape()));
            float[] ones = new float[p.shape().intSize()];
            java.util.Arrays.fill(ones, 1f);
            p.setGrad(be.upload(ones, p.shape()));
        }
        ExecContext ctx = new ExecContext(be, true, 1);
        Shape in = Shape.of(5, 4, 9, 8);
        Tensor y = c.forward(ctx, List.of(be.upload(rand(in.intSize(), 11), in)));
        float[] out = be.download(y);
        Tensor dx = c.backward(ctx, be.upload(rand(out.length, 12), y.shape()), true).get(0);
        return new float[][] {out, be.download(dx), be.download(c.kernel().grad()), be.download(c.bias().grad())};
    }

    private static void assertNear(String what, float[] e, float[] a) {
        assertTrue(e.length == a.length, what + ": length " + a.length + ", expected " + e.length);
        for (int i = 0; i < e.length; i++)
            if (!(Math.abs(e[i] - a[i]) <= 1e-5 + 1e-5 * Math.abs(e[i])))
                fail(what + " element " + i + ": image by image " + e[i] + ", images together " + a[i]);
    }

    @Test void agreesWithImageByImageAndIsDeterministic() {
        String[] names = {"output", "input gradient", "kernel gradient", "bias gradient"};
        float[][] perImage = run(false, 0);
        // one chunk, and chunks of 2, 2, 1 (all groups' rows: 4 channels * 6 taps, plus 6 output rows; 4 * 8 output positions an image)
        for (int budget : new int[] {0, 2 * (24 + 6) * 32}) {
            float[][] together = run(true, budget), again = run(true, budget);
            for (int i = 0; i < names.length; i++) {
                assertNear(names[i] + " (budget " + budget + ")", perImage[i], together[i]);
                assertArrayEquals(together[i], again[i], names[i] + ": images together, run twice, bit for bit");
            }
        }
    }

    /** CpuBackend, except that the batched conv ops and permute at offsets are the Backend interface's defaults. */
    private static Backend withDefaults(CpuBackend cpu) {
        InvocationHandler h = (proxy, m, args) -> {
            boolean batchedConv = m.getName().equals("im2colBatch") || m.getName().equals("col2imBatch");
            boolean permuteAt = m.getName().equals("permute") && m.getParameterCount() == 6;
            if (batchedConv || permuteAt) return InvocationHandler.invokeDefault(proxy, m, args);
            try {
                return m.invoke(cpu, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        };
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class}, h);
    }

    @Test void interfaceDefaultsMatchTheCpuBackend() {
        CpuBackend cpu = new CpuBackend(1);
        Backend defaults = withDefaults(cpu);
        ConvGeometry g = new ConvGeometry(3, 7, 6, 3, 2, 2, 1, 1, 0, 2, 1, 1, 2, false);
        int n = 3, img = 3 * 7 * 6, size = n * g.colRows() * g.colCols();
        Tensor x = cpu.upload(rand(n * img + 5, 21), Shape.of(n * img + 5));
        Tensor expected = cpu.upload(rand(size + 4, 22), Shape.of(size + 4)), got = cpu.upload(cpu.download(expected), expected.shape());
        cpu.im2colBatch(x, 5, n, g, expected, 4);
        defaults.im2colBatch(x, 5, n, g, got, 4);
        assertArrayEquals(cpu.download(expected), cpu.download(got), "default im2colBatch");

        Tensor cols = cpu.upload(rand(size, 23), Shape.of(size));
        Tensor dxE = cpu.upload(rand(n * img + 2, 24), Shape.of(n * img + 2)), dxG = cpu.upload(cpu.download(dxE), dxE.shape());
        cpu.col2imBatch(cols, 0, n, g, dxE, 2);
        defaults.col2imBatch(cols, 0, n, g, dxG, 2);
        assertArrayEquals(cpu.download(dxE), cpu.download(dxG), "default col2imBatch");

        int[] dims = {4, 3, 5}, perm = {2, 0, 1};
        Tensor pe = cpu.allocate(Shape.of(70), DType.FLOAT32), pg = cpu.allocate(Shape.of(70), DType.FLOAT32);
        cpu.permute(x, 1, pe, 7, dims, perm);
        defaults.permute(x, 1, pg, 7, dims, perm);
        assertArrayEquals(cpu.download(pe), cpu.download(pg), "default permute at offsets");
    }
}
