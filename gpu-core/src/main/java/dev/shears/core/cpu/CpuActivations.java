package dev.shears.core.cpu;

import dev.shears.core.backend.Activation;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import static dev.shears.core.cpu.CpuBackend.S;

/**
 * Element-wise activations, forward and backward, on arrays of {@code n} elements. ReLU and its
 * backward (the hot ones) are vectorised; the rest are scalar loops over {@link Math}.
 */
final class CpuActivations {
    private CpuActivations() {}

    /** y = fn(x); y may be x. alpha and beta: {@link dev.shears.core.backend.Backend#activation(Activation, float, float, dev.shears.core.tensor.Tensor, dev.shears.core.tensor.Tensor)}. */
    static void forward(Activation fn, float alpha, float beta, float[] x, float[] y, int n) {
        switch (fn) {
            case LINEAR -> { if (x != y) System.arraycopy(x, 0, y, 0, n); }
            case RELU -> {
                int i = 0;
                for (int ub = S.loopBound(n); i < ub; i += S.length())
                    FloatVector.fromArray(S, x, i).max(0f).intoArray(y, i);
                for (; i < n; i++) y[i] = Math.max(x[i], 0f);
            }
            case LEAKY_RELU -> { for (int i = 0; i < n; i++) { float v = x[i]; y[i] = v > 0 ? v : alpha * v; } }
            case SIGMOID -> { for (int i = 0; i < n; i++) y[i] = sigmoid(x[i]); }
            case TANH -> { for (int i = 0; i < n; i++) y[i] = (float) Math.tanh(x[i]); }
            case ELU -> { for (int i = 0; i < n; i++) { float v = x[i]; y[i] = v > 0 ? v : alpha * (float) Math.expm1(v); } }
            case SELU -> {
                for (int i = 0; i < n; i++) {
                    float v = x[i];
                    y[i] = Activation.SELU_SCALE * (v > 0 ? v : Activation.SELU_ALPHA * (float) Math.expm1(v));
                }
            }
            case SOFTPLUS -> {
                // log(1+e^x) = max(x,0) + log1p(e^-|x|), stable for large |x|
                for (int i = 0; i < n; i++) { float v = x[i]; y[i] = Math.max(v, 0f) + (float) Math.log1p(Math.exp(-Math.abs(v))); }
            }
            case SOFTSIGN -> { for (int i = 0; i < n; i++) { float v = x[i]; y[i] = v / (1 + Math.abs(v)); } }
            // alpha is the slope, beta the offset; Math.max/min keep NaN
            case HARD_SIGMOID -> { for (int i = 0; i < n; i++) y[i] = Math.min(1f, Math.max(0f, alpha * x[i] + beta)); }
            // alpha is the cap; Math.max/min keep NaN
            case RELU_CAPPED -> { for (int i = 0; i < n; i++) y[i] = Math.min(Math.max(x[i], 0f), alpha); }
            // x * relu6(x+3)/6: exactly 0 below -3 and exactly x above 3; NaN falls through to the middle
            case HARD_SWISH -> {
                for (int i = 0; i < n; i++) { float v = x[i]; y[i] = v <= -3f ? 0f : v >= 3f ? v : v * (v + 3f) / 6f; }
            }
            case SWISH -> { for (int i = 0; i < n; i++) { float v = x[i]; y[i] = v * sigmoid(v); } }
        }
    }

