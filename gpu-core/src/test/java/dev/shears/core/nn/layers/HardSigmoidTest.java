package dev.shears.core.nn.layers;

import dev.shears.core.backend.Activation;
import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.tensor.DType;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * HARD_SIGMOID clip(alpha*x + beta, 0, 1) at hand-worked points: Keras 2's 0.2, 0.5 (the default),
 * Keras 3's relu6(x + 3) / 6 (slope 1/6, offset 0.5), a negative slope; the backward's flat-side
 * derivative at the kinks; the layer's parameter validation. (The contract, gradient-check and
 * CUDA parity tests cover it over random inputs.)
 */
class HardSigmoidTest {
    private final Backend be = new CpuBackend(1);
    private final ExecContext infer = ExecContext.inference(be);

    private float[] forward(ActivationLayer l, float... x) {
        return be.download(l.forward(infer, List.of(be.upload(x, Shape.of(1, x.length)))));
    }

    private float[] backward(ActivationLayer l, float[] x, float[] dy) {
        Tensor xt = be.upload(x, Shape.of(1, x.length)), y = be.allocate(xt.shape(), DType.FLOAT32);
        be.activation(l.function(), l.alpha(), l.beta(), xt, y);
        Tensor dx = be.allocate(xt.shape(), DType.FLOAT32);
        be.activationBackward(l.function(), l.alpha(), l.beta(), xt, y, be.upload(dy, xt.shape()), dx);
        return be.download(dx);
    }

    @Test void theDefaultIsKeras2s() {
        ActivationLayer hs = new ActivationLayer("hs", Activation.HARD_SIGMOID);
        assertEquals(0.2f, hs.alpha());
        assertEquals(0.5f, hs.beta());
        // 0.2x + 0.5: -1 -> 0.3, 1 -> 0.7, 2 -> 0.9; clipped beyond +-2.5
        float[] y = forward(hs, -3, -2.5f, -1, 0, 1, 2, 2.5f, 3);
        float[] e = {0, 0, 0.3f, 0.5f, 0.7f, 0.9f, 1, 1};
        for (int i = 0; i < e.length; i++) assertEquals(e[i], y[i], 1e-7, "Keras 2 hard sigmoid at index " + i);
        // the three-argument constructor with 0 (what callers gave before the parameters existed) is the same
        ActivationLayer legacy = new ActivationLayer("hs", Activation.HARD_SIGMOID, 0f);
        assertEquals(0.2f, legacy.alpha());
        assertEquals(0.5f, legacy.beta());
    }

    @Test void keras3sIsReLU6OfXPlus3OverSix() {
        ActivationLayer hs = new ActivationLayer("hs3", Activation.HARD_SIGMOID, Activation.HARD_SIGMOID_SLOPE_SIXTH, 0.5f);
        // relu6(x + 3) / 6: -4 -> 0, -3 -> 0, -1.5 -> 0.25, 0 -> 0.5, 1.5 -> 0.75, 3 -> 1, 4 -> 1
        float[] y = forward(hs, -4, -3, -1.5f, 0, 1.5f, 3, 4);
        float[] e = {0, 0, 0.25f, 0.5f, 0.75f, 1, 1};
        for (int i = 0; i < e.length; i++) assertEquals(e[i], y[i], 1e-7, "Keras 3 hard sigmoid at index " + i);
    }

    @Test void aNegativeSlopeMirrorsIt() {
        // clip(-0.5x + 0.5, 0, 1): -2 -> 1, -1 -> 1, 0 -> 0.5, 0.5 -> 0.25, 1 -> 0, 2 -> 0
        float[] y = forward(new ActivationLayer("neg", Activation.HARD_SIGMOID, -0.5f, 0.5f), -2, -1, 0, 0.5f, 1, 2);
        assertArrayEquals(new float[] {1, 1, 0.5f, 0.25f, 0, 0}, y);
        float[] dx = backward(new ActivationLayer("neg", Activation.HARD_SIGMOID, -0.5f, 0.5f),
                new float[] {-2, -1, 0, 0.5f, 1, 2}, new float[] {1, 1, 1, 2, 1, 1});
        assertArrayEquals(new float[] {0, 0, -0.5f, -1f, 0, 0}, dx);
    }

    @Test void theBackwardTakesTheFlatSidesDerivativeAtTheKinks() {
        // Keras 3's kinks are -3 and 3: the slope 1/6 strictly between, 0 on and beyond them; NaN gives 0
        ActivationLayer hs = new ActivationLayer("hs3", Activation.HARD_SIGMOID, 1f / 6, 0.5f);
        float[] x = {-3.5f, -3f, -2.999f, 0f, 2.999f, 3f, 3.5f, Float.NaN};
        float[] dy = {6, 6, 6, 6, 6, 6, 6, 6};
        float[] dx = backward(hs, x, dy);
        float s = 6 * (1f / 6);
        assertArrayEquals(new float[] {0, 0, s, s, s, 0, 0, 0}, dx);
        // Keras 2's at +-2.5, as before
        dx = backward(new ActivationLayer("hs", Activation.HARD_SIGMOID), new float[] {-2.5f, -2.4f, 2.4f, 2.5f}, new float[] {1, 1, 1, 1});
        assertArrayEquals(new float[] {0, 0.2f, 0.2f, 0}, dx);
    }

    @Test void aSlopeOfZeroIsAConstantWithNoGradient() {
        ActivationLayer c = new ActivationLayer("c", Activation.HARD_SIGMOID, 0f, 0.3f);
        assertArrayEquals(new float[] {0.3f, 0.3f, 0.3f}, forward(c, -5, 0, 5));
        assertArrayEquals(new float[] {0, 0, 0}, backward(c, new float[] {-5, 0, 5}, new float[] {1, 1, 1}));
        ActivationLayer z = new ActivationLayer("z", Activation.HARD_SIGMOID, 0f, 0f); // 0/0 kinks
        assertArrayEquals(new float[] {0, 0}, backward(z, new float[] {-1, 1}, new float[] {1, 1}));
    }

    @Test void nanStaysNaN() {
        float[] y = forward(new ActivationLayer("hs3", Activation.HARD_SIGMOID, 1f / 6, 0.5f), Float.NaN);
        assertTrue(Float.isNaN(y[0]));
    }

    @Test void theParametersAreValidated() {
        var e = assertThrows(IllegalArgumentException.class, () -> new ActivationLayer("gate", Activation.HARD_SIGMOID, Float.NaN, 0.5f));
        assertTrue(e.getMessage().contains("'gate'") && e.getMessage().contains("finite slope and offset"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new ActivationLayer("gate", Activation.HARD_SIGMOID, 0.2f, Float.POSITIVE_INFINITY));
        assertTrue(e.getMessage().contains("offset Infinity"), e.getMessage());
        // an offset means nothing to the other functions
        e = assertThrows(IllegalArgumentException.class, () -> new ActivationLayer("r6", Activation.RELU_CAPPED, 6f, 0.5f));
        assertTrue(e.getMessage().contains("'r6'") && e.getMessage().contains("only HARD_SIGMOID takes an offset"), e.getMessage());
        // a slope other than Keras 2's without its offset: the three-argument form cannot guess it
        e = assertThrows(IllegalArgumentException.class, () -> new ActivationLayer("gate", Activation.HARD_SIGMOID, 1f / 6));
        assertTrue(e.getMessage().contains("'gate'") && e.getMessage().contains("needs its offset too"), e.getMessage());
    }
}
