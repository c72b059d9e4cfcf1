package dev.shears.nativebind;

import java.lang.foreign.MemorySegment;

/** A cuSPARSE dense-matrix descriptor over a caller-owned device array. */
public final class DenseMatrixDescriptor implements AutoCloseable {
    private final MemorySegment handle;
    private boolean closed;

    private DenseMatrixDescriptor(MemorySegment handle) { this.handle = handle; }

    /** A row-major FP32 matrix rows x cols with leading dimension cols. */
    public static DenseMatrixDescriptor rowMajor(long rows, long cols, long values) {
        return new DenseMatrixDescriptor(Cusparse.createDnMat(rows, cols, cols, values, Cusparse.CUDA_R_32F,
                Cusparse.CUSPARSE_ORDER_ROW));
    }

    /** A column-major FP32 matrix rows x cols with leading dimension rows (a row-major [cols, rows] array read as its transpose). */
    public static DenseMatrixDescriptor columnMajor(long rows, long cols, long values) {
        return new DenseMatrixDescriptor(Cusparse.createDnMat(rows, cols, Math.max(1, rows), values, Cusparse.CUDA_R_32F,
                Cusparse.CUSPARSE_ORDER_COL));
    }

    public MemorySegment handle() { return handle; }

    @Override public void close() {
        if (closed) return;
        closed = true;
        Cusparse.destroyDnMat(handle);
    }
}
