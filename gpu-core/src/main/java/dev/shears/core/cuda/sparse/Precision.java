package dev.shears.core.cuda.sparse;

import dev.shears.nativebind.CusparseLt;

import java.util.Arrays;
import java.util.Locale;

/**
 * The arithmetic GPU sparse inference may use ({@code shears eval --sparse --backend cuda
 * --precision}). {@link #FP32}, the default, keeps every layer in float32 (cuBLAS and cuSPARSE),
 * so sparse results match dense within float rounding. {@link #FP16} and {@link #BF16} are the
 * opt-in to reduced precision: they add cuSPARSELt's 2:4 product as a candidate for Dense layers
 * whose kernel is 2:4, which rounds the layer's inputs, weights and outputs to 16 bits (FP32
 * accumulation), so that layer's outputs differ from dense by 16-bit rounding (about 2^-11
 * relative for FP16, 2^-8 for BF16) instead of float rounding.
 */
public enum Precision {
    FP32("fp32", -1),
    FP16("fp16", CusparseLt.CUDA_R_16F),
    BF16("bf16", CusparseLt.CUDA_R_16BF);

    private final String id;
    private final int cudaType;

    Precision(String id, int cudaType) {
        this.id = id;
        this.cudaType = cudaType;
    }

    /** The name on the command line and in plans: fp32, fp16, bf16. */
    public String id() { return id; }

    /** The cudaDataType of the 16-bit values (CUDA_R_16F / CUDA_R_16BF); FP32 has none. */
    public int cudaType() {
        if (this == FP32) throw new IllegalStateException("fp32 runs no 16-bit product");
        return cudaType;
    }

    public boolean isBf16() { return this == BF16; }

    /** Parses fp32, fp16 or bf16 (any case); the error lists the choices. */
    public static Precision parse(String s) {
        for (Precision p : values()) if (p.id.equals(s.toLowerCase(Locale.ROOT))) return p;
        throw new IllegalArgumentException("unknown precision '" + s + "': expected one of "
                + Arrays.stream(values()).map(Precision::id).toList());
    }
}
