// Axis permutation y = x with axes permuted (ONNX Transpose, Keras Permute): y's axis i is x's
// axis perm[i]. CPU twin: HostKernels.permute (gpu-core).
// The launcher (PermuteKernels, via PermutePlan) first drops axes of length 1 and merges runs of
// axes that stay adjacent and in order, so the kernels see the smallest equivalent permutation;
// an identity becomes a device-to-device copy and never reaches them. Both kernels move bits (no
// arithmetic): the result is exact.
#include "common.cuh"

// Axes a kernel takes after merging (a tensor of at most 2^31-1 elements with every axis >= 2 has
// at most 31; PermutePlan refuses more than this with the shape in the message).
#define PERMUTE_MAX_RANK 16
// Edge of the square tile of shears_permute_tiled; blocks of 256 threads cover it in 4 passes.
#define PERMUTE_TILE 32

// One value per axis of the output (a struct of 16 ints, passed by value: KernelArgs.ints).
struct PermuteAxes {
    int v[PERMUTE_MAX_RANK];
};

// Version 1, naive: one thread per output element in output order, so a warp's writes are 32
// consecutive floats (coalesced); each thread gathers its source through the odometer of the
// output index. Reads are coalesced too when x's innermost axis stays innermost (a run of
// srcStride 1); otherwise they stride, which shears_permute_tiled fixes.
// outDims: y's dimensions; srcStride: x's stride (in elements) of each of y's axes; n < 2^31.
extern "C" __global__ void shears_permute(const float* x, float* y, PermuteAxes outDims, PermuteAxes srcStride, int rank, i64 n) {
    GRID_STRIDE(o, n) {
        unsigned rem = (unsigned)o, src = 0;
        // unrolled over the fixed maximum so every axis index is a constant (the struct stays in
        // the constant bank instead of being copied to local memory for dynamic indexing)
#pragma unroll
        for (int k = 0; k < PERMUTE_MAX_RANK; k++) {
            int a = PERMUTE_MAX_RANK - 1 - k;
            if (a < rank) {
                unsigned d = (unsigned)outDims.v[a];
                unsigned q = rem / d;
                src += (rem - q * d) * (unsigned)srcStride.v[a];
                rem = q;
            }
        }
        y[o] = x[src];
    }
}

// Version 2, tiled: for a permutation that moves x's innermost axis, a block transposes one
// PERMUTE_TILE x PERMUTE_TILE tile of the plane spanned by y's last axis A (contiguous in y) and
// the output axis q that is x's innermost (contiguous in x), for one index of the remaining axes:
// it reads rows of the tile along q (coalesced in x), stages them in shared memory, and writes
// them out along A (coalesced in y). Row padding (+1) keeps the column reads free of bank
// conflicts. Grid: one block per (other axes, tile along A, tile along q); blockDim = 256.
extern "C" __global__ void shears_permute_tiled(const float* x, float* y, PermuteAxes outDims, PermuteAxes srcStride, int rank, int q) {
    __shared__ float tile[PERMUTE_TILE][PERMUTE_TILE + 1];
    int last = rank - 1;
    int dimA = outDims.v[last], dimB = outDims.v[q];
    unsigned tilesA = (unsigned)(dimA + PERMUTE_TILE - 1) / PERMUTE_TILE, tilesB = (unsigned)(dimB + PERMUTE_TILE - 1) / PERMUTE_TILE;
    unsigned blk = blockIdx.x;
    unsigned tb = blk % tilesB;
    blk /= tilesB;
    unsigned ta = blk % tilesA;
    unsigned other = blk / tilesA;
    // where this block's plane starts in x and in y, and y's stride along q
    unsigned xBase = 0, yBase = 0, yStride = 1, yStrideQ = 1;
#pragma unroll
    for (int k = 0; k < PERMUTE_MAX_RANK; k++) {
        int a = PERMUTE_MAX_RANK - 1 - k;
        if (a < rank) {
            unsigned d = (unsigned)outDims.v[a];
            if (a == q) {
                yStrideQ = yStride;
            } else if (a != last) {
                unsigned next = other / d, idx = other - next * d;
                xBase += idx * (unsigned)srcStride.v[a];
                yBase += idx * yStride;
                other = next;
            }
            yStride *= d;
        }
    }
    unsigned strideA = (unsigned)srcStride.v[last];  // x's stride along A (x's stride along q is 1)
    int tx = threadIdx.x & (PERMUTE_TILE - 1), ty = threadIdx.x / PERMUTE_TILE, rows = blockDim.x / PERMUTE_TILE;
    int a0 = (int)ta * PERMUTE_TILE, b0 = (int)tb * PERMUTE_TILE;
    for (int r = ty; r < PERMUTE_TILE; r += rows) {
        int a = a0 + r, b = b0 + tx;
        if (a < dimA && b < dimB) tile[r][tx] = x[xBase + (unsigned)a * strideA + (unsigned)b];
    }
    __syncthreads();
    for (int r = ty; r < PERMUTE_TILE; r += rows) {
        int a = a0 + tx, b = b0 + r;
        // exactly the elements the read phase staged: tile[tx][r] holds (a, b)
        if (a < dimA && b < dimB) y[yBase + (unsigned)b * yStrideQ + (unsigned)a] = tile[tx][r];
    }
}
