// Deliberately wrong kernels for the emulator's own tests (EmulatedDriverChecksTest): each does
// something a GPU does not guarantee, and the emulator must make it visible. Built into the
// emulator only, never into the fatbin.
#include "common.cuh"

// Block 0 writes s[0]; every block reads it: on a GPU, block 1 reads whatever its SM's shared
// memory held. Here: poison (NaN) for every block but 0.
extern "C" __global__ void shears_emu_selftest_stale_shared(float* out) {
    __shared__ float s[32];
    if (threadIdx.x == 0 && blockIdx.x == 0) s[0] = 1.0f;
    __syncthreads();
    if (threadIdx.x == 0) out[blockIdx.x] = s[0];
}

// Thread 0 writes s and the others read it without a __syncthreads in between.
extern "C" __global__ void shears_emu_selftest_missing_sync(int* out) {
    __shared__ int s;
    if (threadIdx.x == 0) s = 7;
    out[threadIdx.x] = s;
}

// Thread 32 shuffles while the rest of its warp waits at a barrier: a deadlock (64 threads).
extern "C" __global__ void shears_emu_selftest_deadlock(int* out) {
    int v = threadIdx.x;
    if (threadIdx.x == 32) v = __shfl_sync(FULL_MASK, v, 0);
    else __syncthreads();
    out[threadIdx.x] = v;
}

// Writes n + 2048 floats into a buffer of n: past the end of the allocation (and its guard).
extern "C" __global__ void shears_emu_selftest_overrun(float* x, int n) {
    for (int i = threadIdx.x; i < n + 2048; i += blockDim.x) x[i] = 1.0f;
}

// A 16-byte load from x + 1 (4 bytes past a 16-byte boundary): a GPU faults with "misaligned address".
extern "C" __global__ void shears_emu_selftest_misaligned(float* x) {
    if (threadIdx.x == 0) {
        float4 v = *reinterpret_cast<const float4*>(x + 1);
        x[0] = v.x;
    }
}
