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

// The first index and the stride of a grid-stride loop (what GRID_STRIDE uses).
__device__ __forceinline__ i64 grid_first() { return (i64)blockIdx.x * blockDim.x + threadIdx.x; }
__device__ __forceinline__ i64 grid_stride() { return (i64)blockDim.x * gridDim.x; }

// A loop index kept as mixed-radix digits, advanced by a fixed step with adds and carries instead
// of dividing per element. Splitting a flat index into (outer, channel, inner) or image coordinates
// with / and % costs a 64-bit division each (nvcc tests the high words and takes a ~20-instruction
// 32-bit division when both fit, else calls its ~70-instruction 64-bit routine), several per element
// in im2col. Here the divisions happen once per thread: the first index's digits, and the step's
// when the thread takes a second step. radix[0] is the fastest-varying dimension; `top` is the index
// divided by the product of all radices (the slowest dimension, unbounded). Exact for any index
// below 2^63: each digit stays below its radix, so one carry per digit suffices.
// T is the digit type: unsigned for int-sized dimensions (digit + step + carry < 2 * 2^31), i64
// otherwise. Usage: set radix[], start(first, step, n), then advance() after each step.
template <typename T, int D>
struct Digits {
    T radix[D];  // the dimensions' sizes, fastest first; each >= 1
    T digit[D];  // digits of the current index
    T step[D];   // digits of the step
    i64 top, stepTop;

    __device__ __forceinline__ void split(i64 v, T* d, i64& q) const {
#pragma unroll
        for (int k = 0; k < D; k++) {
            i64 nq = v / (i64)radix[k];
            d[k] = (T)(v - nq * (i64)radix[k]);
            v = nq;
        }
        q = v;
    }

    // Digits of `first`; of `step` only when first + step < n (a thread with one element skips it).
    __device__ __forceinline__ void start(i64 first, i64 stride, i64 n) {
        split(first, digit, top);
        if (first + stride < n) {
            split(stride, step, stepTop);
        } else {
#pragma unroll
            for (int k = 0; k < D; k++) step[k] = 0;
            stepTop = 0;
        }
    }

    __device__ __forceinline__ void advance() {
        T carry = 0;
#pragma unroll
        for (int k = 0; k < D; k++) {
            T d = digit[k] + step[k] + carry;
            carry = d >= radix[k] ? 1 : 0;
            digit[k] = carry ? d - radix[k] : d;
        }
        top += stepTop + (i64)carry;
    }
};

// Calls f(idx) for idx = flat index of [o, c, i] in x viewed as [outer, channels, inner], over
// j = o * inner + i for j = first, first + stride, ... < outer * inner, in that order: a thread's
// share of one channel in the per-channel reductions (bias gradient, batch norm, PReLU slope).
template <typename F>
__device__ __forceinline__ void for_each_in_channel(int c, int channels, i64 outer, i64 inner, i64 first, i64 stride,
                                                    F f) {
    i64 count = outer * inner;
    Digits<i64, 1> at;  // (i), o = at.top
    at.radix[0] = inner;
    at.start(first, stride, count);
    for (i64 j = first; j < count; j += stride, at.advance()) f((at.top * channels + c) * inner + at.digit[0]);
}

// GRID_STRIDE with `at` (a Digits whose radices are set) holding the digits of i.
#define GRID_STRIDE_DIGITS(i, n, at) \
    at.start(grid_first(), grid_stride(), (i64)(n)); \
    for (i64 i = grid_first(); i < (i64)(n); i += grid_stride(), at.advance())

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

// Inclusive prefix sum across the warp: lane i gets the sum of v over lanes 0..i.
__device__ __forceinline__ u64 warp_inclusive_scan_u64(u64 v, int lane) {
    for (int o = 1; o < 32; o <<= 1) {
        u64 up = __shfl_up_sync(FULL_MASK, v, o);
        if (lane >= o) v += up;
    }
    return v;
}