    /** dx = dy * fn'(x), using y = fn(x) where that is cheaper; dx may be dy. */
    static void backward(Activation fn, float alpha, float beta, float[] x, float[] y, float[] dy, float[] dx, int n) {
        switch (fn) {
            case LINEAR -> { if (dx != dy) System.arraycopy(dy, 0, dx, 0, n); }
            case RELU -> {
                int i = 0;
                FloatVector zero = FloatVector.zero(S);
                for (int ub = S.loopBound(n); i < ub; i += S.length()) {
                    var pos = FloatVector.fromArray(S, x, i).compare(VectorOperators.GT, 0f);
                    zero.blend(FloatVector.fromArray(S, dy, i), pos).intoArray(dx, i);
                }
                for (; i < n; i++) dx[i] = x[i] > 0 ? dy[i] : 0f;
            }
            case LEAKY_RELU -> { for (int i = 0; i < n; i++) dx[i] = x[i] > 0 ? dy[i] : alpha * dy[i]; }
            case SIGMOID -> { for (int i = 0; i < n; i++) { float s = y[i]; dx[i] = dy[i] * s * (1 - s); } }
            case TANH -> { for (int i = 0; i < n; i++) { float t = y[i]; dx[i] = dy[i] * (1 - t * t); } }
            // ELU: d/dx alpha*(e^x - 1) = alpha*e^x = y + alpha
            case ELU -> { for (int i = 0; i < n; i++) dx[i] = x[i] > 0 ? dy[i] : dy[i] * (y[i] + alpha); }
            case SELU -> {
                float sa = Activation.SELU_SCALE * Activation.SELU_ALPHA;
                for (int i = 0; i < n; i++) dx[i] = x[i] > 0 ? dy[i] * Activation.SELU_SCALE : dy[i] * (y[i] + sa);
            }
            case SOFTPLUS -> { for (int i = 0; i < n; i++) dx[i] = dy[i] * sigmoid(x[i]); }
            case SOFTSIGN -> { for (int i = 0; i < n; i++) { float d = 1 + Math.abs(x[i]); dx[i] = dy[i] / (d * d); } }
            // alpha strictly between the kinks, where alpha*x + beta crosses 0 and 1 (+-2.5 for 0.2, 0.5, exactly in
            // float), the flat side's 0 at and beyond them. Either order (a negative slope); a slope of 0 has no
            // inside (or alpha*dy = 0 everywhere), so its gradient is 0.
            case HARD_SIGMOID -> {
                float k0 = (0f - beta) / alpha, k1 = (1f - beta) / alpha, lo = Math.min(k0, k1), hi = Math.max(k0, k1);
                for (int i = 0; i < n; i++) { float v = x[i]; dx[i] = v > lo && v < hi ? alpha * dy[i] : 0f; }
            }
            // kinks take the flat side's derivative, as ReLU at 0 and HARD_SIGMOID at its two kinks: 0 at 0 and at the cap
            // vectorised as RELU: the scalar loop's branch is a coin toss on a ReLU6's inputs (measured
            // 13 ms for MobileNetV2-mini's 2.4 M-element expansion at batch 128, a tenth of it vectorised)
            case RELU_CAPPED -> {
                int i = 0;
                FloatVector zero = FloatVector.zero(S);
                for (int ub = S.loopBound(n); i < ub; i += S.length()) {
                    var v = FloatVector.fromArray(S, x, i);
                    var inside = v.compare(VectorOperators.GT, 0f).and(v.compare(VectorOperators.LT, alpha));
                    zero.blend(FloatVector.fromArray(S, dy, i), inside).intoArray(dx, i);
                }
                for (; i < n; i++) { float v = x[i]; dx[i] = v > 0f && v < alpha ? dy[i] : 0f; }
            }
            // d/dx x(x+3)/6 = (2x+3)/6 strictly inside (-3, 3); the flat sides' 0 at -3 and 1 at 3
            case HARD_SWISH -> {
                for (int i = 0; i < n; i++) { float v = x[i]; dx[i] = v <= -3f ? 0f : v >= 3f ? dy[i] : dy[i] * (2f * v + 3f) / 6f; }
            }
            // d/dx x*s(x) = s + x*s*(1-s) = s + y*(1-s)
            case SWISH -> { for (int i = 0; i < n; i++) { float s = sigmoid(x[i]); dx[i] = dy[i] * (s + y[i] * (1 - s)); } }
        }
    }

    static float sigmoid(float v) {
        // two branches so exp never overflows
        if (v >= 0) return (float) (1 / (1 + Math.exp(-v)));
        double e = Math.exp(v);
        return (float) (e / (1 + e));
    }
}
