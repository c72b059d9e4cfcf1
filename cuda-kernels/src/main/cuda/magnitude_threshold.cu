// Batched magnitude threshold: an exact radix select over |w| for many tensors at once.
// CPU twin: CpuBackend.magnitudeThresholds (the k-th smallest |w| per tensor, or one global k-th
// smallest over all tensors, with per-tensor counts below and equal to the threshold).
//
// The key of a weight is the bit pattern of |w| (the sign bit cleared): for non-negative IEEE
// floats the unsigned bit pattern orders exactly like the value, so selecting the k-th smallest
// key digit by digit (most significant first) yields the exact k-th smallest |w|, ties included,
// with no sorting and no copying. Each pass histograms one digit of the keys that still match the
// prefix chosen so far, then a select step picks the digit containing the k-th key.
//
// Tensors are passed as a device array of pointers plus sizes; histograms are kept per tensor
// (hist[t * 2048 + bin]) so that per-tensor "below" and "equal" counts come for free in global
// scope too. Per group g (a tensor in layer scope; everything in global scope) the state is
// prefix[g] (the key bits chosen so far) and krem[g] (the rank still to find inside them).
#include "common.cuh"

#define THRESHOLD_MAX_BINS 2048

__device__ __forceinline__ unsigned int magnitude_key(float w) {
    return __float_as_uint(w) & 0x7fffffffu;
}

// Version 1 (naive, kept as the reference): one thread per element, global atomics; the grid's
// y dimension walks the tensors. Use with 8-bit digits (4 passes).
extern "C" __global__ void shears_threshold_histogram_naive(
        const float* const* ptrs, const i64* sizes, int global,
        const unsigned int* prefix, unsigned int hiMask, int shift, int bits,
        unsigned int* hist) {
    int t = blockIdx.y;
    const float* w = ptrs[t];
    i64 n = sizes[t];
    unsigned int p = prefix[global ? 0 : t] & hiMask;
    unsigned int binMask = (1u << bits) - 1u;
    GRID_STRIDE(i, n) {
        unsigned int key = magnitude_key(w[i]);
        if ((key & hiMask) == p) atomicAdd(&hist[(i64)t * THRESHOLD_MAX_BINS + ((key >> shift) & binMask)], 1u);
    }
}

// Version 2: tiles of THRESHOLD_TILE elements; block b works on tile b - blockStart[t] of the
// tensor t with blockStart[t] <= b < blockStart[t+1] (found by binary search), histograms the
// tile in shared memory and flushes the non-zero bins with one global atomic each. Zero keys
// (already-pruned weights, often most of a tensor late in pruning) are counted in a register:
// they all land in bin 0 in every pass and would otherwise serialise on one shared counter.
// Loads are float4 when the tensor's base is 16-byte aligned. Use with 11-bit digits (3 passes).
//
// Compaction (modes), so that the 3 passes read the weights twice, not three times: the keys
// that can still hold the k-th after pass 1 are those matching pass 1's 11-bit prefix, a small
// part of the data for any spread of magnitudes (one eighth of an octave: a few percent of a
// normal or uniform tensor). Mode 1 (pass 2) also appends each key matching the prefix to the
// block's own region of THRESHOLD_COMPACT_CAP keys and writes the block's count (the true count,
// even past the cap); mode 2 (pass 3) histograms the region when the count fits, else the tile
// again (a tile of near-equal magnitudes, or of zeros while the prefix is zero). Either way the
// same keys are counted, so results are identical; mode 0 is the plain pass.
#define THRESHOLD_TILE 32768
#define THRESHOLD_COMPACT_CAP (THRESHOLD_TILE / 4)

// One key into the block's shared histogram; zero keys (see above) into the register `zeros`.
// COMPACT: a key matching the prefix (zero included) also goes to region[slot] when it fits.
template <bool COMPACT>
__device__ __forceinline__ void threshold_count_key(unsigned int key, unsigned int hiMask, unsigned int p, int shift,
                                                    unsigned int binMask, bool zeroMatches, unsigned int& zeros,
                                                    unsigned int* sh, unsigned int* nCompact, unsigned int* region) {
    if (key == 0) {
        zeros += zeroMatches;
        if (COMPACT && zeroMatches) {
            unsigned int slot = atomicAdd(nCompact, 1u);
            if (slot < THRESHOLD_COMPACT_CAP) region[slot] = 0u;
        }
        return;
    }
    if ((key & hiMask) == p) {
        atomicAdd(&sh[(key >> shift) & binMask], 1u);
        if (COMPACT) {
            unsigned int slot = atomicAdd(nCompact, 1u);
            if (slot < THRESHOLD_COMPACT_CAP) region[slot] = key;
        }
    }
}

