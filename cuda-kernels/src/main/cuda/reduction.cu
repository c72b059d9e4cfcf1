// Whole-tensor sums in double. CPU twins: CpuBackend.sum and CpuBackend.sumSquares.
// Each thread accumulates in double, blocks reduce, and one double atomic per block adds to
// *out (zeroed by the host). The order of additions differs from the CPU's, so results agree
// to a relative 1e-12-ish, not bit for bit.
#include "common.cuh"

// Version 1: one thread per element, one atomic per element (kept as the reference).
extern "C" __global__ void shears_sum_naive(const float* x, i64 n, int squares, double* out) {
    GRID_STRIDE(i, n) {
        double v = x[i];
        atomicAdd(out, squares ? v * v : v);
    }
}

// Version 2: per-thread partials, block reduction, one atomic per block.
extern "C" __global__ void shears_sum(const float* x, i64 n, int squares, double* out) {
    __shared__ double scratch[32];
    double s = 0.0;
    GRID_STRIDE(i, n) {
        double v = x[i];
        s += squares ? v * v : v;
    }
    s = block_sum_d(s, scratch);
    if (threadIdx.x == 0) atomicAdd(out, s);
}
