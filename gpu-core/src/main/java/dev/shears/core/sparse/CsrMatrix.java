package dev.shears.core.sparse;

import dev.shears.core.cpu.Lanes;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Compressed sparse rows (the cuSPARSE / scipy CSR layout, zero-based): row r's nonzeros are
 * {@code values[rowPtr[r] .. rowPtr[r+1])} in columns {@code colIdx[...]}, ascending. Only
 * nonzero values are stored, so dense -> CSR -> dense is exact.
 *
 * <p>Kernels (Vector API, rows split over threads by nonzero count):
 * <ul>
 *   <li>one column ({@code n == 1}, SpMV): each row is a dot product of its values with x gathered
 *       at its column indices, a vector of columns at a time;</li>
 *   <li>several columns (SpMM): each nonzero scales a contiguous row of X into accumulators that
 *       stay in registers for the whole row of A, 4 vectors (64 columns with AVX-512) at a time.</li>
 * </ul>
 */
public final class CsrMatrix extends SparseMatrix {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int VL = S.length();
    /** multiply-adds below which a task is not worth handing to another thread */
    static final long MIN_TASK_WORK = 32 * 1024;

    /** row pointers, [rows + 1] */
    final int[] rowPtr;
    /** column index of each stored value, [nnz] */
    final int[] colIdx;
    /** the nonzero values, [nnz] */
    final float[] values;

    CsrMatrix(int rows, int cols, int[] rowPtr, int[] colIdx, float[] values) {
        super(rows, cols);
        this.rowPtr = rowPtr;
        this.colIdx = colIdx;
        this.values = values;
    }

    /** From a dense row-major matrix [rows, cols]; zeros (including -0) are dropped. */
    public static CsrMatrix fromDense(float[] dense, int rows, int cols) {
        checkDense(dense, rows, cols);
        int[] ptr = new int[rows + 1];
        long nnz = 0;
        for (int r = 0; r < rows; r++) {
            for (int c = 0, o = r * cols; c < cols; c++) if (dense[o + c] != 0f) nnz++;
            if (nnz > Integer.MAX_VALUE - 16) throw new IllegalArgumentException("too many nonzeros for CSR with int indices: " + nnz);
            ptr[r + 1] = (int) nnz;
        }
        int[] col = new int[(int) nnz];
        float[] val = new float[(int) nnz];
        int k = 0;
        for (int r = 0; r < rows; r++)
            for (int c = 0, o = r * cols; c < cols; c++) {
                float v = dense[o + c];
                if (v != 0f) {
                    col[k] = c;
                    val[k++] = v;
                }
            }
        return new CsrMatrix(rows, cols, ptr, col, val);
    }

    /** From a Dense layer's kernel W [in, out]: A = W^T [out, in], see {@link SparseMatrix}. */
    public static CsrMatrix fromKernel(float[] kernel, int in, int out) {
        return fromDense(fromDenseKernel(kernel, in, out), out, in);
    }

    /** Copies of the three arrays, for exporters and the GPU backend. */
    public int[] rowPointers() { return rowPtr.clone(); }
    public int[] columnIndices() { return colIdx.clone(); }
    public float[] nonZeroValues() { return values.clone(); }

    @Override public SparseFormat format() { return SparseFormat.CSR; }
    @Override public long nonZeros() { return values.length; }
    @Override public long storageBytes() { return 4L * (rowPtr.length + colIdx.length + values.length); }

    @Override public float[] toDense() {
        float[] d = new float[rows * cols];
        for (int r = 0; r < rows; r++)
            for (int k = rowPtr[r]; k < rowPtr[r + 1]; k++) d[r * cols + colIdx[k]] = values[k];
        return d;
    }

    @Override protected void product(float[] x, int xOff, int ldx, int n, float[] y, int yOff, int ldy, int ys) {
        long minWork = Math.max(1, MIN_TASK_WORK / n); // in nonzeros per task
        if (n == 1) {
            forRowsByWork(rows, rowPtr, minWork, (r0, r1) -> spmv(rowPtr, colIdx, values, r0, r1, x, xOff, ldx, y, yOff, ldy));
        } else {
            int[] map = ys == 1 ? null : scatterMap(ys, 4 * VL);
            forRowsByWork(rows, rowPtr, minWork, (r0, r1) -> spmm(rowPtr, colIdx, values, r0, r1, x, xOff, ldx, n, y, yOff, ldy, ys, map));
        }
    }

