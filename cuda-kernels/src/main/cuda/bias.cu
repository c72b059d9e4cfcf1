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

// This block's double sum of dy[o, c, i] over j = o * inner + i for this thread's j = first,
// first + stride, ... (for_each_in_channel's): each thread sums its j in increasing order, then
// block_sum_d adds the threads' sums in a fixed tree, so the result is the same run to run.
// Valid in thread 0.
__device__ __forceinline__ double channel_block_sum(const float* dy, int c, int channels, i64 outer, i64 inner,
                                                    i64 first, i64 stride, double* scratch) {
    double s = 0.0;
    for_each_in_channel(c, channels, outer, inner, first, stride, [&](i64 idx) { s += dy[idx]; });
    return block_sum_d(s, scratch);
}

// dBias[c] = (accumulate ? dBias[c] : 0) + sum over o, i of dy[o, c, i]; one block per channel,
// accumulated in double. The launcher takes it when there are channels enough to fill the GPU.
extern "C" __global__ void shears_bias_grad(const float* dy, float* dBias, i64 outer, int channels, i64 inner,
                                            int accumulate) {
    __shared__ double scratch[32];
    int c = blockIdx.x;
    double s = channel_block_sum(dy, c, channels, outer, inner, threadIdx.x, blockDim.x, scratch);
    if (threadIdx.x == 0) dBias[c] = (float)((accumulate ? (double)dBias[c] : 0.0) + s);
}

// With few channels (a 32-channel conv on a 132-SM GPU), one block per channel leaves most SMs
// idle: `parts` blocks share each channel instead (a grid (channels, parts); see channel_part_first
// in common.cuh), block (c, p) summing into partial[c * parts + p] (partial: [channels, parts]
// doubles); shears_bias_grad_finish adds the parts in order p = 0, 1, ...
// No atomics: the result is the same run to run (not bit-identical to the one-block kernel, whose
// order differs; both are within the parity tests' reduction tolerance of the CPU twin).
extern "C" __global__ void shears_bias_grad_partial(const float* dy, double* partial, i64 outer, int channels,
                                                    i64 inner) {
    __shared__ double scratch[32];
    int c = blockIdx.x, parts = gridDim.y;
    double s = channel_block_sum(dy, c, channels, outer, inner, channel_part_first(), channel_part_stride(), scratch);
    if (threadIdx.x == 0) partial[(i64)c * parts + blockIdx.y] = s;
}

// dBias[c] = (accumulate ? dBias[c] : 0) + sum over p of partial[c * parts + p], one thread per
// channel, parts in increasing order.
extern "C" __global__ void shears_bias_grad_finish(const double* partial, float* dBias, int channels, int parts,
                                                   int accumulate) {
    GRID_STRIDE(c, channels) {
        double s = 0.0;
        for (int p = 0; p < parts; p++) s += partial[c * parts + p];
        dBias[c] = (float)((accumulate ? (double)dBias[c] : 0.0) + s);
    }
}
