// Shared helpers for every Shears kernel file. Each .cu includes this header, so a file also
// compiles on its own; shears_kernels.cu includes all of them to build the one fatbin.
#pragma once
#include <stdint.h>

typedef long long i64;
typedef unsigned long long u64;

// Grid-stride loop over [0, n) with a 64-bit index (tensors can exceed 2^31 elements).
#define GRID_STRIDE(i, n) \
    for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < (i64)(n); i += (i64)blockDim.x * gridDim.x)

#define FULL_MASK 0xffffffffu

__device__ __forceinline__ float warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(FULL_MASK, v, o);
    return v;
}

__device__ __forceinline__ double warp_sum_d(double v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(FULL_MASK, v, o);
    return v;
}

__device__ __forceinline__ u64 warp_sum_u64(u64 v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(FULL_MASK, v, o);
    return v;
}

__device__ __forceinline__ float warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_down_sync(FULL_MASK, v, o));
    return v;
}

// Block-wide sum (blockDim.x a multiple of 32, at most 1024); the result is valid in thread 0.
// `scratch` holds at least 32 doubles of shared memory; safe to call repeatedly.
__device__ __forceinline__ double block_sum_d(double v, double* scratch) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    v = warp_sum_d(v);
    __syncthreads();  // scratch may still be read from a previous call
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    int warps = blockDim.x >> 5;
    v = threadIdx.x < warps ? scratch[threadIdx.x] : 0.0;
    if (warp == 0) v = warp_sum_d(v);
    return v;
}

__device__ __forceinline__ u64 block_sum_u64(u64 v, u64* scratch) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    v = warp_sum_u64(v);
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    int warps = blockDim.x >> 5;
    v = threadIdx.x < warps ? scratch[threadIdx.x] : 0ull;
    if (warp == 0) v = warp_sum_u64(v);
    return v;
}

// Sum over the block, the result broadcast to every thread.
__device__ __forceinline__ double block_allsum_d(double v, double* scratch) {
    v = block_sum_d(v, scratch);
    __syncthreads();
    if (threadIdx.x == 0) scratch[0] = v;
    __syncthreads();
    v = scratch[0];
    return v;
}

// The mask value as 0/1 whatever non-zero byte marks "kept"; a null mask keeps everything.
__device__ __forceinline__ float mask_value(const unsigned char* mask, i64 i) {
    return mask == nullptr ? 1.0f : (mask[i] != 0 ? 1.0f : 0.0f);
}
