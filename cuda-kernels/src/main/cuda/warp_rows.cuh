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

// The first arg-max of row xr [cols] (the lowest index among equal maxima; NaN never wins; a row of
// only NaN, or of no columns, gives 0: CpuBackend.countCorrect's and HostKernels.argMax's rule),
// valid in lane 0. Each lane keeps the first maximum of its columns lane, lane + 32, ...; the
// shuffle tree then keeps the lower index of equal maxima, so the order of the lanes cannot matter.
__device__ __forceinline__ int warp_row_argmax(const float* xr, int cols, int lane) {
    const int none = 0x7fffffff;  // no candidate yet
    float best = -INFINITY;
    int bestJ = none;
    for (int j = lane; j < cols; j += 32) {
        float v = xr[j];
        if (v == v && (bestJ == none || v > best)) { best = v; bestJ = j; }  // first max in this lane's columns
    }
    for (int o = 16; o > 0; o >>= 1) {
        float ob = __shfl_down_sync(FULL_MASK, best, o);
        int oj = __shfl_down_sync(FULL_MASK, bestJ, o);
        if (oj != none && (bestJ == none || ob > best || (ob == best && oj < bestJ))) { best = ob; bestJ = oj; }
    }
    return bestJ == none ? 0 : bestJ;
}
