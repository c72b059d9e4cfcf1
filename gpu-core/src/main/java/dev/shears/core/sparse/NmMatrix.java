package dev.shears.core.sparse;

/**
 * N:M structured sparsity (2:4 is what NVIDIA's sparse tensor cores and cuSPARSELt run): along
 * each row of A (the reduction axis, see {@link SparseMatrix}), every group of M consecutive
 * columns holds at most N nonzeros. Stored compressed as cuSPARSELt does: N values per group
 * ({@code values}, [rows, groups*N]) and each value's position inside its group
 * ({@code positions}, same shape, 0..M-1). Groups with fewer than N nonzeros are padded with
 * zero values. A final partial group (cols not a multiple of M) is allowed.
 *
 * <p>The CPU kernel expands positions to column indices once and runs the CSR SpMM/SpMV loops
 * with fixed-length rows; the format exists for the GPU, and the planner keeps it on the CPU only
 * where it measures faster.
 */
public final class NmMatrix extends SparseMatrix {
    private final int n;
    private final int m;
    private final int groups;
    /** kept values, [rows, groups * n] */
    private final float[] values;
    /** position of each kept value inside its group, [rows, groups * n] */
    private final byte[] positions;
    /** expanded column of each kept value, [rows * groups * n], and implicit row pointers */
    private final int[] columns;
    private final int[] rowPtr;
    private final long nonZeros;

    private NmMatrix(int rows, int cols, int n, int m, float[] values, byte[] positions) {
        super(rows, cols);
        this.n = n;
        this.m = m;
        this.groups = (cols + m - 1) / m;
        this.values = values;
        this.positions = positions;
        int per = groups * n;
        this.columns = new int[rows * per];
        this.rowPtr = new int[rows + 1];
        long nz = 0;
        for (int r = 0; r < rows; r++) {
            rowPtr[r + 1] = (r + 1) * per;
            for (int i = 0; i < per; i++) {
                columns[r * per + i] = (i / n) * m + positions[r * per + i];
                if (values[r * per + i] != 0f) nz++;
            }
        }
        this.nonZeros = nz;
    }

    /**
     * From a dense row-major A [rows, cols] that follows the N:M pattern along its rows.
     *
     * @throws IllegalArgumentException naming the first group with more than N nonzeros
     */
    public static NmMatrix fromDense(float[] dense, int rows, int cols, int n, int m) {
        checkDense(dense, rows, cols);
        return build(dense, rows, cols, n, m, false);
    }

    /** 2:4 from a dense row-major A. */
    public static NmMatrix fromDense(float[] dense, int rows, int cols) {
        return fromDense(dense, rows, cols, 2, 4);
    }

    /**
     * From a Dense layer's kernel W [in, out] (A = W^T): groups run along the input axis, i.e.
     * for each output, inputs 4g..4g+3 hold at most 2 nonzeros.
     */
    public static NmMatrix fromKernel(float[] kernel, int in, int out, int n, int m) {
        return build(fromDenseKernel(kernel, in, out), out, in, n, m, true);
    }

    /** Whether A [rows, cols] follows the N:M pattern along its rows. */
    public static boolean follows(float[] dense, int rows, int cols, int n, int m) {
        return firstViolation(dense, rows, cols, n, m) == null;
    }

    /** {row, firstColumn, count} of the first group with more than n nonzeros, or null. */
    private static int[] firstViolation(float[] dense, int rows, int cols, int n, int m) {
        for (int r = 0; r < rows; r++)
            for (int c0 = 0; c0 < cols; c0 += m) {
                int cnt = 0;
                for (int c = c0; c < Math.min(cols, c0 + m); c++) if (dense[r * cols + c] != 0f) cnt++;
                if (cnt > n) return new int[]{r, c0, cnt};
            }
        return null;
    }

    private static NmMatrix build(float[] dense, int rows, int cols, int n, int m, boolean kernelCoords) {
        if (n < 1 || m < 2 || n >= m || m > 127)
            throw new IllegalArgumentException("N:M sparsity needs 1 <= N < M <= 127, got " + n + ":" + m);
        int[] bad = firstViolation(dense, rows, cols, n, m);
        if (bad != null) {
            int last = Math.min(cols, bad[1] + m) - 1;
            String where = kernelCoords
                    ? "Dense kernel [in, out]: output " + bad[0] + ", inputs " + bad[1] + ".." + last
                    : "row " + bad[0] + ", columns " + bad[1] + ".." + last;
            throw new IllegalArgumentException("not a " + n + ":" + m + " sparse matrix: " + where + " hold " + bad[2]
                    + " nonzeros, more than " + n + " (prune with a " + n + ":" + m + " pattern first, or use CSR)");
        }
        int groups = (cols + m - 1) / m;
        int per = groups * n;
        float[] values = new float[rows * per];
        byte[] pos = new byte[rows * per];
        for (int r = 0; r < rows; r++)
            for (int g = 0; g < groups; g++) {
                int slot = r * per + g * n, used = 0;
                int c0 = g * m, c1 = Math.min(cols, c0 + m);
                for (int c = c0; c < c1; c++) {
                    float v = dense[r * cols + c];
                    if (v != 0f) {
                        values[slot + used] = v;
                        pos[slot + used++] = (byte) (c - c0);
                    }
                }
                // pad with zeros at unused positions of the group (distinct, in range)
                for (int p = 0; used < n; p++) {
                    boolean taken = false;
                    for (int u = 0; u < used; u++) if (pos[slot + u] == p) taken = true;
                    if (!taken && c0 + p < c1) {
                        values[slot + used] = 0f;
                        pos[slot + used++] = (byte) p;
                    } else if (c0 + p >= c1) {
                        // a short final group: repeat position 0 with a zero value (adds nothing)
                        values[slot + used] = 0f;
                        pos[slot + used++] = 0;
                    }
                }
            }
        return new NmMatrix(rows, cols, n, m, values, pos);
    }

    public int n() { return n; }
    public int m() { return m; }
    /** Copies of the compressed arrays, [rows, groups * n]. */
    public float[] compressedValues() { return values.clone(); }
    public byte[] compressedPositions() { return positions.clone(); }

    @Override public SparseFormat format() { return SparseFormat.NM; }
    @Override public long nonZeros() { return nonZeros; }
    @Override public long storageBytes() { return 5L * values.length; }

    @Override public float[] toDense() {
        float[] d = new float[rows * cols];
        int per = groups * n;
        for (int r = 0; r < rows; r++)
            for (int i = 0; i < per; i++) {
                float v = values[r * per + i];
                if (v != 0f) d[r * cols + columns[r * per + i]] = v;
            }
        return d;
    }

    @Override protected void product(float[] x, int xOff, int ldx, int cnt, float[] y, int yOff, int ldy, int ys) {
        long minWork = Math.max(1, CsrMatrix.MIN_TASK_WORK / cnt);
        if (cnt == 1) {
            forRowsByWork(rows, rowPtr, minWork, (r0, r1) -> CsrMatrix.spmv(rowPtr, columns, values, r0, r1, x, xOff, ldx, y, yOff, ldy));
        } else {
            int[] map = ys == 1 ? null : scatterMap(ys, 4 * CsrMatrix.VL);
            forRowsByWork(rows, rowPtr, minWork, (r0, r1) -> CsrMatrix.spmm(rowPtr, columns, values, r0, r1, x, xOff, ldx, cnt, y, yOff, ldy, ys, map));
        }
    }
}
