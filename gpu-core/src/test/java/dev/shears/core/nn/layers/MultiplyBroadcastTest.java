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
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Multiply of a [C, H, W] feature map by a [C, 1, 1] gate (squeeze-and-excitation): forward and
 * both gradients against plain loops, finite differences in either input order, and the refusal of
 * every other broadcast. The same bits for any thread count: the channelBroadcast case of
 * ThreadCountDeterminismTest (the pool is sized per JVM, so it runs child JVMs).
 */
class MultiplyBroadcastTest {
    private static final int N = 3, C = 5, H = 4, W = 7;

    private static float[] random(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (r.nextDouble() * 2 - 1);
        return v;
    }

    /** Forward and backward on one backend; returns {y, dMap, dGate}. */
    private static float[][] run(Backend be, float[] map, float[] gate, float[] dy, boolean gateFirst) {
        Tensor x = be.upload(map, Shape.of(N, C, H, W)), g = be.upload(gate, Shape.of(N, C, 1, 1));
        Multiply m = new Multiply("se_mul");
        ExecContext ctx = new ExecContext(be, true, 0);
        Tensor y = m.forward(ctx, gateFirst ? List.of(g, x) : List.of(x, g));
        float[] yv = be.download(y);
        List<Tensor> grads = m.backward(ctx, be.upload(dy, Shape.of(N, C, H, W)), true);
        Tensor dMap = grads.get(gateFirst ? 1 : 0), dGate = grads.get(gateFirst ? 0 : 1);
        assertEquals(Shape.of(N, C, H, W), dMap.shape());
        assertEquals(Shape.of(N, C, 1, 1), dGate.shape());
        return new float[][]{yv, be.download(dMap), be.download(dGate)};
    }

    @Test void forwardAndGradientsMatchLoopsInEitherOrder() {
        float[] map = random(N * C * H * W, 1), gate = random(N * C, 2), dy = random(N * C * H * W, 3);
        float[] y = new float[map.length], dMap = new float[map.length], dGate = new float[N * C];
        for (int p = 0; p < N * C; p++) {
            double s = 0;
            for (int i = 0; i < H * W; i++) {
                y[p * H * W + i] = map[p * H * W + i] * gate[p];
                dMap[p * H * W + i] = dy[p * H * W + i] * gate[p];
                s += (double) dy[p * H * W + i] * map[p * H * W + i];
            }
            dGate[p] = (float) s;
        }
        try (CpuBackend be = new CpuBackend(2)) {
            for (boolean gateFirst : new boolean[]{false, true}) {
                float[][] got = run(be, map, gate, dy, gateFirst);
                assertArrayEquals(y, got[0], "y, gate first: " + gateFirst); // one rounded product each: exact
                assertArrayEquals(dMap, got[1], "d(map), gate first: " + gateFirst);
                assertArrayEquals(dGate, got[2], 1e-5f, "d(gate), gate first: " + gateFirst);
            }
        }
    }

    @Test void gradientsMatchFiniteDifferences() {
        try (CpuBackend be = new CpuBackend(1)) {
            for (boolean gateFirst : new boolean[]{false, true}) {
                GradientChecker gc = new GradientChecker(be, gateFirst ? 21 : 22);
                Multiply m = new Multiply("se_mul");
                gc.bindParameters(m);
                Shape map = Shape.of(2, 3, 4, 5), gate = Shape.of(2, 3, 1, 1);
                gc.check(m, gateFirst ? gc.inputs(gc.uniform(), gate, map) : gc.inputs(gc.uniform(), map, gate));
            }
        }
    }

    @Test void otherBroadcastsAreRefusedNamingTheLayerAndShapes() {
        Multiply m = new Multiply("se_mul");
        for (List<Shape> in : List.of(
                List.of(Shape.of(4, 5, 6), Shape.of(3, 1, 1)),        // channels differ
                List.of(Shape.of(4, 5, 6), Shape.of(1, 5, 6)),        // a spatial gate
                List.of(Shape.of(4, 5, 6), Shape.of(4, 5, 1)),        // one spatial axis
                List.of(Shape.of(4, 5, 6), Shape.of(4)),              // a rank-1 gate (ONNX would align it with W)
                List.of(Shape.of(4, 5, 6), Shape.of(4, 1, 1), Shape.of(4, 1, 1)))) { // three inputs
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.outputShape(in), in.toString());
            assertTrue(e.getMessage().contains("Multiply(se_mul)") && e.getMessage().contains(in.get(0).toString())
                    && e.getMessage().contains("[C, 1, 1]"), e.getMessage());
        }
        assertEquals(Shape.of(4, 5, 6), m.outputShape(List.of(Shape.of(4, 1, 1), Shape.of(4, 5, 6))));
    }
}
