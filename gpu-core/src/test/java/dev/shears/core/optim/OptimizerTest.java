package dev.shears.core.optim;

import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.Parameter;
import dev.shears.core.tensor.DType;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;

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
