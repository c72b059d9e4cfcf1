package dev.shears.core.sparse;

import dev.shears.core.cpu.Parallel;

/**
 * A weight matrix A of {@code rows x cols} in one storage format, with the two products a layer
 * needs. Orientation: A is the matrix whose rows are output features and whose columns are input
 * features (the "out x in" of PyTorch, ONNX Gemm with transB and Conv2D kernels flattened to
 * [out, in*kh*kw]), so that a sparse row lists the inputs feeding one output. A Dense layer's
 * kernel W, stored [in, out] (the Keras layout, y = x W), is therefore held as A = W^T, see
 * {@link #fromDenseKernel}. Reduction runs along a row of A: that is also the axis on which
 * {@link NmMatrix} takes its 2:4 groups (consecutive columns). That is a Dense kernel's 2:4 as
 * Shears prunes it; a Conv2D kernel pruned 2:4 groups input channels, which are consecutive columns
 * only for a 1x1 kernel (see {@link SparsePlanner}).
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
    /** scatter offsets {0, s, 2s, ...} for batch-major output, 4 vectors long; see {@link #scatterMap} */
    private int[] scatter = new int[0];
    private int scatterStride;

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
    public final void multiplyT(float[] x, int xOff, int ldx, int n, float[] y, int yOff, int ldy) {
        product(x, xOff, ldx, n, y, yOff, ldy, 1);
    }

    /**
     * The product behind both public forms: Y = A X with Y[r, j] stored at
     * {@code y[yOff + r*ldy + j*ys]}. {@link #multiplyT} passes ys = 1; {@link #multiply} passes
     * ldy = 1, ys = rows, so that the kernels write the batch-major result directly (scattered
     * stores that stay within a few cache lines) instead of transposing it afterwards.
     */
    protected abstract void product(float[] x, int xOff, int ldx, int n, float[] y, int yOff, int ldy, int ys);

    /**
     * y = x A^T for a batch: {@code y[b*rows + r] = sum_c x[b*cols + c] * A[r, c]}, y overwritten.
     * The sparse formats transpose x into a scratch buffer so that their inner loops run along the
     * batch with whole vectors, and write y in place; one row needs no transpose.
     */
    public void multiply(float[] x, int batch, float[] y) {
        if (batch == 1) {
            product(x, 0, 1, 1, y, 0, 1, 1);
            return;
        }
        if (xt.length < cols * batch) xt = new float[cols * batch];
        Transpose.transpose(x, 0, batch, cols, xt, 0);
        product(xt, 0, batch, batch, y, 0, 1, rows);
    }

    /** {0, ys, 2*ys, ...} for {@code len} lanes, cached (instances serve one thread at a time). */
    protected final int[] scatterMap(int ys, int len) {
        if (scatter.length < len || scatterStride != ys) {
            scatter = new int[Math.max(len, scatter.length)];
            for (int i = 0; i < scatter.length; i++) scatter[i] = i * ys;
            scatterStride = ys;
        }
        return scatter;
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
