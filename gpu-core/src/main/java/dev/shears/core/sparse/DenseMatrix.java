package dev.shears.core.sparse;

import dev.shears.core.cpu.Sgemm;

/**
 * The dense baseline every sparse format must beat: A [rows, cols] row-major, products through
 * {@link Sgemm}. {@link #multiply} with a batch runs on A^T (kept beside A, built on first use)
 * so that the GEMM sees no transposed operand (a transposed B would be re-packed element by
 * element on every call); a single vector takes dot products of A's rows instead.
 */
public final class DenseMatrix extends SparseMatrix {
    /** A, [rows, cols] row-major */
    private final float[] a;
    /** A^T, [cols, rows] row-major; null until {@link #multiply} first needs it */
    private float[] at;
    private final long nonZeros;

    public DenseMatrix(float[] dense, int rows, int cols) {
        super(rows, cols);
        checkDense(dense, rows, cols);
        this.a = java.util.Arrays.copyOf(dense, rows * cols);
        long nz = 0;
        for (float v : a) if (v != 0f) nz++;
        this.nonZeros = nz;
    }

    /** From a Dense layer's kernel W [in, out] (A = W^T, see {@link SparseMatrix}); keeps W as A^T. */
    public static DenseMatrix fromKernel(float[] kernel, int in, int out) {
        DenseMatrix d = new DenseMatrix(fromDenseKernel(kernel, in, out), out, in);
        d.at = java.util.Arrays.copyOf(kernel, in * out);
        return d;
    }

    @Override public SparseFormat format() { return SparseFormat.DENSE; }
    @Override public long nonZeros() { return nonZeros; }
    @Override public long storageBytes() { return 4L * rows * cols; }
    @Override public float[] toDense() { return a.clone(); }

    @Override protected void product(float[] x, int xOff, int ldx, int n, float[] y, int yOff, int ldy, int ys) {
        if (ys == 1) {
            Sgemm.gemm(false, false, rows, n, cols, 1f, a, 0, cols, x, xOff, ldx, 0f, y, yOff, ldy);
        } else if (ldy == 1) { // Y^T [n, rows] = X^T A^T, rows ys apart
            Sgemm.gemm(true, true, n, rows, cols, 1f, x, xOff, ldx, a, 0, cols, 0f, y, yOff, ys);
        } else {
            throw new IllegalArgumentException("dense product: output strides ldy=" + ldy + " and ys=" + ys + " are not a matrix layout");
        }
    }

    @Override public void multiply(float[] x, int batch, float[] y) {
        if (batch == 1) {
            // GEMV: y = A x as dot products of A's contiguous rows, so each thread streams its
            // share of A from memory in address order (the A^T form jumps a row per 4 FMAs).
            Sgemm.gemm(false, true, 1, rows, cols, 1f, x, 0, cols, a, 0, cols, 0f, y, 0, rows);
            return;
        }
        if (at == null) {
            at = new float[rows * cols];
            Transpose.transpose(a, 0, rows, cols, at, 0);
        }
        Sgemm.gemm(false, false, batch, rows, cols, 1f, x, 0, cols, at, 0, rows, 0f, y, 0, rows);
    }
}