// The block's tile [begin, end) of w into the shared histogram.
template <bool COMPACT>
__device__ __forceinline__ void threshold_tile(const float* w, i64 begin, i64 end, unsigned int hiMask, unsigned int p,
                                               int shift, unsigned int binMask, bool zeroMatches, unsigned int& zeros,
                                               unsigned int* sh, unsigned int* nCompact, unsigned int* region) {
#define SHEARS_COUNT(v) threshold_count_key<COMPACT>(magnitude_key(v), hiMask, p, shift, binMask, zeroMatches, zeros, sh, nCompact, region)
    if ((reinterpret_cast<uintptr_t>(w) & 15) == 0) {
        // __ldg: w comes out of a pointer table, so without it the compiler cannot prove the
        // address global and emits generic LD.E.128; LDG.E.128.CONSTANT takes the read-only path.
        // Four independent 16-byte loads per thread before any is used keep 64 bytes in flight
        // per thread, which a bandwidth-bound pass needs (one load, then a branchy body, did not).
        const float4* w4 = reinterpret_cast<const float4*>(w + begin);
        i64 n4 = (end - begin) >> 2;
        i64 i = threadIdx.x;
        for (; i + 3 * (i64)blockDim.x < n4; i += 4 * (i64)blockDim.x) {
            float4 v[4];
#pragma unroll
            for (int u = 0; u < 4; u++) v[u] = __ldg(w4 + i + u * (i64)blockDim.x);
#pragma unroll
            for (int u = 0; u < 4; u++) {
                SHEARS_COUNT(v[u].x);
                SHEARS_COUNT(v[u].y);
                SHEARS_COUNT(v[u].z);
                SHEARS_COUNT(v[u].w);
            }
        }
        for (; i < n4; i += blockDim.x) {
            float4 v = __ldg(w4 + i);
            SHEARS_COUNT(v.x);
            SHEARS_COUNT(v.y);
            SHEARS_COUNT(v.z);
            SHEARS_COUNT(v.w);
        }
        for (i64 j = begin + (n4 << 2) + threadIdx.x; j < end; j += blockDim.x) SHEARS_COUNT(__ldg(w + j));
    } else {
        for (i64 j = begin + threadIdx.x; j < end; j += blockDim.x) SHEARS_COUNT(__ldg(w + j));
    }
#undef SHEARS_COUNT
}

// mode: 0 plain, 1 plain and compact, 2 from the compacted keys where they fit (see above).
// compactKeys: THRESHOLD_COMPACT_CAP keys per block (block b's at b * CAP); compactCounts: one
// per block. Both unused (may be null) in mode 0.
extern "C" __global__ void shears_threshold_histogram(
        const float* const* ptrs, const i64* sizes, const i64* blockStart, int numTensors, int global,
        const unsigned int* prefix, unsigned int hiMask, int shift, int bits,
        unsigned int* hist, int mode, unsigned int* compactKeys, unsigned int* compactCounts) {
    __shared__ unsigned int sh[THRESHOLD_MAX_BINS];
    __shared__ int tensorIndex;
    __shared__ unsigned int nCompact;
    int bins = 1 << bits;
    for (int b = threadIdx.x; b < bins; b += blockDim.x) sh[b] = 0;
    if (threadIdx.x == 0) {
        int lo = 0, hi = numTensors - 1;
        i64 b = blockIdx.x;
        while (lo < hi) {  // the last t with blockStart[t] <= b
            int mid = (lo + hi + 1) >> 1;
            if (blockStart[mid] <= b) lo = mid; else hi = mid - 1;
        }
        tensorIndex = lo;
        nCompact = 0;
    }
    __syncthreads();
    int t = tensorIndex;
    const float* w = ptrs[t];
    i64 n = sizes[t];
    i64 begin = (blockIdx.x - blockStart[t]) * (i64)THRESHOLD_TILE;
    i64 end = begin + THRESHOLD_TILE < n ? begin + THRESHOLD_TILE : n;
    unsigned int p = prefix[global ? 0 : t] & hiMask;
    unsigned int binMask = (unsigned int)bins - 1u;
    unsigned int zeros = 0;
    bool zeroMatches = p == 0;  // key 0 matches the prefix only while the prefix is all zeros
    unsigned int* region = compactKeys + (i64)blockIdx.x * THRESHOLD_COMPACT_CAP;

    if (mode == 1) {
        threshold_tile<true>(w, begin, end, hiMask, p, shift, binMask, zeroMatches, zeros, sh, &nCompact, region);
    } else if (mode == 2 && compactCounts[blockIdx.x] <= THRESHOLD_COMPACT_CAP) {
        // Every key here matched the previous pass's prefix; this pass's prefix filters them again.
        unsigned int count = compactCounts[blockIdx.x];
        for (unsigned int j = threadIdx.x; j < count; j += blockDim.x) {
            threshold_count_key<false>(region[j], hiMask, p, shift, binMask, zeroMatches, zeros, sh, nullptr, nullptr);
        }
    } else {
        threshold_tile<false>(w, begin, end, hiMask, p, shift, binMask, zeroMatches, zeros, sh, nullptr, nullptr);
    }
    // Add the register-counted zeros: one shared atomic per warp.
    for (int o = 16; o > 0; o >>= 1) zeros += __shfl_down_sync(FULL_MASK, zeros, o);
    if ((threadIdx.x & 31) == 0 && zeros != 0) atomicAdd(&sh[0], zeros);
    __syncthreads();
    if (mode == 1 && threadIdx.x == 0) compactCounts[blockIdx.x] = nCompact;
    unsigned int* out = hist + (i64)t * THRESHOLD_MAX_BINS;
    for (int b = threadIdx.x; b < bins; b += blockDim.x) {
        unsigned int c = sh[b];
        if (c != 0) atomicAdd(&out[b], c);
    }
}

