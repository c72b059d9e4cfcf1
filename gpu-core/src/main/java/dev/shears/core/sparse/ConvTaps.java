package dev.shears.core.sparse;

/**
 * The tap-major column order of a Conv2D's GEMM matrix, which lets a kernel pruned 2:4 along its
 * input channels run the 2:4 formats ({@link NmMatrix}, cuSPARSELt).
 *
 * <p>Shears (pruning's NmLayout, NVIDIA Apex ASP's convention) groups a Conv2D kernel
 * [out, in, kh, kw] along {@code in} at each (out, ki, kj). The im2col GEMM's A is that kernel viewed
 * as [out, in*kh*kw], columns in (c, ki, kj) order, where a group's four channels stride kh*kw
 * columns. Reordering the columns to (ki, kj, c), column (ki*kw + kj)*in + c, makes each group
 * four consecutive columns, i.e. 2:4 along the rows of A as {@link NmMatrix} and cuSPARSELt read
 * it, provided the rows of the im2col matrix X come in the same order
 * ({@code CpuBackend.im2colTapMajor}, {@code CudaBackend.im2colTapMajor}): A X is then the same
 * sum over the same products, accumulated in another order.
 *
 * <p>A tap's run of {@code in} channels is consecutive, but the runs of consecutive taps abut: when
 * 4 does not divide {@code in}, a group of four columns can straddle two taps and hold up to four
 * nonzeros, so such a kernel is generally not 2:4 in this order either ({@link #followsTwoOfFour}
 * says so, and the planners then leave the 2:4 formats out). A 1x1 kernel's order is the same in
 * both layouts.
 */
public final class ConvTaps {
    private ConvTaps() {}

    /**
     * A [out, kh*kw*in] in tap-major order from the kernel [out, in, kh, kw] (row-major):
     * {@code a[o, (ki*kw + kj)*in + c] = kernel[o, c, ki, kj]}.
     */
    public static float[] tapMajor(float[] kernel, int out, int in, int kh, int kw) {
        int taps = kh * kw, k = in * taps;
        if (out < 1 || in < 1 || kh < 1 || kw < 1 || kernel.length != (long) out * k)
            throw new IllegalArgumentException("a Conv2D kernel [" + out + ", " + in + ", " + kh + ", " + kw + "] needs "
                    + (long) out * in * kh * kw + " values, got " + kernel.length);
        float[] a = new float[kernel.length];
        for (int o = 0; o < out; o++)
            for (int c = 0; c < in; c++)
                for (int t = 0; t < taps; t++) a[o * k + t * in + c] = kernel[o * k + c * taps + t];
        return a;
    }

    /** Whether a kernel with more than one tap is 2:4 in tap-major order but not in the im2col order (the case this class exists for). */
    public static boolean onlyTapMajorIsTwoOfFour(float[] kernel, int out, int in, int kh, int kw) {
        return twoOfFourTapMajor(kernel, out, in, kh, kw) != null;
    }

    /**
     * The tap-major A ({@link #tapMajor}) when {@link #onlyTapMajorIsTwoOfFour} holds, else null:
     * the check and the reordered kernel from one reordering.
     */
    public static float[] twoOfFourTapMajor(float[] kernel, int out, int in, int kh, int kw) {
        if (kh * kw <= 1 || NmMatrix.follows(kernel, out, in * kh * kw, 2, 4)) return null;
        float[] a = tapMajor(kernel, out, in, kh, kw);
        return followsTwoOfFour(a, out, in, kh, kw) ? a : null;
    }

    /**
     * Null when the tap-major A {@code a} ({@link #tapMajor} of a kernel [out, in, kh, kw]) is 2:4;
     * else why not, naming the output, taps and channels of the first group of four tap-major
     * columns with more than two nonzeros (for the planners' reasons).
     */
    public static String whyTapMajorNotTwoOfFour(float[] a, int out, int in, int kh, int kw) {
        int k = in * kh * kw;
        for (int o = 0; o < out; o++)
            for (int j0 = 0; j0 < k; j0 += 4) {
                int j1 = Math.min(k, j0 + 4) - 1, nz = 0;
                for (int j = j0; j <= j1; j++) if (a[o * k + j] != 0f) nz++;
                if (nz > 2) {
                    String where = j0 / in == j1 / in
                            ? "tap " + tap(j0 / in, kw) + ", input channels " + j0 % in + ".." + j1 % in
                            : "input channels " + j0 % in + " of tap " + tap(j0 / in, kw) + " to " + j1 % in + " of tap " + tap(j1 / in, kw);
                    return "not 2:4 along input channels: output " + o + ", " + where + " hold " + nz + " nonzeros"
                            + (in % 4 != 0 ? " (4 does not divide its " + in + " input channels, so groups of four straddle kernel taps)"
                                           : " (prune with a 2:4 pattern to use it)");
                }
            }
        return null;
    }

    private static String tap(int t, int kw) { return "(" + t / kw + ", " + t % kw + ")"; }

    /** Whether the tap-major A [out, kh*kw*in] is 2:4 along its rows (groups of four consecutive columns). */
    public static boolean followsTwoOfFour(float[] tapMajorA, int out, int in, int kh, int kw) {
        return NmMatrix.follows(tapMajorA, out, in * kh * kw, 2, 4);
    }
}
