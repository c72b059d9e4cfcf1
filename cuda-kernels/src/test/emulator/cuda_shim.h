// The device side of CUDA C++ as plain C++, force-included (g++ -include cuda_shim.h) when the
// real kernel sources (src/main/cuda) are compiled for the CPU emulator. Test-only.
//
// Execution model (emu_runtime.cpp): blocks run one after another; the threads of a block are
// fibers on one OS thread, switched only at __syncthreads and at warp operations, so kernels run
// deterministically. Warp operations (__shfl_*_sync, __ballot_sync) exchange values in lock step
// between the 32 lanes of a warp and check the mask: a lane named in the mask that has exited or
// does not exist, or lanes of one warp calling different warp operations, is undefined behaviour
// on a GPU and fails the launch here (CUDA_ERROR_LAUNCH_FAILED at the next synchronisation).
#pragma once
#include <math.h>
#include <stdint.h>
#include <string.h>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
// Register limits mean nothing to the CPU fibers; on the GPU they keep a 1024-thread launch possible.
#define __launch_bounds__(...)
// Blocks run one at a time, so one static copy of each shared array serves every block. All of
// them live in one linker section, which the scheduler fills with 0xFF bytes (NaN floats, maximal
// integers) before every block: a kernel that reads shared memory it has not written in this
// block (on a GPU: another block's leftovers) reads poison.
#define __shared__ static __attribute__((section("shears_shared")))

struct uint3 { unsigned int x, y, z; };
typedef uint3 dim3;

namespace emu {
// Fails the launch with CUDA_ERROR_MISALIGNED_ADDRESS unless p is a multiple of `align` (scheduler.cpp).
void check_aligned(const void* p, unsigned align, const char* what);
}

// The vector types a GPU loads and stores in one instruction (LD.128 / LD.32), which requires an
// address aligned to the type's size: a float4 at an address that is not a multiple of 16 faults
// with "misaligned address" (CUDA C++ Programming Guide, "Device Memory Accesses": global memory
// instructions access words of 1, 2, 4, 8 or 16 bytes naturally aligned; alignment of the built-in
// vector types is their size). A plain C++ struct copy has no such requirement, so every copy from
// or into one of these (a load through a cast pointer, __ldg, a store) checks the address here.
// Objects on the stack and in registers are aligned by alignas, so only memory accesses can fail.
struct alignas(16) float4 {
    float x, y, z, w;
    float4() = default;
    constexpr float4(float a, float b, float c, float d) : x(a), y(b), z(c), w(d) {}
    float4(const float4& o) : x(o.x), y(o.y), z(o.z), w(o.w) { emu::check_aligned(&o, 16, "float4 load"); }
    float4& operator=(const float4& o) {
        emu::check_aligned(this, 16, "float4 store");
        emu::check_aligned(&o, 16, "float4 load");
        x = o.x; y = o.y; z = o.z; w = o.w;
        return *this;
    }
};
struct alignas(4) uchar4 {
    unsigned char x, y, z, w;
    uchar4() = default;
    constexpr uchar4(unsigned char a, unsigned char b, unsigned char c, unsigned char d) : x(a), y(b), z(c), w(d) {}
    uchar4(const uchar4& o) : x(o.x), y(o.y), z(o.z), w(o.w) { emu::check_aligned(&o, 4, "uchar4 load"); }
    uchar4& operator=(const uchar4& o) {
        emu::check_aligned(this, 4, "uchar4 store");
        emu::check_aligned(&o, 4, "uchar4 load");
        x = o.x; y = o.y; z = o.z; w = o.w;
        return *this;
    }
};
inline float4 make_float4(float x, float y, float z, float w) { return float4(x, y, z, w); }
inline uchar4 make_uchar4(unsigned char x, unsigned char y, unsigned char z, unsigned char w) { return uchar4(x, y, z, w); }

// The built-in variables of the running CUDA thread (set by the scheduler at every switch).
extern uint3 threadIdx, blockIdx, blockDim, gridDim;