// Block-wide exclusive prefix sum in thread order (blockDim.x a multiple of 32, at most 1024): the
// sum of v over the threads before this one. `warpTotals` holds 32 u64 of shared memory and ends
// with each warp's inclusive total. Two barriers: every thread of the block must call it.
__device__ __forceinline__ u64 block_exclusive_scan_u64(u64 v, u64* warpTotals) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    u64 scan = warp_inclusive_scan_u64(v, lane);
    if (lane == 31) warpTotals[warp] = scan;
    __syncthreads();
    if (warp == 0) {
        u64 t = warp_inclusive_scan_u64(lane < warps ? warpTotals[lane] : 0, lane);
        if (lane < warps) warpTotals[lane] = t;  // inclusive totals per warp
    }
    __syncthreads();
    return scan - v + (warp > 0 ? warpTotals[warp - 1] : 0);
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

// The per-channel sums of the bias and PReLU slope gradients: this block's double sum over
// channel c's j = first, first + stride, ... (for_each_in_channel's), term(idx, s) adding element
// idx's term to the thread's sum s (or nothing: PReLU skips x > 0; a visitor rather than a
// returned term keeps the old kernels' code and registers). Each thread adds its terms in
// increasing j, then block_sum_d adds the threads' sums in a fixed tree, so the result is the
// same run to run. Valid in thread 0.
template <typename Term>
__device__ __forceinline__ double channel_block_sum(int c, int channels, i64 outer, i64 inner, i64 first, i64 stride,
                                                    double* scratch, Term term) {
    double s = 0.0;
    for_each_in_channel(c, channels, outer, inner, first, stride, [&](i64 idx) { term(idx, s); });
    return block_sum_d(s, scratch);
}

// A channel split over several blocks (the per-channel reductions with few channels): block
// (c, p) = (blockIdx.x, blockIdx.y) of a grid (channels, parts) takes j = p * blockDim.x +
// threadIdx.x of the channel, stepping by parts * blockDim.x (for_each_in_channel's first and
// stride), and writes its double partial sum to [c * parts + p].
__device__ __forceinline__ i64 channel_part_first() { return (i64)blockIdx.y * blockDim.x + threadIdx.x; }
__device__ __forceinline__ i64 channel_part_stride() { return (i64)gridDim.y * blockDim.x; }

// The body of a one-block-per-channel sum kernel (a grid (channels)): out[c] = (accumulate ?
// out[c] : 0) + channel c's sum of term, added in double and rounded once. scratch: 32 shared
// doubles, declared by the kernel.
template <typename Term>
__device__ __forceinline__ void channel_sum(float* out, bool accumulate, int channels, i64 outer, i64 inner,
                                            double* scratch, Term term) {
    int c = blockIdx.x;
    double s = channel_block_sum(c, channels, outer, inner, threadIdx.x, blockDim.x, scratch, term);
    if (threadIdx.x == 0) out[c] = (float)((accumulate ? (double)out[c] : 0.0) + s);
}

// The body of its split form (a grid (channels, parts)): block (c, p) writes its sum of term to
// partial[c * parts + p] (partial: [channels, parts] doubles); shears_channel_parts_finish (bias.cu)
// then adds each channel's parts in order p = 0, 1, ...
template <typename Term>
__device__ __forceinline__ void channel_sum_part(double* partial, int channels, i64 outer, i64 inner, double* scratch,
                                                 Term term) {
    int c = blockIdx.x, parts = gridDim.y;
    double s = channel_block_sum(c, channels, outer, inner, channel_part_first(), channel_part_stride(), scratch, term);
    if (threadIdx.x == 0) partial[(i64)c * parts + blockIdx.y] = s;
}

// The sum of one channel's partial sums partial[0, parts) in an order fixed by parts alone (lane l
// of warp 0 adds p = l, l + 32, ... in turn, then warp_sum_d's tree), so that every block of the
// channel, and every run, gets the same bits; broadcast to every thread of the block.
__device__ __forceinline__ double sum_parts_all(const double* partial, int parts, double* scratch) {
    __syncthreads();  // scratch may still be read from a previous call
    if (threadIdx.x < 32) {
        double s = 0.0;
        for (int p = threadIdx.x; p < parts; p += 32) s += partial[p];
        s = warp_sum_d(s);
        if (threadIdx.x == 0) scratch[0] = s;
    }
    __syncthreads();
    return scratch[0];
}

// The mask value as 0/1 whatever non-zero byte marks "kept"; a null mask keeps everything.
__device__ __forceinline__ float mask_value(const unsigned char* mask, i64 i) {
    return mask == nullptr ? 1.0f : (mask[i] != 0 ? 1.0f : 0.0f);
}
