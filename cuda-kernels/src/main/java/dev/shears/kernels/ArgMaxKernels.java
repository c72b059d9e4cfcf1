package dev.shears.kernels;

/** The first arg-max of each row of a [rows, cols] matrix, one int a row (argmax.cu). */
public final class ArgMaxKernels {
    private final KernelRuntime rt;
    private final Kernel argMaxRows;

    public ArgMaxKernels(KernelRuntime rt) {
        this.rt = rt;
        this.argMaxRows = rt.kernel("shears_argmax_rows");
    }

    /** predicted [rows] (INT32, device) = the first arg-max of each row of logits [rows, cols]; nothing waits. */
    public void argMaxRows(long logits, int rows, int cols, long predicted) {
        if (rows == 0) return;
        rt.args().ptr(logits).i32(rows).i32(cols).ptr(predicted);
        rt.launchWarpRows(argMaxRows, rows);
    }
}