namespace emu {
// Block-wide barrier: returns when every live thread of the block has arrived.
void syncthreads();
// Warp exchange: lane deposits `value`, waits for every lane of `mask`, returns the 32 deposits.
// `op` names the operation so that lanes calling different warp operations are caught.
const unsigned long long* warp_exchange(const char* op, unsigned int mask, unsigned long long value);
int lane();

template <typename T> inline unsigned long long to_bits(T v) {
    static_assert(sizeof(T) <= 8, "warp shuffle of a type over 8 bytes");
    unsigned long long b = 0;
    memcpy(&b, &v, sizeof(T));
    return b;
}
template <typename T> inline T from_bits(unsigned long long b) {
    T v;
    memcpy(&v, &b, sizeof(T));
    return v;
}
}  // namespace emu

inline void __syncthreads() { emu::syncthreads(); }

// width is always 32 in the Shears sources (checked: the emulator supports only the default).
template <typename T> inline T __shfl_sync(unsigned int mask, T v, int src, int width = 32) {
    const unsigned long long* all = emu::warp_exchange("__shfl_sync", mask, emu::to_bits(v));
    (void)width;
    return emu::from_bits<T>(all[src & 31]);
}
template <typename T> inline T __shfl_down_sync(unsigned int mask, T v, unsigned int delta, int width = 32) {
    const unsigned long long* all = emu::warp_exchange("__shfl_down_sync", mask, emu::to_bits(v));
    (void)width;
    int src = emu::lane() + (int)delta;
    return src < 32 ? emu::from_bits<T>(all[src]) : v;
}
template <typename T> inline T __shfl_up_sync(unsigned int mask, T v, unsigned int delta, int width = 32) {
    const unsigned long long* all = emu::warp_exchange("__shfl_up_sync", mask, emu::to_bits(v));
    (void)width;
    int src = emu::lane() - (int)delta;
    return src >= 0 ? emu::from_bits<T>(all[src]) : v;
}
inline unsigned int __ballot_sync(unsigned int mask, int predicate) {
    const unsigned long long* all = emu::warp_exchange("__ballot_sync", mask, predicate != 0 ? 1ull : 0ull);
    unsigned int out = 0;
    for (int l = 0; l < 32; l++) if ((mask >> l) & 1u) out |= (all[l] != 0 ? 1u : 0u) << l;
    return out;
}

inline int __popc(unsigned int x) { return __builtin_popcount(x); }
// Read-only cached load (LDG.CONSTANT on a GPU): a plain load here, after the alignment check the
// GPU's load makes (natural alignment of T; float4's copy checks again).
template <typename T> inline T __ldg(const T* p) {
    emu::check_aligned(p, alignof(T), "__ldg");
    return *p;
}
inline unsigned int __float_as_uint(float f) { unsigned int u; memcpy(&u, &f, 4); return u; }
inline float __uint_as_float(unsigned int u) { float f; memcpy(&f, &u, 4); return f; }
inline int __float_as_int(float f) { int u; memcpy(&u, &f, 4); return u; }
inline float __int_as_float(int u) { float f; memcpy(&f, &u, 4); return f; }

// Atomics return the old value, as CUDA's do. (Blocks are serialised, so there is no contention;
// the builtins keep the memory operations well defined against host threads.)
inline unsigned int atomicAdd(unsigned int* p, unsigned int v) { return __atomic_fetch_add(p, v, __ATOMIC_RELAXED); }
inline int atomicAdd(int* p, int v) { return __atomic_fetch_add(p, v, __ATOMIC_RELAXED); }
inline unsigned long long atomicAdd(unsigned long long* p, unsigned long long v) { return __atomic_fetch_add(p, v, __ATOMIC_RELAXED); }
inline float atomicAdd(float* p, float v) {
    float old;
    __atomic_load(p, &old, __ATOMIC_RELAXED);
    float next = old + v;
    while (!__atomic_compare_exchange(p, &old, &next, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) next = old + v;
    return old;
}
inline double atomicAdd(double* p, double v) {
    double old;
    __atomic_load(p, &old, __ATOMIC_RELAXED);
    double next = old + v;
    while (!__atomic_compare_exchange(p, &old, &next, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) next = old + v;
    return old;
}
inline int atomicMin(int* p, int v) {
    int old = __atomic_load_n(p, __ATOMIC_RELAXED);
    while (v < old && !__atomic_compare_exchange_n(p, &old, v, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {}
    return old;
}
inline int atomicMax(int* p, int v) {
    int old = __atomic_load_n(p, __ATOMIC_RELAXED);
    while (v > old && !__atomic_compare_exchange_n(p, &old, v, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {}
    return old;
}
