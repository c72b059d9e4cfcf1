package dev.shears.core.optim;

import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.Parameter;
import dev.shears.core.tensor.DType;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/** Optimizer steps against values worked out by hand from the update formulas. */
class OptimizerTest {
    private final Backend be = new CpuBackend(1);

    private Parameter param(float[] w, float[] g, byte[] mask) {
        Parameter p = new Parameter("p/kernel", Parameter.Role.KERNEL, Shape.of(w.length), true);
        p.setValue(be.upload(w, Shape.of(w.length)));
        p.setGrad(be.upload(g, Shape.of(g.length)));
        if (mask != null) p.setMask(be.uploadBytes(mask, Shape.of(mask.length)));
        return p;
    }

    private float[] w(Parameter p) { return be.download(p.value()); }

    @Test void sgdMomentumTwoSteps() {
        Parameter p = param(new float[]{1f, -2f}, new float[]{0.5f, 1f}, null);
        try (Sgd sgd = new Sgd(be, List.of(p), 0.9f, false, 0f)) {
            sgd.step(0.1f);  // v = g = [0.5, 1]; w = [1 - 0.05, -2 - 0.1]
            assertArrayEquals(new float[]{0.95f, -2.1f}, w(p), 1e-6f);
            sgd.step(0.1f);  // v = 0.9 v + g = [0.95, 1.9]; w -= 0.1 v
            assertArrayEquals(new float[]{0.855f, -2.29f}, w(p), 1e-6f);
            assertArrayEquals(new float[]{0.95f, 1.9f}, be.download(sgd.velocity(0)), 1e-6f);
            assertEquals(2, sgd.steps());
        }
    }

    @Test void sgdNesterovWithWeightDecay() {
        Parameter p = param(new float[]{2f}, new float[]{1f}, null);
        try (Sgd sgd = new Sgd(be, List.of(p), 0.5f, true, 0.1f)) {
            // g' = 1 + 0.1*2 = 1.2; v = 1.2; step = g' + 0.5 v = 1.8; w = 2 - 0.1*1.8 = 1.82
            sgd.step(0.1f);
            assertEquals(1.82f, w(p)[0], 1e-6f);
        }
    }

    @Test void adamFirstStepMovesByLrTimesSign() {
        Parameter p = param(new float[]{1f, 1f}, new float[]{3f, -0.01f}, null);
        try (Adam adam = Adam.adam(be, List.of(p), 0f)) {
            // bias-corrected m^ = g, v^ = g^2: the step is lr * g / (|g| + eps)
            adam.step(0.01f);
            assertArrayEquals(new float[]{0.99f, 1.01f}, w(p), 1e-5f);
        }
    }

    @Test void adamWDecaysTheWeightsNotTheGradient() {
        Parameter p = param(new float[]{2f}, new float[]{0f}, null);
        try (Adam adam = Adam.adamW(be, List.of(p), 0.5f)) {
            // zero gradient: m = v = 0, so only the decoupled decay acts: w -= lr * wd * w
            adam.step(0.1f);
            assertEquals(2f - 0.1f * 0.5f * 2f, w(p)[0], 1e-6f);
        }
        Parameter q = param(new float[]{2f}, new float[]{0f}, null);
        try (Adam adam = Adam.adam(be, List.of(q), 0.5f)) {
            // L2 decay enters the gradient: g' = 1, first step moves by lr * sign = 0.1
            adam.step(0.1f);
            assertEquals(1.9f, w(q)[0], 1e-5f);
        }
    }

    @Test void maskedEntriesStayZeroWithTheirState() {
        Parameter p = param(new float[]{0f, 1f, 0f, -1f}, new float[]{5f, 1f, -5f, 1f}, new byte[]{0, 1, 0, 1});
        try (Sgd sgd = new Sgd(be, List.of(p), 0.9f, true, 0.01f)) {
            for (int i = 0; i < 3; i++) sgd.step(0.1f);
            float[] v = be.download(sgd.velocity(0));
            float[] x = w(p);
            assertEquals(0f, x[0]);
            assertEquals(0f, x[2]);
            assertEquals(0f, v[0]);
            assertEquals(0f, v[2]);
            assertNotEquals(1f, x[1]);
        }
    }

