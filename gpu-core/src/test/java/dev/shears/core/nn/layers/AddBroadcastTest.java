package dev.shears.core.nn.layers;

import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.GradientChecker;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Add of a [C, H, W] feature map and a [C, 1, 1] per-channel tensor: forward and both gradients
 * against plain loops, finite differences in either input order, and the refusal of every other
 * broadcast (the forms {@link Multiply} accepts, no more). The same bits for any thread count: the
 * channelBroadcast case of ThreadCountDeterminismTest (the pool is sized per JVM, so it runs child JVMs).
 */
class AddBroadcastTest {
    private static final int N = 3, C = 5, H = 4, W = 7;

    private static float[] random(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (r.nextDouble() * 2 - 1);
        return v;
    }

    /** Forward and backward on one backend; returns {y, dMap, dPer}. */
    private static float[][] run(Backend be, float[] map, float[] per, float[] dy, boolean perFirst) {
        Tensor x = be.upload(map, Shape.of(N, C, H, W)), p = be.upload(per, Shape.of(N, C, 1, 1));
        Add a = new Add("shift");
        ExecContext ctx = new ExecContext(be, true, 0);
        Tensor y = a.forward(ctx, perFirst ? List.of(p, x) : List.of(x, p));
        assertEquals(Shape.of(N, C, H, W), y.shape());
        float[] yv = be.download(y);
        Tensor dyT = be.upload(dy, Shape.of(N, C, H, W));
        List<Tensor> grads = a.backward(ctx, dyT, true);
        assertEquals(2, grads.size());
        Tensor dMap = grads.get(perFirst ? 1 : 0), dPer = grads.get(perFirst ? 0 : 1);
        assertEquals(Shape.of(N, C, H, W), dMap.shape());
        assertEquals(Shape.of(N, C, 1, 1), dPer.shape());
        return new float[][]{yv, be.download(dMap), be.download(dPer)};
    }

    @Test void forwardAndGradientsMatchLoopsInEitherOrder() {
        float[] map = random(N * C * H * W, 1), per = random(N * C, 2), dy = random(N * C * H * W, 3);
        float[] y = new float[map.length], dPer = new float[N * C];
        for (int p = 0; p < N * C; p++) {
            double s = 0;
            for (int i = 0; i < H * W; i++) {
                y[p * H * W + i] = map[p * H * W + i] + per[p];
                s += dy[p * H * W + i];
            }
            dPer[p] = (float) s;
        }
        try (CpuBackend be = new CpuBackend(2)) {
            for (boolean perFirst : new boolean[]{false, true}) {
                float[][] got = run(be, map, per, dy, perFirst);
                assertArrayEquals(y, got[0], "y, per-channel first: " + perFirst); // one rounded sum each: exact
                assertArrayEquals(dy, got[1], "d(map) is dy, per-channel first: " + perFirst);
                assertArrayEquals(dPer, got[2], 1e-5f, "d(per-channel), per-channel first: " + perFirst);
            }
        }
    }

    @Test void theMapsGradientIsDyItselfAndNoGradientWhenNoneIsNeeded() {
        try (CpuBackend be = new CpuBackend(1)) {
            Add a = new Add("shift");
            ExecContext ctx = new ExecContext(be, true, 0);
            Tensor x = be.upload(random(N * C * H * W, 7), Shape.of(N, C, H, W)), p = be.upload(random(N * C, 8), Shape.of(N, C, 1, 1));
            a.forward(ctx, List.of(x, p));
            Tensor dy = be.upload(random(N * C * H * W, 9), Shape.of(N, C, H, W));
            assertSame(dy, a.backward(ctx, dy, true).get(0), "the identity gradient is passed on, not copied");
            List<Tensor> none = a.backward(ctx, dy, false);
            assertEquals(2, none.size());
            assertTrue(none.get(0) == null && none.get(1) == null, none.toString());
        }
    }

    @Test void gradientsMatchFiniteDifferences() {
        try (CpuBackend be = new CpuBackend(1)) {
            for (boolean perFirst : new boolean[]{false, true}) {
                GradientChecker gc = new GradientChecker(be, perFirst ? 31 : 32);
                Add a = new Add("shift");
                gc.bindParameters(a);
                Shape map = Shape.of(2, 3, 4, 5), per = Shape.of(2, 3, 1, 1);
                gc.check(a, perFirst ? gc.inputs(gc.uniform(), per, map) : gc.inputs(gc.uniform(), map, per));
            }
        }
    }

    @Test void otherBroadcastsAreRefusedNamingTheLayerAndShapes() {
        Add a = new Add("shift");
        for (List<Shape> in : List.of(
                List.of(Shape.of(4, 5, 6), Shape.of(3, 1, 1)),        // channels differ
                List.of(Shape.of(4, 5, 6), Shape.of(1, 1, 1)),        // a scalar-like tensor (see ChannelBroadcast)
                List.of(Shape.of(4, 5, 6), Shape.of(1, 5, 6)),        // a spatial map
                List.of(Shape.of(4, 5, 6), Shape.of(4, 5, 1)),        // one spatial axis
                List.of(Shape.of(4, 5, 6), Shape.of(4)),              // a rank-1 tensor (ONNX would align it with W)
                List.of(Shape.of(4, 5, 6), Shape.of(4, 1, 1), Shape.of(4, 1, 1)))) { // three inputs
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.outputShape(in), in.toString());
            assertTrue(e.getMessage().contains("Add(shift)") && e.getMessage().contains(in.get(0).toString())
                    && e.getMessage().contains("[C, 1, 1] per-channel tensor"), e.getMessage());
        }
        assertEquals(Shape.of(4, 5, 6), a.outputShape(List.of(Shape.of(4, 1, 1), Shape.of(4, 5, 6))));
        assertEquals(Shape.of(4, 5, 6), a.outputShape(List.of(Shape.of(4, 5, 6), Shape.of(4, 1, 1))));
        assertEquals(Shape.of(4, 5, 6), a.outputShape(List.of(Shape.of(4, 5, 6), Shape.of(4, 5, 6), Shape.of(4, 5, 6))));
    }

    @Test void aBatchSizeMismatchIsRefusedAtForward() {
        try (CpuBackend be = new CpuBackend(1)) {
            Add a = new Add("shift");
            ExecContext ctx = new ExecContext(be, false, 0);
            Tensor x = be.zeros(2, 3, 4, 4), p = be.zeros(3, 3, 1, 1);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.forward(ctx, List.of(x, p)));
            assertTrue(e.getMessage().contains("Add(shift)") && e.getMessage().contains("batch size"), e.getMessage());
        }
    }
}
