// Mask update for a magnitude threshold, and mask apply; both count the ones of the new mask.
// CPU twins: CpuBackend.updateMask and CpuBackend.applyMask.
//
// Rule (Backend.updateMask): mask[i] = 0 where the old mask is 0, or |w[i]| < threshold, or
// |w[i]| == threshold and i is among the first `tiesToPrune` ties, ties ordered already-masked
// first, then by index; else 1. Masked weights are set to 0. So of the ties, the already-masked
// ones use up the quota first, and the first (tiesToPrune - maskedTies) unmasked ties by index
// are pruned. Without ties to prune one pass suffices; with them, three kernels: count the ties
// per chunk, scan the chunk counts, then apply with each tie's rank by index.
// Comparisons are on keys, the bit patterns of |w| (as MagnitudeSelect does on the CPU): -0 and
// +0 are equal, and NaN counts as the largest magnitude.
#include "common.cuh"

__device__ __forceinline__ unsigned int mask_key(float w) { return __float_as_uint(w) & 0x7fffffffu; }

// Version 1: no ties to prune. One pass; nnz (u64) gets the count of ones added atomically.
extern "C" __global__ void shears_mask_update_simple(
        float* w, unsigned char* mask, i64 n, float threshold, u64* nnz) {
    __shared__ u64 scratch[32];
    unsigned int tk = mask_key(threshold);
    u64 ones = 0;
    GRID_STRIDE(i, n) {
        bool keep = mask[i] != 0 && mask_key(w[i]) >= tk;
        mask[i] = keep ? 1 : 0;
        if (!keep) w[i] = 0.0f;
        ones += keep;
    }
    ones = block_sum_u64(ones, scratch);
    if (threadIdx.x == 0 && ones != 0) atomicAdd(nnz, ones);
}

// Elements per block in the tie kernels: MASK_ROUNDS rounds of blockDim.x (256) elements, so a
// block's chunk is contiguous and its ties can be ranked by index round by round.
#define MASK_ROUNDS 16
#define MASK_BLOCK 256
#define MASK_CHUNK (MASK_ROUNDS * MASK_BLOCK)

// Ties, step 1: per chunk, the number of unmasked ties; globally, the number of masked ties.
extern "C" __global__ void shears_mask_count_ties(
        const float* w, const unsigned char* mask, i64 n, float threshold,
        unsigned int* chunkTies, u64* maskedTies) {
    __shared__ u64 scratch[32];
    i64 base = (i64)blockIdx.x * MASK_CHUNK;
    unsigned int tk = mask_key(threshold);
    u64 unmasked = 0, masked = 0;
    for (int r = 0; r < MASK_ROUNDS; r++) {
        i64 i = base + (i64)r * MASK_BLOCK + threadIdx.x;
        if (i < n && mask_key(w[i]) == tk) {
            if (mask[i] != 0) unmasked++; else masked++;
        }
    }
    unmasked = block_sum_u64(unmasked, scratch);
    if (threadIdx.x == 0) chunkTies[blockIdx.x] = (unsigned int)unmasked;
    masked = block_sum_u64(masked, scratch);
    if (threadIdx.x == 0 && masked != 0) atomicAdd(maskedTies, masked);
}

// Ties, step 2: exclusive prefix sum of the chunk counts, one block of 1024 threads; each thread
// scans a contiguous run of chunks serially, then the runs' totals are scanned across the block.
extern "C" __global__ void __launch_bounds__(1024) shears_mask_scan_ties(
        const unsigned int* chunkTies, i64 chunks, u64* chunkOffsets) {
    __shared__ u64 warpTotals[32];
    i64 per = (chunks + blockDim.x - 1) / blockDim.x;
    i64 begin = per * threadIdx.x;
    i64 end = begin + per < chunks ? begin + per : chunks;
    u64 total = 0;
    for (i64 c = begin; c < end; c++) total += chunkTies[c];
    u64 offset = block_exclusive_scan_u64(total, warpTotals);
    for (i64 c = begin; c < end; c++) {
        chunkOffsets[c] = offset;
        offset += chunkTies[c];
    }
}

// Ties, step 3: writes the new mask. An unmasked tie's rank is its chunk's offset plus the ties
// before it in the chunk (earlier rounds, earlier warps of this round, lower lanes of its warp);
// it is pruned when rank < tiesToPrune - maskedTies.
extern "C" __global__ void shears_mask_apply_ties(
        float* w, unsigned char* mask, i64 n, float threshold,
        const u64* chunkOffsets, const u64* maskedTies, i64 tiesToPrune, u64* nnz) {
    __shared__ unsigned int warpCounts[MASK_BLOCK / 32];
    __shared__ u64 scratch[32];
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    i64 quota = tiesToPrune - (i64)*maskedTies;
    unsigned int tk = mask_key(threshold);
    u64 running = chunkOffsets[blockIdx.x];
    i64 base = (i64)blockIdx.x * MASK_CHUNK;
    u64 ones = 0;
    for (int r = 0; r < MASK_ROUNDS; r++) {
        i64 i = base + (i64)r * MASK_BLOCK + threadIdx.x;
        bool in = i < n;
        unsigned int key = in ? mask_key(w[i]) : 0u;
        bool old = in && mask[i] != 0;
        bool tie = old && key == tk;
        unsigned int ballot = __ballot_sync(FULL_MASK, tie);
        if (lane == 0) warpCounts[warp] = __popc(ballot);
        __syncthreads();
        u64 before = running + __popc(ballot & ((1u << lane) - 1u));
        u64 roundTotal = 0;
        for (int v = 0; v < MASK_BLOCK / 32; v++) {
            if (v < warp) before += warpCounts[v];
            roundTotal += warpCounts[v];
        }
        if (in) {
            bool keep = old && key >= tk && !(tie && (i64)before < quota);
            mask[i] = keep ? 1 : 0;
            if (!keep) w[i] = 0.0f;
            ones += keep;
        }
        running += roundTotal;
        __syncthreads();  // warpCounts is rewritten next round
    }
    ones = block_sum_u64(ones, scratch);
    if (threadIdx.x == 0 && ones != 0) atomicAdd(nnz, ones);
}

// w = 0 where the mask is 0 (exactly 0, as the CPU twin writes); nnz gets the count of ones.
extern "C" __global__ void shears_mask_apply(float* w, const unsigned char* mask, i64 n, u64* nnz) {
    __shared__ u64 scratch[32];
    u64 ones = 0;
    GRID_STRIDE(i, n) {
        bool keep = mask[i] != 0;
        if (!keep) w[i] = 0.0f;
        ones += keep;
    }
    ones = block_sum_u64(ones, scratch);
    if (threadIdx.x == 0 && ones != 0) atomicAdd(nnz, ones);
}