    /** The backend, counting the tensors allocated through it (the optimizer's state). */
    private static Backend counting(Backend real, int[] allocations) {
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[]{Backend.class}, (proxy, m, args) -> {
            if (m.getName().equals("allocate")) allocations[0]++;
            try {
                return m.invoke(real, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        });
    }

    private static float[] rand(int n, long seed, float scale) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (r.nextDouble() * 2 - 1) * scale;
        return v;
    }

    @Test void plainSgdKeepsNoVelocityAndStepsExactlyAsWithAZeroOne() {
        int n = 37; // a vector body and a scalar tail
        byte[] mask = new byte[n];
        for (int i = 0; i < n; i++) mask[i] = (byte) (i % 3 == 0 ? 0 : 1);
        Parameter a = param(rand(n, 1, 1), rand(n, 2, 0.5f), mask), b = param(rand(n, 3, 1), rand(n, 4, 0.5f), null);
        // the former path, by hand: momentum 0 with a zero velocity per parameter
        Parameter ra = param(be.download(a.value()), be.download(a.grad()), mask), rb = param(be.download(b.value()), be.download(b.grad()), null);
        int[] allocations = {0};
        try (Sgd sgd = new Sgd(counting(be, allocations), List.of(a, b), 0f, false, 1e-2f);
             Tensor va = be.allocate(a.shape(), DType.FLOAT32); Tensor vb = be.allocate(b.shape(), DType.FLOAT32)) {
            assertEquals(0, allocations[0], "momentum 0: no velocity allocated");
            assertNull(sgd.velocity(0));
            assertNull(sgd.velocity(1));
            assertThrows(IndexOutOfBoundsException.class, () -> sgd.velocity(2));
            for (int step = 0; step < 4; step++) {
                sgd.step(0.1f);
                be.sgdUpdate(ra.value(), ra.grad(), va, ra.mask(), 0.1f, 0f, 1e-2f, false);
                be.sgdUpdate(rb.value(), rb.grad(), vb, null, 0.1f, 0f, 1e-2f, false);
                assertArrayEquals(be.download(ra.value()), w(a), "masked parameter after step " + step);
                assertArrayEquals(be.download(rb.value()), w(b), "unmasked parameter after step " + step);
            }
            assertEquals(0, allocations[0], "stepping allocates nothing either");
        }
        int[] withMomentum = {0};
        try (Sgd sgd = new Sgd(counting(be, withMomentum), List.of(a, b), 0.9f, false, 0f)) {
            assertEquals(2, withMomentum[0], "momentum > 0: one velocity per parameter");
            assertNotNull(sgd.velocity(1));
        }
    }

    @Test void skipsFrozenParametersAndAllocatesStateOnce() {
        Parameter trainable = param(new float[]{1f}, new float[]{1f}, null);
        Parameter frozen = new Parameter("bn/running_mean", Parameter.Role.RUNNING_MEAN, Shape.of(1), false);
        frozen.setValue(be.upload(new float[]{7f}, Shape.of(1)));
        try (Sgd sgd = new Sgd(be, List.of(trainable, frozen), 0.9f, false, 0f)) {
            assertEquals(List.of(trainable), sgd.parameters());
            Tensor v = sgd.velocity(0);
            sgd.step(0.1f);
            assertSame(v, sgd.velocity(0));
            assertEquals(7f, be.download(frozen.value())[0]);
        }
    }

    @Test void rejectsBadSettings() {
        Parameter p = param(new float[]{1f}, new float[]{1f}, null);
        var e = assertThrows(IllegalArgumentException.class, () -> new Sgd(be, List.of(p), 1.0f, false, 0f));
        assertTrue(e.getMessage().contains("momentum 1.0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Sgd(be, List.of(p), 0f, true, 0f));
        assertTrue(e.getMessage().contains("nesterov"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Adam(be, List.of(p), 0.9f, 0.999f, 0f, 0f, false));
        assertTrue(e.getMessage().contains("eps"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Sgd(be, List.of(), 0.9f, false, 0f));
        assertEquals(DType.FLOAT32, p.value().dtype());
    }
}
