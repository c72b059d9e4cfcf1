// Element-wise activations and their gradients, and PReLU.
// CPU twins: CpuBackend.activation, activationBackward, prelu, preluBackward.
// The activation code is the ordinal of dev.shears.core.backend.Activation:
//   0 LINEAR, 1 RELU, 2 LEAKY_RELU, 3 SIGMOID, 4 TANH, 5 ELU, 6 SELU, 7 SOFTPLUS, 8 SOFTSIGN,
//   9 HARD_SIGMOID (alpha is the slope, beta the offset), 10 RELU_CAPPED (alpha is the cap), 11 HARD_SWISH,
//   12 SWISH. beta is read by HARD_SIGMOID only.
// At a kink the gradient is the flat side's, as in the CPU twin: HARD_SIGMOID 0 at (0-beta)/alpha and
// (1-beta)/alpha, RELU_CAPPED 0 at 0 and at the cap, HARD_SWISH 0 at -3 and 1 at 3.
#include "common.cuh"

#define SELU_ALPHA 1.6732632423543772f
#define SELU_SCALE 1.0507009873554805f

__device__ __forceinline__ float sigmoid_f(float x) { return 1.0f / (1.0f + expf(-x)); }

__device__ __forceinline__ float softplus_f(float x) {
    // log(1 + e^x) = max(x, 0) + log1p(e^-|x|), stable for large |x| (the CPU twin's form)
    return fmaxf(x, 0.0f) + log1pf(expf(-fabsf(x)));
}

__device__ __forceinline__ float activate(int f, float alpha, float beta, float x) {
    switch (f) {
        case 0: return x;
        case 1: return isnan(x) ? x : fmaxf(x, 0.0f);  // Java's Math.max(x, 0f): NaN stays NaN
        case 2: return x > 0.0f ? x : alpha * x;
        case 3: return sigmoid_f(x);
        case 4: return tanhf(x);
        case 5: return x > 0.0f ? x : alpha * expm1f(x);
        case 6: return SELU_SCALE * (x > 0.0f ? x : SELU_ALPHA * expm1f(x));
        case 7: return softplus_f(x);
        case 8: return x / (1.0f + fabsf(x));
        case 9: { float z = alpha * x + beta; return isnan(z) ? z : fminf(fmaxf(z, 0.0f), 1.0f); }  // NaN stays NaN, as Math.min/max
        case 10: return isnan(x) ? x : fminf(fmaxf(x, 0.0f), alpha);  // NaN stays NaN, as Math.min/max
        case 11: return x <= -3.0f ? 0.0f : x >= 3.0f ? x : x * (x + 3.0f) / 6.0f;
        case 12: return x * sigmoid_f(x);
        default: return __int_as_float(0x7fc00000);  // NaN: an unknown code is a host bug
    }
}

// dy * f'(x), using y = f(x) where that is cheaper
__device__ __forceinline__ float activate_grad(int f, float alpha, float beta, float x, float y, float dy) {
    switch (f) {
        case 0: return dy;
        case 1: return x > 0.0f ? dy : 0.0f;
        case 2: return x > 0.0f ? dy : alpha * dy;
        case 3: return dy * y * (1.0f - y);
        case 4: return dy * (1.0f - y * y);
        case 5: return x > 0.0f ? dy : dy * (y + alpha);                 // d/dx alpha(e^x-1) = y + alpha
        case 6: return x > 0.0f ? dy * SELU_SCALE : dy * (y + SELU_SCALE * SELU_ALPHA);
        case 7: return dy * sigmoid_f(x);
        case 8: { float d = 1.0f + fabsf(x); return dy / (d * d); }
        case 9: {  // inside the kinks, in either order (a negative slope); IEEE division, as the CPU twin
            float k0 = (0.0f - beta) / alpha, k1 = (1.0f - beta) / alpha;
            float lo = fminf(k0, k1), hi = fmaxf(k0, k1);
            if (k0 != k0 || k1 != k1) return 0.0f;  // 0/0 (slope 0, offset 0 or 1): no inside, as Math.min/max's NaN
            return (x > lo && x < hi) ? alpha * dy : 0.0f;
        }
        case 10: return (x > 0.0f && x < alpha) ? dy : 0.0f;
        case 11: return x <= -3.0f ? 0.0f : x >= 3.0f ? dy : dy * (2.0f * x + 3.0f) / 6.0f;
        case 12: { float s = sigmoid_f(x); return dy * (s + y * (1.0f - s)); }  // s + x s (1-s)
        default: return __int_as_float(0x7fc00000);
    }
}

