// Element-wise arithmetic over whole tensors. CPU twins: CpuBackend.add, mul, axpy, scale.
// (fill and copy need no kernel: the backend uses cuMemsetD32Async / cuMemcpyDtoDAsync.)
// Outputs may alias inputs: each element is read before it is written by the same thread.
#include "common.cuh"

extern "C" __global__ void shears_add(const float* a, const float* b, float* out, i64 n) {
    GRID_STRIDE(i, n) out[i] = a[i] + b[i];
}

extern "C" __global__ void shears_mul(const float* a, const float* b, float* out, i64 n) {
    GRID_STRIDE(i, n) out[i] = a[i] * b[i];
}

// y = alpha * x + y
extern "C" __global__ void shears_axpy(float alpha, const float* x, float* y, i64 n) {
    GRID_STRIDE(i, n) y[i] = alpha * x[i] + y[i];
}

// x = alpha * x
extern "C" __global__ void shears_scale(float* x, float alpha, i64 n) {
    GRID_STRIDE(i, n) x[i] = alpha * x[i];
}
