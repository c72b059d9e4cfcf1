package dev.shears.core.cpu;

import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * CpuBackend.distillation, the specification of the CUDA kernel (distillation.cu): its loss
 * against the textbook formula written out directly in double, its gradient against central
 * finite differences of that loss, and what it does to dLogits (adds, never overwrites).
 */
class DistillationTest {
    private final CpuBackend be = new CpuBackend(1);

    private static float[] random(int n, long seed, double scale) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) ((r.nextDouble() * 2 - 1) * scale);
        return v;
    }

    /** T^2 * sum_j p_j log(p_j / q_j), p = softmax(t/T), q = softmax(s/T), from explicit probabilities (moderate logits only). */
    private static double direct(float[] s, float[] t, int rows, int cols, double temp) {
        double loss = 0;
        for (int r = 0; r < rows; r++) {
            double zs = 0, zt = 0;
            for (int j = 0; j < cols; j++) {
                zs += Math.exp(s[r * cols + j] / temp);
                zt += Math.exp(t[r * cols + j] / temp);
            }
            for (int j = 0; j < cols; j++) {
                double p = Math.exp(t[r * cols + j] / temp) / zt, q = Math.exp(s[r * cols + j] / temp) / zs;
                loss += temp * temp * p * Math.log(p / q);
            }
        }
        return loss;
    }

    @Test
    void lossMatchesTheDirectFormulaAndIsZeroForEqualLogits() {
        int rows = 7, cols = 10;
        float[] s = random(rows * cols, 1, 4), t = random(rows * cols, 2, 4);
        for (float temp : new float[] {1, 2, 4}) {
            try (Tensor ts = be.upload(s, Shape.of(rows, cols)); Tensor tt = be.upload(t, Shape.of(rows, cols))) {
                double got = be.distillation(ts, tt, null, 0.5f, temp, 1f, rows, cols);
                double want = direct(s, t, rows, cols, temp);
                assertTrue(want > 0.1, "the test needs a loss well above 0, got " + want);
                assertEquals(want, got, 1e-9 * want, "T=" + temp);
                assertEquals(0, be.distillation(ts, ts, null, 0.5f, temp, 1f, rows, cols), 1e-12, "KL(p || p)");
            }
        }
    }

    @Test
    void gradientIsWeightTimesTheFiniteDifferenceOfTheLossAndIsAddedIntoDLogits() {
        int rows = 3, cols = 6;
        float weight = 0.7f, gradScale = 1f / rows;
        float[] s = random(rows * cols, 3, 3), t = random(rows * cols, 4, 3);
        float[] before = random(rows * cols, 5, 1);
        for (float temp : new float[] {1, 2, 4}) {
            float[] grad;
            try (Tensor ts = be.upload(s, Shape.of(rows, cols)); Tensor tt = be.upload(t, Shape.of(rows, cols));
                 Tensor d = be.upload(before, Shape.of(rows, cols))) {
                be.distillation(ts, tt, d, weight, temp, gradScale, rows, cols);
                grad = be.download(d);
            }
            for (int i = 0; i < s.length; i++) {
                float[] plus = s.clone(), minus = s.clone();
                plus[i] += 1e-2f;
                minus[i] -= 1e-2f;
                double h = (double) plus[i] - minus[i]; // the step the floats actually took
                double numeric = (direct(plus, t, rows, cols, temp) - direct(minus, t, rows, cols, temp)) / h;
                double want = before[i] + weight * gradScale * numeric;
                assertEquals(want, grad[i], 2e-5 + 1e-4 * Math.abs(want), "T=" + temp + " element " + i);
            }
        }
    }

    @Test
    void extremeLogitsGiveFiniteLossAndGradient() {
        int rows = 2, cols = 5;
        // one-hot-like teacher and a student confidently wrong: softmax underflows to 0 in float and double
        float[] t = {3000, -3000, 0, 0, 0, -1e4f, 1e4f, 0, 5, -5};
        float[] s = {-3000, 3000, 0, 0, 0, 1e4f, -1e4f, 0, -5, 5};
        try (Tensor ts = be.upload(s, Shape.of(rows, cols)); Tensor tt = be.upload(t, Shape.of(rows, cols));
             Tensor d = be.allocate(Shape.of(rows, cols), dev.shears.core.tensor.DType.FLOAT32)) {
            double loss = be.distillation(ts, tt, d, 1f, 1f, 1f, rows, cols);
            // row 0: p = onehot(0), log q_0 = -6000 - log(1 + ...) ~ -6000; row 1: log q_1 = -2e4
            assertEquals(6000 + 2e4, loss, 1e-6 * 26000);
            float[] g = be.download(d);
            for (float v : g) assertTrue(Float.isFinite(v));
            assertEquals(-1f, g[0], 1e-6f); // q_0 - p_0 = 0 - 1
            assertEquals(1f, g[1], 1e-6f);
        }
    }

    @Test
    void badArgumentsAreRefusedNamingThem() {
        try (Tensor a = be.upload(new float[6], Shape.of(2, 3)); Tensor b = be.upload(new float[6], Shape.of(2, 3))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> be.distillation(a, b, null, 0.5f, 0f, 1f, 2, 3));
            assertTrue(e.getMessage().contains("temperature") && e.getMessage().contains("0.0"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> be.distillation(a, b, a, 0.5f, 2f, 1f, 2, 3));
            assertTrue(e.getMessage().contains("student"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> be.distillation(a, b, null, 0.5f, 2f, 1f, 3, 3));
            assertTrue(e.getMessage().contains("distillation student logits"), e.getMessage());
        }
    }
}