// Select step, one block of 1024 threads per group (grid = numTensors in layer scope, 1 in
// global scope). Sums the group's histograms, finds the bin holding rank krem[g] by a block-wide
// prefix sum, appends the bin to prefix[g], lowers krem[g] by the count below it, and adds each
// member tensor's count below the bin to below[t]; on the last pass writes equal[t] = its count
// in the bin. Finally clears the group's histograms for the next pass.
extern "C" __global__ void __launch_bounds__(1024) shears_threshold_select(
        int numTensors, int global, int shift, int bits, int lastPass,
        unsigned int* hist, unsigned int* prefix, i64* krem, i64* below, i64* equal) {
    __shared__ u64 warpTotals[32];
    __shared__ int selBin;
    __shared__ u64 selBelow;
    int g = blockIdx.x;
    int tFirst = global ? 0 : g;
    int tEnd = global ? numTensors : g + 1;
    int bins = 1 << bits;
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;

    // Each thread owns two consecutive bins (bins <= 2 * blockDim.x).
    int b0 = 2 * threadIdx.x, b1 = b0 + 1;
    u64 c0 = 0, c1 = 0;
    for (int t = tFirst; t < tEnd; t++) {
        const unsigned int* h = hist + (i64)t * THRESHOLD_MAX_BINS;
        if (b0 < bins) c0 += h[b0];
        if (b1 < bins) c1 += h[b1];
    }
    if (threadIdx.x == 0) { selBin = -1; selBelow = 0; }  // visible to all after the scan's barriers
    u64 before = block_exclusive_scan_u64(c0 + c1, warpTotals);  // exclusive prefix of b0
    u64 k = (u64)krem[g];
    // Exactly one thread sees the rank fall inside one of its bins.
    if (b0 < bins && before < k && k <= before + c0) { selBin = b0; selBelow = before; }
    else if (b1 < bins && before + c0 < k && k <= before + c0 + c1) { selBin = b1; selBelow = before + c0; }
    __syncthreads();
    int sel = selBin;
    if (threadIdx.x == 0) {
        // sel == -1 cannot happen when 1 <= k <= group size (checked on the host); keep the state
        // recognisable instead of indexing out of range if it ever does.
        if (sel >= 0) {
            prefix[g] |= (unsigned int)sel << shift;
            krem[g] = (i64)(k - selBelow);
        } else {
            krem[g] = -1;
        }
    }
    if (sel >= 0) {
        // Per member tensor: its count below the selected bin (one warp per tensor).
        for (int t = tFirst + warp; t < tEnd; t += warps) {
            const unsigned int* h = hist + (i64)t * THRESHOLD_MAX_BINS;
            u64 s = 0;
            for (int b = lane; b < sel; b += 32) s += h[b];
            s = warp_sum_u64(s);
            if (lane == 0) {
                below[t] += (i64)s;
                if (lastPass) equal[t] = (i64)h[sel];
            }
        }
    }
    __syncthreads();
    for (int t = tFirst; t < tEnd; t++) {
        unsigned int* h = hist + (i64)t * THRESHOLD_MAX_BINS;
        for (int b = threadIdx.x; b < bins; b += blockDim.x) h[b] = 0;
    }
}
