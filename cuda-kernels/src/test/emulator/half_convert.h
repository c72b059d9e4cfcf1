// IEEE binary16 (CUDA_R_16F) and bfloat16 (CUDA_R_16BF) to and from float, for the emulated
// libraries that read or write 16-bit matrices (cusparselt.cpp, cublas.cpp's cublasGemmEx).
// Conversions to 16 bits round to nearest, ties to even, as the GPU's __float2half_rn /
// __float2bfloat16_rn do; NaN stays NaN, overflow becomes infinity. Test-only.
#pragma once
#include <cstdint>
#include <cstring>

namespace emu16 {

inline float bits_to_float(std::uint32_t u) {
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

inline std::uint32_t float_to_bits(float f) {
    std::uint32_t u;
    std::memcpy(&u, &f, 4);
    return u;
}

// binary16: 1 sign bit, 5 exponent bits (bias 15), 10 mantissa bits
inline float half_to_float(std::uint16_t h) {
    std::uint32_t sign = (std::uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ffu;
    if (exp == 0x1f) return bits_to_float(sign | 0x7f800000u | (man << 13));  // inf, NaN
    if (exp == 0) {
        if (man == 0) return bits_to_float(sign);  // +-0
        // subnormal: man * 2^-24
        float v = (float)man * (1.0f / 16777216.0f);
        return sign ? -v : v;
    }
    return bits_to_float(sign | ((exp + 112) << 23) | (man << 13));
}

inline std::uint16_t float_to_half(float f) {
    std::uint32_t u = float_to_bits(f), sign = (u >> 16) & 0x8000u;
    std::uint32_t a = u & 0x7fffffffu;
    if (a > 0x7f800000u) return (std::uint16_t)(sign | 0x7e00u);  // NaN
    if (a >= 0x477ff000u) return (std::uint16_t)(sign | 0x7c00u);  // rounds to >= 65520: infinity
    if (a < 0x38800000u) {  // below the smallest normal half (2^-14): subnormal or zero
        // the value in units of 2^-24, rounded to nearest even
        float v = bits_to_float(a) * 16777216.0f;
        std::uint32_t whole = (std::uint32_t)v;
        float rest = v - (float)whole;
        if (rest > 0.5f || (rest == 0.5f && (whole & 1u))) whole++;
        return (std::uint16_t)(sign | whole);  // whole may reach 0x400: the smallest normal, correctly encoded
    }
    // normal: re-bias the exponent, round the 13 dropped mantissa bits to nearest even
    std::uint32_t r = a - 0x38000000u;  // exponent - 112
    std::uint32_t dropped = r & 0x1fffu;
    r >>= 13;
    if (dropped > 0x1000u || (dropped == 0x1000u && (r & 1u))) r++;
    return (std::uint16_t)(sign | r);
}

inline float bf16_to_float(std::uint16_t b) { return bits_to_float((std::uint32_t)b << 16); }

inline std::uint16_t float_to_bf16(float f) {
    std::uint32_t u = float_to_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (std::uint16_t)((u >> 16) | 0x40u);  // NaN stays (quiet) NaN
    u += 0x7fffu + ((u >> 16) & 1u);
    return (std::uint16_t)(u >> 16);
}

}  // namespace emu16
