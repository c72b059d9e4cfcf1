package dev.shears.core.sparse;

import dev.shears.core.cpu.Sgemm;

/**
 * The dense baseline every sparse format must beat: A [rows, cols] row-major, products through
 * {@link Sgemm}. {@link #multiply} runs on A^T (kept beside A, built on first use) so that the
 * GEMM sees no transposed operand (a transposed B would be re-packed element by element on
 * every call).
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

    @Override public void multiplyT(float[] x, int xOff, int ldx, int n, float[] y, int yOff, int ldy) {
        Sgemm.gemm(false, false, rows, n, cols, 1f, a, 0, cols, x, xOff, ldx, 0f, y, yOff, ldy);
    }

    @Override public void multiply(float[] x, int batch, float[] y) {
        if (at == null) {
            at = new float[rows * cols];
            Transpose.transpose(a, 0, rows, cols, at, 0);
        }
        Sgemm.gemm(false, false, batch, rows, cols, 1f, x, 0, cols, at, 0, rows, 0f, y, 0, rows);
    }
}
