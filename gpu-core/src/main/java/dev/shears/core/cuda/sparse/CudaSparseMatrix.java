package dev.shears.core.cuda.sparse;

import dev.shears.core.cuda.CudaTensor;
import dev.shears.core.tensor.Tensor;

/**
 * A weight matrix A [rows, cols] in device memory, in one storage format, with the two products
 * a layer needs (the GPU twins of {@link dev.shears.core.sparse.SparseMatrix}'s):
 * <ul>
 *   <li>{@link #multiply}: Y [n, rows] = X [n, cols] A^T, a Dense layer on a batch (rows =
 *   outputs, cols = inputs);</li>
 *   <li>{@link #multiplyT}: Y [rows, n] = A X [cols, n], row-major, a convolution on one image's
 *   im2col matrix.</li>
 * </ul>
 * Both queue on the backend's stream and overwrite Y. Closing frees what the matrix uploaded.
 */
public abstract sealed class CudaSparseMatrix implements AutoCloseable
        permits CudaDenseMatrix, CudaCsrMatrix, CudaBlockedEllMatrix, CudaStructuredMatrix {
    protected final int rows;
    protected final int cols;

    protected CudaSparseMatrix(int rows, int cols) {
        this.rows = rows;
        this.cols = cols;
    }

    public final int rows() { return rows; }
    public final int cols() { return cols; }

    /** The label in plans and reports: {@code dense}, {@code csr}, {@code blocked-ell-16}. */
    public abstract String format();

    /** The product it currently runs, e.g. {@code cublas-sgemm}, {@code spmm-csr-alg2}, {@code spmv}. */
    public abstract String kernel();

    /**
     * Bytes of the weights as this format stores them (int32 indices, fp32 values; the CPU
     * format's {@code storageBytes}, so reports compare alike).
     */
    public abstract long storageBytes();

    /** Y [n, rows] = X [n, cols] A^T. */
    public abstract void multiply(Tensor x, int n, Tensor y);

    /** Y [rows, n] at {@code yOffset} = A X [cols, n] at {@code xOffset} (both row-major, leading dimension n). */
    public abstract void multiplyT(Tensor x, long xOffset, int n, Tensor y, long yOffset);

    @Override public abstract void close();

    static CudaTensor cuda(Tensor t, String what) {
        if (!(t instanceof CudaTensor c)) throw new IllegalArgumentException(what + " must be a CUDA tensor, got " + t);
        return c;
    }

    void checkMultiply(Tensor x, int n, Tensor y) {
        if (n < 1 || x.size() < (long) n * cols || y.size() < (long) n * rows)
            throw new IllegalArgumentException(format() + " [" + rows + ", " + cols + "]: multiply needs x [" + n + ", " + cols
                    + "] and y [" + n + ", " + rows + "], got " + x.shape() + " and " + y.shape());
    }

    void checkMultiplyT(Tensor x, long xOffset, int n, Tensor y, long yOffset) {
        if (n < 1 || xOffset < 0 || yOffset < 0 || x.size() < xOffset + (long) cols * n || y.size() < yOffset + (long) rows * n)
            throw new IllegalArgumentException(format() + " [" + rows + ", " + cols + "]: multiplyT needs x [" + cols + ", " + n
                    + "] at " + xOffset + " and y [" + rows + ", " + n + "] at " + yOffset + ", got " + x.shape() + " and " + y.shape());
    }
}