// y = f(x); y may alias x.
extern "C" __global__ void shears_activation(int f, float alpha, float beta, const float* x, float* y, i64 n) {
    GRID_STRIDE(i, n) y[i] = activate(f, alpha, beta, x[i]);
}

// dx = dy * f'(x); dx may alias dy.
extern "C" __global__ void shears_activation_backward(int f, float alpha, float beta, const float* x, const float* y,
                                                      const float* dy, float* dx, i64 n) {
    GRID_STRIDE(i, n) dx[i] = activate_grad(f, alpha, beta, x[i], y[i], dy[i]);
}

// PReLU over [outer, channels, inner]: y = x > 0 ? x : slope[c] * x
extern "C" __global__ void shears_prelu(const float* x, const float* slope, float* y,
                                        i64 outer, int channels, i64 inner) {
    i64 n = outer * channels * inner;
    Digits<i64, 2> at;  // (i, c), o = at.top: no division per element
    at.radix[0] = inner;
    at.radix[1] = channels;
    GRID_STRIDE_DIGITS(i, n, at) {
        float v = x[i];
        y[i] = v > 0.0f ? v : slope[at.digit[1]] * v;
    }
}

// PReLU backward, dx part: dx = x > 0 ? dy : slope[c] * dy
extern "C" __global__ void shears_prelu_backward_dx(const float* x, const float* slope, const float* dy, float* dx,
                                                    i64 outer, int channels, i64 inner) {
    i64 n = outer * channels * inner;
    Digits<i64, 2> at;  // (i, c), o = at.top
    at.radix[0] = inner;
    at.radix[1] = channels;
    GRID_STRIDE_DIGITS(i, n, at) dx[i] = x[i] > 0.0f ? dy[i] : slope[at.digit[1]] * dy[i];
}

// Adds element idx's term of the slope gradient to s: dy * x where x <= 0 (channel_block_sum's term).
__device__ __forceinline__ void prelu_slope_term(const float* x, const float* dy, i64 idx, double& s) {
    float v = x[idx];
    if (v <= 0.0f) s += (double)dy[idx] * v;
}

// PReLU backward, slope part: dSlope[c] += sum of dy * x where x <= 0; one block per channel,
// accumulated in double (channel_sum in common.cuh, as the bias gradient).
extern "C" __global__ void shears_prelu_backward_slope(const float* x, const float* dy, float* dSlope,
                                                       i64 outer, int channels, i64 inner) {
    __shared__ double scratch[32];
    channel_sum(dSlope, true, channels, outer, inner, scratch, [=](i64 idx, double& s) { prelu_slope_term(x, dy, idx, s); });
}

// The same with few channels: `parts` blocks per channel (a grid (channels, parts); see
// channel_part_first in common.cuh) write partial[c * parts + p]; shears_channel_parts_finish
// (bias.cu) with accumulate adds them to dSlope in order p = 0, 1, ... (deterministic, no atomics).
extern "C" __global__ void shears_prelu_backward_slope_partial(const float* x, const float* dy, double* partial,
                                                               i64 outer, int channels, i64 inner) {
    __shared__ double scratch[32];
    channel_sum_part(partial, channels, outer, inner, scratch, [=](i64 idx, double& s) { prelu_slope_term(x, dy, idx, s); });
}
