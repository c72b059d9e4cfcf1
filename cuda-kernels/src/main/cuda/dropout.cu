// Inverted dropout with a counter-based generator: whether element i is kept depends only on
// (seed, i, rate), so the GPU draws exactly the CPU's mask. CPU twin: CpuBackend.dropout with
// DropoutHash (SplitMix64's Weyl step and finalizer, Steele, Lea & Flood 2014):
//   z = seed + (i + 1) * 0x9E3779B97F4A7C15
//   z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
//   z = (z ^ (z >> 27)) * 0x94D049BB133111EB
//   z =  z ^ (z >> 31)
//   keep = (uint32)(z >> 40) >= threshold,   threshold = (uint32)(rate * 2^24) (host)
//   y = keep ? x * scale : 0,                scale = 1 / (1 - rate) in float (host)
// All arithmetic on unsigned 64-bit integers, wrapping, as Java's long arithmetic wraps.
#include "common.cuh"

__device__ __forceinline__ u64 dropout_mix(u64 seed, u64 index) {
    u64 z = seed + (index + 1ull) * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

extern "C" __global__ void shears_dropout(const float* x, float* y, unsigned char* keepMask, i64 n,
                                          u64 seed, unsigned int threshold, float scale,
                                          const u64* stepSeedOnDevice, i64 salt) {
    // in a captured step the step's seed lives in device memory (written before each replay) and
    // the layer's seed is derived here exactly as DropoutHash.mix(stepSeed, salt) does on the host
    if (stepSeedOnDevice != nullptr) seed = dropout_mix(*stepSeedOnDevice, (u64)salt);
    GRID_STRIDE(i, n) {
        bool keep = (unsigned int)(dropout_mix(seed, (u64)i) >> 40) >= threshold;
        keepMask[i] = keep ? 1 : 0;
        y[i] = keep ? x[i] * scale : 0.0f;
    }
}

// dx = keep ? dy * scale : 0
extern "C" __global__ void shears_dropout_backward(const float* dy, const unsigned char* keepMask, float* dx, i64 n,
                                                   float scale) {
    GRID_STRIDE(i, n) dx[i] = keepMask[i] != 0 ? dy[i] * scale : 0.0f;
}
