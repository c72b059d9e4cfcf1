// Bias add and bias gradient over x viewed as [outer, channels, inner].
// CPU twins: CpuBackend.addBias and CpuBackend.biasGrad.
#include "common.cuh"

// x[o, c, i] += bias[c]
extern "C" __global__ void shears_add_bias(float* x, const float* bias, i64 outer, int channels, i64 inner) {
    i64 n = outer * channels * inner;
    GRID_STRIDE(i, n) {
        int c = (int)((i / inner) % channels);
        x[i] += bias[c];
    }
}

// dBias[c] = (accumulate ? dBias[c] : 0) + sum over o, i of dy[o, c, i]; one block per channel,
// accumulated in double.
extern "C" __global__ void shears_bias_grad(const float* dy, float* dBias, i64 outer, int channels, i64 inner,
                                            int accumulate) {
    __shared__ double scratch[32];
    int c = blockIdx.x;
    i64 count = outer * inner;
    double s = 0.0;
    for (i64 j = threadIdx.x; j < count; j += blockDim.x) {
        i64 o = j / inner, i = j - o * inner;
        s += dy[(o * channels + c) * inner + i];
    }
    s = block_sum_d(s, scratch);
    if (threadIdx.x == 0) dBias[c] = (float)((accumulate ? (double)dBias[c] : 0.0) + s);
}
