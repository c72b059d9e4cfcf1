package dev.shears.core.cpu;

/**
 * FP32 to and from 16-bit values, binary16 (FP16) or bfloat16 (BF16), and the CPU twin of
 * half_convert.cu's matrix kernels (transpose and zero-padding included). Rounding to nearest,
 * ties to even; NaN stays NaN; binary16 overflow (|x| >= 65520) becomes infinity. The binary16
 * conversion is the JDK's {@link Float#floatToFloat16} (IEEE 754 round to nearest even), an
 * independent implementation of what the kernel does with integer arithmetic, so the parity test
 * checks one against the other.
 */
public final class HalfConversion {
    private HalfConversion() {}

    /** The largest finite binary16, 65504. */
    public static final float FP16_MAX = 65504f;

    /** The 16 bits of {@code f} as binary16 ({@code bf16} false) or bfloat16. */
    public static short toBits(float f, boolean bf16) { return bf16 ? toBf16(f) : Float.floatToFloat16(f); }

    /** The float of 16 bits (exact). */
    public static float fromBits(short h, boolean bf16) { return bf16 ? Float.intBitsToFloat((h & 0xffff) << 16) : Float.float16ToFloat(h); }

    /** bfloat16: float's top 16 bits, rounded to nearest even; a NaN stays a quiet NaN. */
    public static short toBf16(float f) {
        int u = Float.floatToRawIntBits(f);
        if ((u & 0x7fffffff) > 0x7f800000) return (short) ((u >>> 16) | 0x40);
        u += 0x7fff + ((u >>> 16) & 1);
        return (short) (u >>> 16);
    }

    /** {@code f} rounded to the 16-bit format and back. */
    public static float round(float f, boolean bf16) { return fromBits(toBits(f, bf16), bf16); }

    /**
     * shears_f32_to_16: y [outRows, outCols] = 16-bit x [rows, cols] (leading dimension ldx), or
     * x^T when {@code transpose} (x holding [cols, rows]), zero-padded.
     */
    public static short[] toHalf(float[] x, int xOffset, int rows, int cols, int ldx, boolean transpose, int outRows, int outCols, boolean bf16) {
        if (outRows < rows || outCols < cols) throw new IllegalArgumentException("cannot pad [" + rows + ", " + cols + "] into [" + outRows + ", " + outCols + "]");
        short[] y = new short[Math.multiplyExact(outRows, outCols)];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                y[r * outCols + c] = toBits(transpose ? x[xOffset + c * ldx + r] : x[xOffset + r * ldx + c], bf16);
        return y;
    }

    /** shears_16_to_f32: y [rows, cols] = float of x [rows, cols] (leading dimension ldx), or of x^T when {@code transpose}. */
    public static float[] toFloat(short[] x, int rows, int cols, int ldx, boolean transpose, boolean bf16) {
        float[] y = new float[Math.multiplyExact(rows, cols)];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                y[r * cols + c] = fromBits(transpose ? x[c * ldx + r] : x[r * ldx + c], bf16);
        return y;
    }
}
