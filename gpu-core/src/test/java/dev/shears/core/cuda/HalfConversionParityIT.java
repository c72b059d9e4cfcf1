package dev.shears.core.cuda;

import dev.shears.core.cpu.HalfConversion;
import dev.shears.core.tensor.DType;
import dev.shears.core.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * half_convert.cu against its CPU twin {@link HalfConversion} (whose binary16 rounding is the
 * JDK's Float.floatToFloat16): FP32 -> FP16/BF16 on seeded random bit patterns of every exponent
 * plus the hard cases (ties to even in normal and subnormal binary16 and in bfloat16, the
 * overflow edge 65504/65520, the smallest subnormals and half of them, zeros, infinities, NaN),
 * through both layouts (plain and transposed) with zero-padding; and 16-bit -> FP32 on all 65536
 * patterns. Tolerance: exact, bit for bit (NaNs compared as NaN): both sides round to nearest
 * even by the IEEE rule, so any difference is a bug.
 */
class HalfConversionParityIT extends GpuParityFixture {
    /** Floats the rounding must get right, then random bit patterns. */
    static float[] hardFloats(int n, long seed) {
        List<Float> v = new ArrayList<>();
        for (float f : new float[] {0f, -0f, 1f, -1f, 65504f, 65519.99f, 65520f, -65520f, 70000f, Float.MAX_VALUE, Float.MIN_VALUE,
                Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, 0x1p-14f, 0x1p-24f, 0x1p-25f, 0x1.000002p-25f, 0x1.8p-24f,
                0x1.4p-24f, 0x1.ffcp-15f, 0x1.ffep-15f, 3e-8f, -3e-8f, 1e-40f})
            v.add(f);
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < 64; i++) {
            // binary16 ties: 13 dropped bits exactly 0x1000, exponents in binary16's normal range, odd and even kept bits
            int e = 127 - 14 + r.nextInt(30), m = (r.nextInt(1 << 10) << 13) | 0x1000;
            v.add(Float.intBitsToFloat((r.nextBoolean() ? 0x80000000 : 0) | e << 23 | m));
            // binary16 subnormal ties: an odd multiple of 2^-25
            v.add((2 * r.nextInt(1 << 10) + 1) * 0x1p-25f);
            // bfloat16 ties: 16 dropped bits exactly 0x8000
            v.add(Float.intBitsToFloat((r.nextInt() & 0xffff0000) | 0x8000));
        }
        float[] out = new float[n];
        for (int i = 0; i < n; i++) out[i] = i < v.size() ? v.get(i) : Float.intBitsToFloat(r.nextInt());
        return out;
    }

    private static short[] shorts(byte[] b) {
        short[] s = new short[b.length / 2];
        for (int i = 0; i < s.length; i++) s[i] = (short) ((b[2 * i] & 0xff) | (b[2 * i + 1] & 0xff) << 8);
        return s;
    }

    private static byte[] bytes(short[] s) {
        byte[] b = new byte[2 * s.length];
        for (int i = 0; i < s.length; i++) {
            b[2 * i] = (byte) s[i];
            b[2 * i + 1] = (byte) (s[i] >> 8);
        }
        return b;
    }

    private static void assertSameBits(String what, short[] cpu, short[] gpu, boolean bf16) {
        assertEquals(cpu.length, gpu.length, what);
        int bad = 0;
        StringBuilder first = new StringBuilder();
        for (int i = 0; i < cpu.length; i++) {
            boolean nan = Float.isNaN(HalfConversion.fromBits(cpu[i], bf16)) && Float.isNaN(HalfConversion.fromBits(gpu[i], bf16));
            if (cpu[i] != gpu[i] && !nan) {
                if (bad++ < 5) first.append(String.format(" [%d] cpu 0x%04x gpu 0x%04x;", i, cpu[i] & 0xffff, gpu[i] & 0xffff));
            }
        }
        if (bad > 0) fail(what + ": " + bad + " of " + cpu.length + " values differ:" + first);
    }

    @Test
    void floatsToSixteenBitsPaddedAndTransposed() {
        int rows = 37, cols = 45, outRows = 48, outCols = 56;
        float[] x = hardFloats(rows * cols, 3);
        for (boolean bf16 : new boolean[] {false, true})
            for (boolean transpose : new boolean[] {false, true}) {
                // transposed, x holds [cols, rows] with leading dimension rows
                int ld = transpose ? rows : cols;
                short[] expected = HalfConversion.toHalf(x, 0, rows, cols, ld, transpose, outRows, outCols, bf16);
                CudaTensor gx = keep(gpu.upload(x, Shape.of(x.length)));
                // the padding must be written, not left as it was: y starts as all-ones bits (a NaN in both formats)
                byte[] ones = new byte[2 * outRows * outCols];
                java.util.Arrays.fill(ones, (byte) 0xff);
                CudaTensor gy = keep(gpu.uploadBytes(ones, Shape.of(ones.length)));
                gpu.halfKernels().toHalf(gx.pointer(), gy.pointer(), rows, cols, ld, transpose, outRows, outCols, bf16);
                assertSameBits((bf16 ? "bf16" : "fp16") + (transpose ? " transposed" : ""), expected, shorts(gpu.downloadBytes(gy)), bf16);
            }
    }

    @Test
    void everySixteenBitPatternToFloat() {
        short[] all = new short[1 << 16];
        for (int i = 0; i < all.length; i++) all[i] = (short) i;
        for (boolean bf16 : new boolean[] {false, true})
            for (boolean transpose : new boolean[] {false, true}) {
                // the first 250 x 256 of a [256, 256] matrix (the rest is padding the kernel must not read into y)
                int rows = 250, cols = 256, ld = 256;
                float[] expected = HalfConversion.toFloat(all, rows, cols, ld, transpose, bf16);
                CudaTensor gx = keep(gpu.uploadBytes(bytes(all), Shape.of(2L * all.length)));
                CudaTensor gy = keep(gpu.allocate(Shape.of((long) rows * cols), DType.FLOAT32));
                gpu.fill(gy, 7f);
                gpu.halfKernels().toFloat(gx.pointer(), gy.pointer(), rows, cols, ld, transpose, bf16);
                Parity.assertBitExact((bf16 ? "bf16" : "fp16") + (transpose ? " transposed" : "") + " -> f32", expected, gpu.download(gy));
            }
    }

    @Test
    void shapesThatCannotHoldTheMatrixAreRefused() {
        var e = assertThrows(IllegalArgumentException.class, () -> gpu.halfKernels().toHalf(0, 0, 10, 20, 20, false, 16, 16, false));
        assertEquals("f32->16: cannot pad [10, 20] (ld 20) into [16, 16]", e.getMessage());
    }
}
