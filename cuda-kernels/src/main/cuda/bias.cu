// Bias add and bias gradient over x viewed as [outer, channels, inner].
// CPU twins: CpuBackend.addBias and CpuBackend.biasGrad.
#include "common.cuh"

// x[o, c, i] += bias[c]; the channel comes from a Digits counter, not a division per element.
extern "C" __global__ void shears_add_bias(float* x, const float* bias, i64 outer, int channels, i64 inner) {
    i64 n = outer * channels * inner;
    Digits<i64, 2> at;  // (i, c), o = at.top
    at.radix[0] = inner;
    at.radix[1] = channels;
    GRID_STRIDE_DIGITS(i, n, at) x[i] += bias[at.digit[1]];
}

// dBias[c] = (accumulate ? dBias[c] : 0) + sum over o, i of dy[o, c, i]; one block per channel,
// accumulated in double (channel_sum in common.cuh). The launcher takes it when there are
// channels enough to fill the GPU.
extern "C" __global__ void shears_bias_grad(const float* dy, float* dBias, i64 outer, int channels, i64 inner,
                                            int accumulate) {
    __shared__ double scratch[32];
    channel_sum(dBias, accumulate != 0, channels, outer, inner, scratch, [=](i64 idx, double& s) { s += dy[idx]; });
}

// With few channels (a 32-channel conv on a 132-SM GPU), one block per channel leaves most SMs
// idle: `parts` blocks share each channel instead (a grid (channels, parts); see
// channel_part_first in common.cuh), block (c, p) summing into partial[c * parts + p] (partial:
// [channels, parts] doubles); shears_channel_parts_finish adds the parts in order p = 0, 1, ...
// No atomics: the result is the same run to run (not bit-identical to the one-block kernel, whose
// order differs; both are within the parity tests' reduction tolerance of the CPU twin).
extern "C" __global__ void shears_bias_grad_partial(const float* dy, double* partial, i64 outer, int channels,
                                                    i64 inner) {
    __shared__ double scratch[32];
    channel_sum_part(partial, channels, outer, inner, scratch, [=](i64 idx, double& s) { s += dy[idx]; });
}

// out[c] = (accumulate ? out[c] : 0) + sum over p of partial[c * parts + p] (partial: [channels,
// parts] doubles from a channel_sum_part kernel; out: [channels]), one thread per channel, parts
// in increasing order. It finishes every split per-channel sum that ends in a float per channel:
// the bias gradient's (shears_bias_grad_partial) and the PReLU slope gradient's
// (shears_prelu_backward_slope_partial, accumulating). Batch norm's split kernels instead add
// their parts inside the next launch's blocks (sum_parts_all in common.cuh), every block of a
// channel needing the total, so they need no finishing launch.
extern "C" __global__ void shears_channel_parts_finish(const double* partial, float* out, int channels, int parts,
                                                       int accumulate) {
    GRID_STRIDE(c, channels) {
        double s = 0.0;
        for (int p = 0; p < parts; p++) s += partial[c * parts + p];
        out[c] = (float)((accumulate ? (double)out[c] : 0.0) + s);
    }
}
