// FP32 <-> 16-bit (IEEE binary16, CUDA_R_16F; or bfloat16, CUDA_R_16BF) conversion of a matrix,
// optionally transposed and zero-padded on the way: the operands of a cuSPARSELt 2:4 product
// (CudaStructuredMatrix in gpu-core), which multiplies 16-bit matrices whose sides must be
// multiples of 8 or 16 values. CPU twin: HalfConversion (gpu-core, dev.shears.core.cpu).
//
// Rounding: to nearest, ties to even, as __float2half_rn / __float2bfloat16_rn; NaN stays a
// (quiet) NaN; binary16 overflow (|x| >= 65520) becomes infinity, bfloat16 has float's range.
// Written with integer arithmetic on the bits rather than cuda_fp16.h's intrinsics so that the
// same source runs in the CPU emulator and the result is defined bit for bit: the parity test is
// exact. The 16-bit values travel as unsigned short.
#include "common.cuh"

// binary16 of f, rounded to nearest even.
__device__ __forceinline__ unsigned int f32_to_f16_bits(float f) {
    unsigned int u = __float_as_uint(f), sign = (u >> 16) & 0x8000u, a = u & 0x7fffffffu;
    if (a > 0x7f800000u) return sign | 0x7e00u;   // NaN
    if (a >= 0x477ff000u) return sign | 0x7c00u;  // rounds to >= 65520: infinity
    if (a < 0x38800000u) {                         // below 2^-14, the smallest normal binary16
        if (a < 0x33000000u) return sign;          // below 2^-25, half the smallest subnormal: zero
        // subnormal: the value in units of 2^-24 is mant * 2^(e - 126), e the float's biased exponent
        unsigned int e = a >> 23, mant = (a & 0x7fffffu) | 0x800000u, shift = 126u - e;  // shift in 14..24
        unsigned int q = mant >> shift, rest = mant & ((1u << shift) - 1u), halfway = 1u << (shift - 1u);
        if (rest > halfway || (rest == halfway && (q & 1u))) q++;  // q may reach 0x400: the smallest normal, encoded right
        return sign | q;
    }
    // normal: re-bias the exponent (127 -> 15) and round away the 13 low mantissa bits
    unsigned int r = a - 0x38000000u, dropped = r & 0x1fffu;
    r >>= 13;
    if (dropped > 0x1000u || (dropped == 0x1000u && (r & 1u))) r++;
    return sign | r;
}

// bfloat16 of f (the high half of its bits), rounded to nearest even.
__device__ __forceinline__ unsigned int f32_to_bf16_bits(float f) {
    unsigned int u = __float_as_uint(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (u >> 16) | 0x40u;  // NaN stays a quiet NaN
    u += 0x7fffu + ((u >> 16) & 1u);
    return u >> 16;
}

// The float of a binary16 (exact).
__device__ __forceinline__ float f16_bits_to_f32(unsigned int h) {
    unsigned int sign = (h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, mant = h & 0x3ffu;
    if (e == 0x1fu) return __uint_as_float(sign | 0x7f800000u | (mant << 13));  // infinity, NaN
    if (e == 0u) {
        float v = (float)mant * (1.0f / 16777216.0f);  // subnormal: mant * 2^-24, exact
        return sign ? -v : v;
    }
    return __uint_as_float(sign | ((e + 112u) << 23) | (mant << 13));
}

// Version 1, naive: one thread per element of y [outRows, outCols] (row-major, coalesced writes).
// y[r][c] = 16-bit(x(r, c)) for r < rows and c < cols, else 0 (the padding), where
// x(r, c) = x[r * ldx + c], or x[c * ldx + r] when transpose (x then holds [cols, rows]); the
// transposed reads stride. bf16: 0 for binary16, 1 for bfloat16. n = outRows * outCols.
extern "C" __global__ void shears_f32_to_16(const float* x, unsigned short* y, int rows, int cols, int ldx, int transpose,
                                            int outCols, int bf16, i64 n) {
    Digits<unsigned, 1> at;  // i = r*outCols + c: (c), r = at.top
    at.radix[0] = outCols;
    GRID_STRIDE_DIGITS(i, n, at) {
        int r = (int)at.top, c = (int)at.digit[0];
        unsigned int v = 0u;
        if (r < rows && c < cols) {
            float f = transpose ? x[(i64)c * ldx + r] : x[(i64)r * ldx + c];
            v = bf16 ? f32_to_bf16_bits(f) : f32_to_f16_bits(f);
        }
        y[i] = (unsigned short)v;
    }
}

// Version 1, naive: one thread per element of y [rows, cols] (row-major, coalesced writes):
// y[r][c] = float(x[r * ldx + c]), or float(x[c * ldx + r]) when transpose; the rest of x (its
// padding) is not read. n = rows * cols.
extern "C" __global__ void shears_16_to_f32(const unsigned short* x, float* y, int cols, int ldx, int transpose, int bf16, i64 n) {
    Digits<unsigned, 1> at;  // i = r*cols + c: (c), r = at.top
    at.radix[0] = cols;
    GRID_STRIDE_DIGITS(i, n, at) {
        int r = (int)at.top, c = (int)at.digit[0];
        unsigned int h = transpose ? x[(i64)c * ldx + r] : x[(i64)r * ldx + c];
        y[i] = bf16 ? __uint_as_float(h << 16) : f16_bits_to_f32(h);
    }
}
