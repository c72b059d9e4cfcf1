package dev.shears.kernels;

/**
 * FP32 to and from 16-bit matrices (half_convert.cu), binary16 or bfloat16, transposing and
 * zero-padding on the way: the operands of a cuSPARSELt 2:4 product. Rounding to nearest even.
 */
public final class HalfKernels {
    private final KernelRuntime rt;
    private final Kernel toHalf, fromHalf;

    public HalfKernels(KernelRuntime rt) {
        this.rt = rt;
        this.toHalf = rt.kernel("shears_f32_to_16");
        this.fromHalf = rt.kernel("shears_16_to_f32");
    }

    /**
     * y [outRows, outCols] (16-bit, row-major) = x [rows, cols] (float, leading dimension ldx),
     * or x^T when {@code transpose} (x then holds [cols, rows]), zero-padded to the larger shape.
     */
    public void toHalf(long x, long y, int rows, int cols, int ldx, boolean transpose, int outRows, int outCols, boolean bf16) {
        if (rows < 0 || cols < 0 || outRows < rows || outCols < cols || ldx < (transpose ? rows : cols))
            throw new IllegalArgumentException("f32->16: cannot pad [" + rows + ", " + cols + "] (ld " + ldx + (transpose ? ", transposed" : "")
                    + ") into [" + outRows + ", " + outCols + "]");
        long n = (long) outRows * outCols;
        if (n == 0) return;
        rt.args().ptr(x).ptr(y).i32(rows).i32(cols).i32(ldx).i32(transpose ? 1 : 0).i32(outCols).i32(bf16 ? 1 : 0).i64(n);
        rt.launch1d(toHalf, n);
    }

    /** y [rows, cols] (float, row-major) = x (16-bit, leading dimension ldx) [rows, cols], or x^T when {@code transpose}. */
    public void toFloat(long x, long y, int rows, int cols, int ldx, boolean transpose, boolean bf16) {
        if (rows < 0 || cols < 0 || ldx < (transpose ? rows : cols))
            throw new IllegalArgumentException("16->f32: [" + rows + ", " + cols + "] with ld " + ldx + (transpose ? " (transposed)" : ""));
        long n = (long) rows * cols;
        if (n == 0) return;
        rt.args().ptr(x).ptr(y).i32(cols).i32(ldx).i32(transpose ? 1 : 0).i32(bf16 ? 1 : 0).i64(n);
        rt.launch1d(fromHalf, n);
    }
}
