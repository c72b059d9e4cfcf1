// One warp per row of a [rows, cols] matrix (blockDim.x a multiple of 32): the row reductions that
// softmax.cu and cross_entropy.cu share. Each lane walks columns lane, lane + 32, ...; the warp's
// total is then handed to every lane, so the same order of operations gives the same bits in each.
#pragma once
#include "common.cuh"

// The row this thread's warp handles (blockDim.x = 256: 8 rows per block).
__device__ __forceinline__ i64 warp_row() { return (i64)blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5); }

// warp_sum of each lane's v, handed to every lane.
__device__ __forceinline__ float warp_sum_all(float v) { return __shfl_sync(FULL_MASK, warp_sum(v), 0); }

// The maximum of row xr [cols], handed to every lane.
__device__ __forceinline__ float warp_row_max(const float* xr, int cols, int lane) {
    float mx = -INFINITY;
    for (int j = lane; j < cols; j += 32) mx = fmaxf(mx, xr[j]);
    return __shfl_sync(FULL_MASK, warp_max(mx), 0);
}

// The sum of exp(xr[j] - mx) over row xr [cols] (softmax's denominator), handed to every lane.
__device__ __forceinline__ float warp_row_exp_sum(const float* xr, int cols, float mx, int lane) {
    float s = 0.0f;
    for (int j = lane; j < cols; j += 32) s += expf(xr[j] - mx);
    return warp_sum_all(s);
}
