package dev.shears.core.nn.layers;

import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Parameter;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Field;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Conv2D's image-by-image weight gradient for a layer whose kernel is larger than an image's
 * columns (few output positions, many weights): the per-image parts go in runs that fit the
 * scratch budget, and the kernel gradient is the same bits whatever the runs, since the parts are
 * added in image order either way.
 */
class Conv2DWeightGradientRunsTest {
    private final Backend be = new CpuBackend(1);
    /** the layer of the last {@link #gradients} */
    private Conv2D last;

    @AfterEach void reset() {
        Conv2D.unfoldImagesTogether = null;
        Conv2D.colsBudgetFloats = 0;
    }

    private static float[] rand(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (r.nextDouble() * 2 - 1);
        return v;
    }

    /**
     * Kernel gradient (starting at 1s: backward adds) and input gradient of a 3x3 kernel, 2 -> 16
     * channels, over 3x3 images: one output position an image, so an image's columns are 18
     * floats and its part of the kernel gradient 288.
     */
    private float[][] gradients(int budget) {
        Conv2D.unfoldImagesTogether = false;
        Conv2D.colsBudgetFloats = budget;
        Conv2D c = last = Conv2D.of("conv", 2, 16, 3, 1, 0, true);
        for (Parameter p : c.parameters()) {
            p.setValue(be.upload(rand(p.shape().intSize(), p.name().hashCode()), p.shape()));
            float[] ones = new float[p.shape().intSize()];
            Arrays.fill(ones, 1f);
            p.setGrad(be.upload(ones, p.shape()));
        }
        ExecContext ctx = new ExecContext(be, true, 1);
        Shape in = Shape.of(6, 2, 3, 3);
        Tensor y = c.forward(ctx, List.of(be.upload(rand(in.intSize(), 31), in)));
        assertEquals(Shape.of(6, 16, 1, 1), y.shape());
        Tensor dx = c.backward(ctx, be.upload(rand(y.shape().intSize(), 32), y.shape()), true).get(0);
        return new float[][] {be.download(c.kernel().grad()), be.download(dx)};
    }

    /** Floats in the layer's per-image weight-gradient buffers (the full run's and the shorter last run's). */
    private static long partsFloats(Conv2D c) {
        long n = 0;
        for (String f : new String[] {"dWParts", "dWPartsTail"}) {
            try {
                Field field = Conv2D.class.getDeclaredField(f);
                field.setAccessible(true);
                Tensor t = (Tensor) field.get(c);
                if (t != null) n = Math.max(n, t.shape().size());
            } catch (ReflectiveOperationException e) {
                throw new AssertionError("Conv2D." + f, e);
            }
        }
        return n;
    }

    @Test void partsInRunsWithinTheBudgetGiveTheSameBits() {
        // budget 0: the backend's (2^18 floats), all six images' parts at once
        float[][] whole = gradients(0);
        // every budget keeps the six images in one chunk of columns (6 * 18 floats); the parts then
        // go in runs of 4 + 2 (a shorter last run), 3 + 3 and 2 + 2 + 2
        for (int budget : new int[] {4 * 288, 3 * 288, 2 * 288 + 100}) {
            float[][] runs = gradients(budget);
            assertArrayEquals(whole[0], runs[0], "kernel gradient, budget " + budget);
            assertArrayEquals(whole[1], runs[1], "input gradient, budget " + budget);
            assertTrue(partsFloats(last) <= budget, "the parts buffer holds " + partsFloats(last) + " floats, over the budget of " + budget);
        }
        // a budget under one image's part: one image at a time, accumulated by the GEMM itself
        float[][] single = gradients(200);
        for (int i = 0; i < whole[0].length; i++)
            assertTrue(Math.abs(whole[0][i] - single[0][i]) <= 1e-5f * (1 + Math.abs(whole[0][i])),
                    "kernel gradient element " + i + ": " + whole[0][i] + " in one run, " + single[0][i] + " image by image");
        assertArrayEquals(whole[1], single[1], "input gradient, image by image");
    }
}
