package dev.shears.core.cuda.sparse;

import dev.shears.core.cuda.CudaTensor;
import dev.shears.core.sparse.BlockedEllMatrix;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import dev.shears.nativebind.Cusparse;
import dev.shears.nativebind.SparseMatrixDescriptor;

/**
 * A Blocked-ELL matrix (int32 block-column indices, FP32 values; the layout of
 * {@link BlockedEllMatrix}, which is cuSPARSE's) in device memory, multiplied by cuSPARSE SpMM
 * with CUSPARSE_SPMM_BLOCKED_ELL_ALG1, also at batch 1 (cuSPARSE's SpMV takes no Blocked-ELL).
 * The block size must divide rows and cols ({@link #fits}).
 *
 * <p>What this relies on, from the cuSPARSE documentation
 * (https://docs.nvidia.com/cuda/cusparse/, "cusparseCreateBlockedEll()", "cusparseSpMM()",
 * section "Blocked-ELLPACK format"; read in the singe-cusparse crate's transcription of the 12.x
 * text, the NVIDIA page itself not being at hand):
 * <ul>
 *   <li>ellValue holds rows * ellCols values, ellCols being "the actual number of columns of the
 *   Blocked-Ellpack format (ellValue columns)": a [rows, ellCols] matrix, row-major, each block
 *   row's blocks side by side. NVIDIA's CUDALibrarySamples cuSPARSE/spmm_blockedell sample
 *   confirms the order inside a block (its 4 x 4 matrix with blocks of 2 is ellValue {1..8} for
 *   rows [0 0 1 2], [0 0 3 4], [5 6 0 0], [7 8 0 0]); it has one block per block row, so the
 *   order of blocks side by side and of ellColInd ([rows / b, ellCols / b], block row by block
 *   row) rest on the docs' figure and on other users of the API, not on text;</li>
 *   <li>ellColInd holds block columns in [0, cols / b) or -1 for an empty block; NVIDIA said in
 *   CUDALibrarySamples issue #80 that the library nevertheless reads a -1 slot's values, so
 *   padding must hold zeros, which {@link BlockedEllMatrix} stores there;</li>
 *   <li>SpMM only: op(A) non-transposed, 32-bit indices only, host pointer mode; FP32 needs
 *   compute capability 8.0 or newer ({@link #supportedOn}); "best performance with power-of-2
 *   block sizes", larger blocks (64+) fastest.</li>
 * </ul>
 */
public final class CudaBlockedEllMatrix extends CudaSparseMatrix {
    private final CusparseRuntime cusparse;
    private final int block;
    /** stored block slots per block row */
    private final int ellBlocks;
    /** block-column of each slot or -1, [rows / block, ellBlocks] */
    private final CudaTensor blockCols;
    /** block values side by side, [rows, ellBlocks * block] row-major */
    private final CudaTensor values;
    private final SparseMatrixDescriptor descriptor;
    private boolean closed;

    public CudaBlockedEllMatrix(CusparseRuntime cusparse, BlockedEllMatrix bell) {
        super(bell.rows(), bell.cols());
        if (!fits(bell.rows(), bell.cols(), bell.blockSize()) || bell.ellBlocks() == 0)
            throw new IllegalArgumentException("Blocked-ELL on the GPU needs a block size dividing both dimensions and at least one block: "
                    + bell.rows() + " x " + bell.cols() + ", block " + bell.blockSize() + ", " + bell.ellBlocks() + " blocks a row");
        this.cusparse = cusparse;
        this.block = bell.blockSize();
        this.ellBlocks = bell.ellBlocks();
        int[] bc = bell.blockColumns();
        float[] v = bell.blockValues();
        blockCols = (CudaTensor) cusparse.backend().uploadInts(bc, Shape.of(bc.length));
        values = (CudaTensor) cusparse.backend().upload(v, Shape.of(v.length));
        SparseMatrixDescriptor d;
        try {
            d = SparseMatrixDescriptor.blockedEll(rows, cols, block, (long) bell.ellBlocks() * block, blockCols.pointer(),
                    values.pointer(), Cusparse.CUDA_R_32F);
        } catch (RuntimeException e) {
            blockCols.close();
            values.close();
            throw e;
        }
        descriptor = d;
    }

    /** Lowest compute capability (major * 10 + minor) on which cuSPARSE runs FP32 Blocked-ELL SpMM (cuSPARSE docs, cusparseSpMM(), Blocked-ELL data types). */
    public static final int MIN_COMPUTE_CAPABILITY_FP32 = 80;

    /** Why FP32 Blocked-ELL SpMM cannot run on a device of compute capability {@code cc}, or null when it can. */
    public static String supportedOn(int cc) {
        return cc >= MIN_COMPUTE_CAPABILITY_FP32 ? null
                : "cuSPARSE runs FP32 Blocked-ELL SpMM on compute capability 8.0 or newer only, this device is sm_" + cc;
    }

    /** Whether a rows x cols matrix can be stored in blocks of {@code block} on the GPU. */
    public static boolean fits(int rows, int cols, int block) {
        return block > 0 && rows % block == 0 && cols % block == 0;
    }

    public int blockSize() { return block; }

    @Override public String format() { return "blocked-ell-" + block; }

    @Override public String kernel() { return "spmm-blocked-ell-alg1"; }

    /** Block-column indices and block values, as {@link BlockedEllMatrix#storageBytes}. */
    @Override public long storageBytes() { return 4L * ((long) rows / block * ellBlocks + (long) rows * ellBlocks * block); }

    @Override public void multiply(Tensor x, int n, Tensor y) {
        checkMultiply(x, n, y);
        multiply(cuda(x, "x").pointer(), n, cuda(y, "y").pointer());
    }

    /** {@link #multiply} on raw device arrays: x [n, cols] and y [n, rows], row-major. */
    // GPU-CHECK: this passes B and C to CUSPARSE_SPMM_BLOCKED_ELL_ALG1 column-major (multiplyT passes
    // them row-major). The emulator takes both; the cuSPARSE text at hand does not say whether the
    // Blocked-ELL algorithm takes column-major dense operands in 12.x. CudaSparseModelIT and
    // SparseGpuBench's blocked-ell rows (maxRelErr) show it: CUSPARSE_STATUS_NOT_SUPPORTED from
    // cusparseSpMM_bufferSize here means dense layers must run Blocked-ELL row-major (Y^T = A X^T
    // with X^T materialised by the permute kernel) or drop Blocked-ELL for them.
    public void multiply(long x, int n, long y) {
        cusparse.product(descriptor, x, y, cols, n, rows, n, CusparseRuntime.Operands.COLUMN_MAJOR, Cusparse.CUSPARSE_SPMM_BLOCKED_ELL_ALG1);
    }

    @Override public void multiplyT(Tensor x, long xOffset, int n, Tensor y, long yOffset) {
        checkMultiplyT(x, xOffset, n, y, yOffset);
        multiplyT(cuda(x, "x").pointer(xOffset), n, cuda(y, "y").pointer(yOffset));
    }

    /** {@link #multiplyT} on raw device arrays: x [cols, n] and y [rows, n], row-major. */
    public void multiplyT(long x, int n, long y) {
        cusparse.product(descriptor, x, y, cols, n, rows, n, CusparseRuntime.Operands.ROW_MAJOR, Cusparse.CUSPARSE_SPMM_BLOCKED_ELL_ALG1);
    }

    @Override public void close() {
        if (closed) return;
        closed = true;
        try {
            cusparse.forget(descriptor);
            descriptor.close();
        } finally {
            blockCols.close();
            values.close();
        }
    }
}
