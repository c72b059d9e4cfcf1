package dev.shears.core.cuda.sparse;

import dev.shears.core.cuda.CudaTensor;
import dev.shears.core.sparse.CsrMatrix;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import dev.shears.nativebind.Cusparse;
import dev.shears.nativebind.SparseMatrixDescriptor;

import java.util.List;

/**
 * A CSR matrix (int32 indices, zero-based) in device memory, multiplied by cuSPARSE with one of
 * several {@link Kernel}s; the planner times those that apply and keeps the fastest
 * ({@link #use}). Dense layers ({@link #multiply}) pass X and Y to cuSPARSE as column-major
 * [cols, n] and [rows, n] matrices, which is what the row-major [n, cols] and [n, rows] arrays
 * are, so no transpose is ever materialised; convolutions ({@link #multiplyT}) pass them
 * row-major.
 */
public final class CudaCsrMatrix extends CudaSparseMatrix {

    /**
     * How the product runs. The cuSPARSE documentation (https://docs.nvidia.com/cuda/cusparse/,
     * "cusparseSpMM()", read in the singe-cusparse crate's transcription of the 12.x text) says
     * CSR_ALG1 "provides the best performance with column-major layout" and CSR_ALG2 "with
     * row-major layout" ("CSR_ALG2 [is] intended for row-major layout, ... CSR_ALG1 ... for
     * column-major"): performance notes, not restrictions, as every SpMM algorithm takes both
     * layouts. So the planner times each only on the layout it is meant for ({@link #candidates}),
     * and the other product falls back to the default algorithm. SpMV takes CSR with
     * CUSPARSE_SPMV_ALG_DEFAULT / CSR_ALG1 / CSR_ALG2, any of them for any vector.
     */
    public enum Kernel {
        /** SpMM, CUSPARSE_SPMM_ALG_DEFAULT (any layout) */
        SPMM_DEFAULT("spmm-default", Cusparse.CUSPARSE_SPMM_ALG_DEFAULT),
        /** SpMM, CUSPARSE_SPMM_CSR_ALG1 (meant for column-major operands: Dense layers) */
        SPMM_ALG1("spmm-alg1", Cusparse.CUSPARSE_SPMM_CSR_ALG1),
        /** SpMM, CUSPARSE_SPMM_CSR_ALG2 (meant for row-major operands: convolutions) */
        SPMM_ALG2("spmm-alg2", Cusparse.CUSPARSE_SPMM_CSR_ALG2),
        /** SpMV, CUSPARSE_SPMV_ALG_DEFAULT, for a batch of one (larger batches run SPMM_DEFAULT) */
        SPMV("spmv", Cusparse.CUSPARSE_SPMV_ALG_DEFAULT);

        final String label;
        final int alg;

        Kernel(String label, int alg) {
            this.label = label;
            this.alg = alg;
        }

        public String label() { return label; }
    }

    private final CusparseRuntime cusparse;
    private final long nonZeros;
    /** row pointers, [rows + 1] */
    private final CudaTensor rowPtr;
    /** column of each stored value, [max(1, nnz)] */
    private final CudaTensor colIdx;
    /** the stored values, [max(1, nnz)] */
    private final CudaTensor values;
    private final SparseMatrixDescriptor descriptor;
    private Kernel kernel = Kernel.SPMM_DEFAULT;
    private boolean closed;

    /** Uploads {@code csr} to the device of {@code cusparse}'s backend. */
    public CudaCsrMatrix(CusparseRuntime cusparse, CsrMatrix csr) {
        super(csr.rows(), csr.cols());
        this.cusparse = cusparse;
        this.nonZeros = csr.nonZeros();
        int[] ptr = csr.rowPointers(), idx = csr.columnIndices();
        float[] val = csr.nonZeroValues();
        int stored = Math.max(1, idx.length); // no zero-byte allocations; the padding is never read
        rowPtr = (CudaTensor) cusparse.backend().uploadInts(ptr, Shape.of(ptr.length));
        colIdx = (CudaTensor) cusparse.backend().uploadInts(idx.length > 0 ? idx : new int[1], Shape.of(stored));
        values = (CudaTensor) cusparse.backend().upload(val.length > 0 ? val : new float[1], Shape.of(stored));
        SparseMatrixDescriptor d;
        try {
            d = SparseMatrixDescriptor.csr(rows, cols, nonZeros, rowPtr.pointer(), colIdx.pointer(), values.pointer());
        } catch (RuntimeException e) {
            freeArrays();
            throw e;
        }
        descriptor = d;
    }

    /** The kernels worth timing for a Dense layer ({@code batchMajor}) or a convolution at batch {@code n}. */
    public static List<Kernel> candidates(boolean batchMajor, int n) {
        if (!batchMajor) return List.of(Kernel.SPMM_DEFAULT, Kernel.SPMM_ALG2);
        return n == 1 ? List.of(Kernel.SPMM_DEFAULT, Kernel.SPMM_ALG1, Kernel.SPMV) : List.of(Kernel.SPMM_DEFAULT, Kernel.SPMM_ALG1);
    }

    /** Runs {@code k} from now on. */
    public void use(Kernel k) { kernel = k; }

    public long nonZeros() { return nonZeros; }

    @Override public String format() { return "csr"; }

    /** Row pointers, column indices and values, as {@link CsrMatrix#storageBytes} (the one-element padding of an empty matrix not counted). */
    @Override public long storageBytes() { return 4L * (rows + 1) + 8L * nonZeros; }

    @Override public String kernel() { return kernel.label; }

    @Override public void multiply(Tensor x, int n, Tensor y) {
        checkMultiply(x, n, y);
        multiply(cuda(x, "x").pointer(), n, cuda(y, "y").pointer());
    }

    /** {@link #multiply} on raw device arrays: x [n, cols] and y [n, rows], row-major. */
    public void multiply(long x, int n, long y) {
        if (kernel == Kernel.SPMV && n == 1) {
            cusparse.product(descriptor, x, y, cols, 1, rows, 1, CusparseRuntime.Operands.VECTOR, kernel.alg);
            return;
        }
        int alg = kernel == Kernel.SPMV ? Kernel.SPMM_DEFAULT.alg : kernel.alg;
        // X [n, cols] row-major is X^T [cols, n] column-major; Y likewise: Y^T = A X^T
        cusparse.product(descriptor, x, y, cols, n, rows, n, CusparseRuntime.Operands.COLUMN_MAJOR, alg);
    }

    @Override public void multiplyT(Tensor x, long xOffset, int n, Tensor y, long yOffset) {
        checkMultiplyT(x, xOffset, n, y, yOffset);
        multiplyT(cuda(x, "x").pointer(xOffset), n, cuda(y, "y").pointer(yOffset));
    }

    /** {@link #multiplyT} on raw device arrays: x [cols, n] and y [rows, n], row-major. */
    public void multiplyT(long x, int n, long y) {
        // ALG1 would run on row-major operands too (see Kernel), but it was timed column-major only
        int alg = kernel == Kernel.SPMV || kernel == Kernel.SPMM_ALG1 ? Kernel.SPMM_DEFAULT.alg : kernel.alg;
        cusparse.product(descriptor, x, y, cols, n, rows, n, CusparseRuntime.Operands.ROW_MAJOR, alg);
    }

    private void freeArrays() {
        rowPtr.close();
        colIdx.close();
        values.close();
    }

    @Override public void close() {
        if (closed) return;
        closed = true;
        try {
            cusparse.forget(descriptor);
            descriptor.close();
        } finally {
            freeArrays();
        }
    }
}
