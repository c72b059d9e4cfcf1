package dev.shears.core.nn.layers;

import dev.shears.core.backend.Activation;
import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.tensor.Shape;
import dev.shears.kernels.ActivationKernels;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The MobileNet/EfficientNet activations (RELU_CAPPED, HARD_SWISH, SWISH) at hand-worked points
 * from their published definitions, the cap's default and validation, and the kernels' code range.
 * (The contract, gradient-check and CUDA parity tests cover them over random inputs.)
 */
class MobileActivationsTest {
    private final Backend be = new CpuBackend(1);
    private final ExecContext infer = ExecContext.inference(be);

    private float[] forward(ActivationLayer l, float... x) {
        return be.download(l.forward(infer, List.of(be.upload(x, Shape.of(1, x.length)))));
    }

    @Test void reluCappedIsReLU6ByDefaultAndTakesAnyPositiveCap() {
        ActivationLayer relu6 = new ActivationLayer("r6", Activation.RELU_CAPPED);
        assertEquals(6f, relu6.alpha());
        assertArrayEquals(new float[] {0, 0, 0.5f, 6, 6}, forward(relu6, -1, 0, 0.5f, 6, 7.5f));
        assertArrayEquals(new float[] {0, 1, 1.5f, 1.5f}, forward(new ActivationLayer("r", Activation.RELU_CAPPED, 1.5f), -2, 1, 1.5f, 100));
        float[] nan = forward(relu6, Float.NaN);
        assertTrue(Float.isNaN(nan[0]), "NaN stays NaN");
    }

    @Test void reluCappedBackwardPassesTheGradientStrictlyInsideZeroToCap() {
        // 43 values: whole vectors and a scalar tail; the kinks (0 and the cap) take 0, as NaN does
        float[] pattern = {-1f, 0f, 0.5f, 3f, 5.999f, 6f, 7f, Float.NaN, -0f};
        int n = 43;
        float[] x = new float[n], dy = new float[n], want = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = pattern[i % pattern.length];
            dy[i] = 1f + i;
            want[i] = x[i] > 0f && x[i] < 6f ? dy[i] : 0f;
        }
        var dx = be.allocate(Shape.of(1, n), dev.shears.core.tensor.DType.FLOAT32);
        var xt = be.upload(x, Shape.of(1, n));
        be.activationBackward(Activation.RELU_CAPPED, 6f, 0f, xt, xt, be.upload(dy, Shape.of(1, n)), dx);
        assertArrayEquals(want, be.download(dx));
    }

    @Test void reluCappedRefusesANonPositiveCap() {
        for (float cap : new float[] {0f, -6f, Float.NaN}) {
            var e = assertThrows(IllegalArgumentException.class, () -> new ActivationLayer("clip7", Activation.RELU_CAPPED, cap));
            assertTrue(e.getMessage().contains("'clip7'") && e.getMessage().contains("cap above 0"), e.getMessage());
        }
    }

    @Test void hardSwishAtHandWorkedPoints() {
        // x * relu6(x + 3) / 6: -1 -> -1 * 2 / 6, 1 -> 1 * 4 / 6, 2 -> 2 * 5 / 6
        float[] y = forward(new ActivationLayer("hs", Activation.HARD_SWISH), -4, -3, -1, 0, 1, 2, 3, 4);
        float[] e = {0, 0, -1f / 3, 0, 2f / 3, 5f / 3, 3, 4};
        for (int i = 0; i < e.length; i++) assertEquals(e[i], y[i], 1e-6, "hard swish at index " + i);
    }

    @Test void swishAtHandWorkedPoints() {
        // sigmoid(1) = 0.7310585786, sigmoid(-2) = 0.1192029220
        float[] y = forward(new ActivationLayer("sw", Activation.SWISH), 0, 1, -2, 40, -40);
        float[] e = {0, 0.7310586f, -0.2384058f, 40, 0};
        for (int i = 0; i < e.length; i++) assertEquals(e[i], y[i], 1e-6, "swish at index " + i);
    }

    @Test void theKernelsKnowEveryActivationCode() {
        // the CUDA launcher refuses codes above MAX_CODE: a value added to the enum needs its kernel case
        assertEquals(Activation.values().length - 1, ActivationKernels.MAX_CODE);
    }
}