    /**
     * y[r] = sum_k val[k] * x[col[k]] for rows [r0, r1), vectors of gathered x. Shared with
     * {@link NmMatrix}, like {@link #spmm}.
     */
    static void spmv(int[] ptr, int[] col, float[] val, int r0, int r1, float[] x, int xOff, int ldx, float[] y, int yOff, int ldy) {
        boolean unit = ldx == 1;
        for (int r = r0; r < r1; r++) {
            int k = ptr[r], end = ptr[r + 1];
            float s = 0f;
            if (unit) {
                FloatVector acc = FloatVector.zero(S);
                for (; k + VL <= end; k += VL) {
                    FloatVector xv = FloatVector.fromArray(S, x, xOff, col, k);
                    acc = FloatVector.fromArray(S, val, k).fma(xv, acc);
                }
                s = Lanes.sum(acc);
            }
            for (; k < end; k++) s += val[k] * x[xOff + col[k] * ldx];
            y[yOff + r * ldy] = s;
        }
    }

    /**
     * Y[r, :] = sum_k val[k] * X[col[k], :] for rows [r0, r1); Y[r, j] goes to
     * y[yOff + r*ldy + j*ys], scattered through {@code map} = {0, ys, 2ys, ...} when ys != 1.
     * Shared with {@link NmMatrix}, whose groups expand to the same arrays. Stores are written out
     * in each branch: a helper taking the accumulators would box them (see Sgemm's kernel).
     */
    static void spmm(int[] ptr, int[] col, float[] val, int r0, int r1,
                     float[] x, int xOff, int ldx, int n, float[] y, int yOff, int ldy, int ys, int[] map) {
        int n4 = n - n % (4 * VL);
        int n1 = n - n % VL;
        for (int r = r0; r < r1; r++) {
            int k0 = ptr[r], k1 = ptr[r + 1];
            int yr = yOff + r * ldy;
            int j = 0;
            for (; j < n4; j += 4 * VL) {
                FloatVector a0 = FloatVector.zero(S), a1 = FloatVector.zero(S);
                FloatVector a2 = FloatVector.zero(S), a3 = FloatVector.zero(S);
                for (int k = k0; k < k1; k++) {
                    FloatVector v = FloatVector.broadcast(S, val[k]);
                    int xr = xOff + col[k] * ldx + j;
                    a0 = FloatVector.fromArray(S, x, xr).fma(v, a0);
                    a1 = FloatVector.fromArray(S, x, xr + VL).fma(v, a1);
                    a2 = FloatVector.fromArray(S, x, xr + 2 * VL).fma(v, a2);
                    a3 = FloatVector.fromArray(S, x, xr + 3 * VL).fma(v, a3);
                }
                if (ys == 1) {
                    a0.intoArray(y, yr + j);
                    a1.intoArray(y, yr + j + VL);
                    a2.intoArray(y, yr + j + 2 * VL);
                    a3.intoArray(y, yr + j + 3 * VL);
                } else {
                    a0.intoArray(y, yr + j * ys, map, 0);
                    a1.intoArray(y, yr + j * ys, map, VL);
                    a2.intoArray(y, yr + j * ys, map, 2 * VL);
                    a3.intoArray(y, yr + j * ys, map, 3 * VL);
                }
            }
            for (; j < n1; j += VL) {
                FloatVector a0 = FloatVector.zero(S);
                for (int k = k0; k < k1; k++)
                    a0 = FloatVector.fromArray(S, x, xOff + col[k] * ldx + j).fma(FloatVector.broadcast(S, val[k]), a0);
                if (ys == 1) a0.intoArray(y, yr + j);
                else a0.intoArray(y, yr + j * ys, map, 0);
            }
            if (j < n) {
                VectorMask<Float> m = S.indexInRange(j, n);
                FloatVector a0 = FloatVector.zero(S);
                for (int k = k0; k < k1; k++)
                    a0 = FloatVector.fromArray(S, x, xOff + col[k] * ldx + j, m).fma(FloatVector.broadcast(S, val[k]), a0);
                if (ys == 1) a0.intoArray(y, yr + j, m);
                else for (int t = 0; t < n - j; t++) y[yr + (j + t) * ys] = a0.lane(t); // a masked scatter checks every lane's index
            }
        }
    }
}
