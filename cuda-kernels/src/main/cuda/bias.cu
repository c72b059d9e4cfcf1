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
// accumulated in double.
extern "C" __global__ void shears_bias_grad(const float* dy, float* dBias, i64 outer, int channels, i64 inner,
                                            int accumulate) {
    __shared__ double scratch[32];
    int c = blockIdx.x;
    double s = 0.0;
    for_each_in_channel(c, channels, outer, inner, threadIdx.x, blockDim.x, [&](i64 idx) { s += dy[idx]; });
    s = block_sum_d(s, scratch);
    if (threadIdx.x == 0) dBias[c] = (float)((accumulate ? (double)dBias[c] : 0.0) + s);
}
