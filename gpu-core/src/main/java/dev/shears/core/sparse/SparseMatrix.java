package dev.shears.core.sparse;

import dev.shears.core.cpu.Parallel;

/**
 * A weight matrix A of {@code rows x cols} in one storage format, with the two products a layer
 * needs. Orientation: A is the matrix whose rows are output features and whose columns are input
 * features (the "out x in" of PyTorch, ONNX Gemm with transB and Conv2D kernels flattened to
 * [out, in*kh*kw]), so that a sparse row lists the inputs feeding one output. A Dense layer's
 * kernel W, stored [in, out] (the Keras layout, y = x W), is therefore held as A = W^T, see
 * {@link #fromDenseKernel}. Reduction runs along a row of A: that is also the axis on which 2:4
 * groups are taken.
 *
 * <ul>
 *   <li>{@link #multiply}: y = x A^T for a batch of row vectors (x [batch, cols] -> y [batch, rows]),
 *       what a Dense layer computes;</li>
 *   <li>{@link #multiplyT}: Y = A X for column vectors stored as rows (X [cols, n] -> Y [rows, n]),
 *       what a convolution computes on its im2col matrix (n = output pixels).</li>
 * </ul>
 * Instances are immutable except for scratch buffers: use one instance from one thread at a time
 * (the products themselves run in parallel through {@link Parallel}).
 */
public abstract sealed class SparseMatrix permits DenseMatrix, CsrMatrix, BlockedEllMatrix, NmMatrix {
    protected final int rows;
    protected final int cols;
    /** scratch for {@link #multiply}: x transposed, [cols, ld(batch)], grown on demand */
    private float[] xt = new float[0];
    /** scratch for {@link #multiply}: the product before transposing back, [rows, ld(batch)] */
    private float[] yt = new float[0];

    protected SparseMatrix(int rows, int cols) {
        if (rows <= 0 || cols <= 0) throw new IllegalArgumentException("a sparse matrix needs positive sizes, got " + rows + " x " + cols);
        this.rows = rows;
        this.cols = cols;
    }

    public final int rows() { return rows; }
    public final int cols() { return cols; }

    public abstract SparseFormat format();

    /** Number of nonzero weights (explicitly stored zeros excluded). */
    public abstract long nonZeros();

    /** Bytes of storage (values, indices, pointers), for reports. */
    public abstract long storageBytes();

    /** Fraction of zero weights, nonZeros / (rows * cols) subtracted from one. */
    public final double sparsity() { return 1.0 - (double) nonZeros() / ((double) rows * cols); }

    /** A back in dense row-major form, [rows, cols]; exactly the matrix it was built from. */
    public abstract float[] toDense();

    /**
     * Y = A X: {@code y[yOff + r*ldy + j] = sum_c A[r, c] * x[xOff + c*ldx + j]} for r < rows,
     * j < n. Y is overwritten (not read).
     */
    public abstract void multiplyT(float[] x, int xOff, int ldx, int n, float[] y, int yOff, int ldy);

    /**
     * y = x A^T for a batch: {@code y[b*rows + r] = sum_c x[b*cols + c] * A[r, c]}, y overwritten.
     * The sparse formats transpose x into a scratch buffer, run {@link #multiplyT} (whose inner
     * loops then run along the batch with whole vectors) and transpose back; for one row no
     * transposes are needed.
     */
    public void multiply(float[] x, int batch, float[] y) {
        if (batch == 1) {
            multiplyT(x, 0, 1, 1, y, 0, 1);
            return;
        }
        if (xt.length < cols * batch) xt = new float[cols * batch];
        if (yt.length < rows * batch) yt = new float[rows * batch];
        Transpose.transpose(x, 0, batch, cols, xt, 0);
        multiplyT(xt, 0, batch, batch, yt, 0, batch);
        Transpose.transpose(yt, 0, rows, batch, y, 0);
    }

    /** A dense row-major A [rows, cols] from a Dense kernel W stored [in, out]: A = W^T. */
    public static float[] fromDenseKernel(float[] kernel, int in, int out) {
        if (kernel.length < (long) in * out)
            throw new IllegalArgumentException("Dense kernel [" + in + ", " + out + "] needs " + (long) in * out + " values, got " + kernel.length);
        float[] a = new float[in * out];
        Transpose.transpose(kernel, 0, in, out, a, 0);
        return a;
    }

    /** Checks that a dense row-major array can hold a rows x cols matrix. */
    static void checkDense(float[] dense, int rows, int cols) {
        if (rows <= 0 || cols <= 0) throw new IllegalArgumentException("matrix sizes must be positive, got " + rows + " x " + cols);
        if (dense.length < (long) rows * cols)
            throw new IllegalArgumentException("a " + rows + " x " + cols + " matrix needs " + (long) rows * cols + " values, got " + dense.length);
    }

    /**
     * Splits rows [0, rows) into about {@code 4 * threads} tasks of equal work, where
     * {@code work[r+1] - work[r]} is the work of row r (a CSR row pointer), and runs them.
     */
    static void forRowsByWork(int rows, int[] work, long minWork, Parallel.RangeBody body) {
        long total = work[rows] - work[0];
        int tasks = (int) Math.max(1, Math.min((long) Parallel.threads() * 4, total / Math.max(1, minWork)));
        tasks = Math.min(tasks, rows);
        if (tasks <= 1 || Parallel.threads() == 1) {
            body.run(0, rows);
            return;
        }
        int[] bounds = new int[tasks + 1];
        bounds[tasks] = rows;
        for (int t = 1; t < tasks; t++) {
            long target = work[0] + total * t / tasks;
            int lo = bounds[t - 1], hi = rows;
            while (lo < hi) { // first row whose start reaches the target
                int mid = (lo + hi) >>> 1;
                if (work[mid] < target) lo = mid + 1;
                else hi = mid;
            }
            bounds[t] = lo;
        }
        int nt = tasks;
        Parallel.forTasks(nt, t -> {
            if (bounds[t] < bounds[t + 1]) body.run(bounds[t], bounds[t + 1]);
        });
    }
}
