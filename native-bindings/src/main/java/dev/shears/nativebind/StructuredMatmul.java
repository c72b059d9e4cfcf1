package dev.shears.nativebind;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * One cuSPARSELt 2:4 matrix product {@code D[m, n] = A[m, k] B[k, n]} with A structured (50%
 * sparse along k, 2 of every 4), all row-major, A and B not transposed, C = D, for 16-bit
 * values (CUDA_R_16F or CUDA_R_16BF) accumulated in FP32. Owns the descriptors, the algorithm
 * selection and the plan; the device buffers belong to the caller. The sequence is cuSPARSELt's
 * documented one: descriptors, matmul descriptor, algorithm selection, plan, then
 * {@link #prune} (or bring an A that already follows 2:4), {@link #compress}, and
 * {@link #matmul} with a workspace of {@link #workspaceBytes()}.
 *
 * <p>Not yet run on a GPU (written in a session without one); {@code StructuredMatmulIT} checks
 * it against cuBLAS on the device.
 */
public final class StructuredMatmul implements AutoCloseable {
    /** every operand's base address and leading dimension must be a multiple of 16 bytes */
    private static final int ALIGNMENT = 16;

    private final MemorySegment handle;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment matA, matB, matC, matmul, algSelection, plan;
    /** {alpha, beta} host floats */
    private final MemorySegment scalars;
    private final int m, n, k;
    /** how many of matA, matB, matC (in that order) have been initialised, so close destroys only those */
    private int liveDescriptors;
    private boolean algLive, planLive, closed;

    /**
     * @param valueType   {@link CusparseLt#CUDA_R_16F} or {@link CusparseLt#CUDA_R_16BF}
     * @param computeType {@link CusparseLt#CUSPARSE_COMPUTE_32F} for both (0.6+)
     */
    public StructuredMatmul(CusparseLtHandle lt, int m, int n, int k, int valueType, int computeType) {
        this(lt, m, n, k, valueType, computeType, 0);
    }

    /**
     * As above, with {@code searchIterations} launches per kernel configuration in {@link #search}
     * (CUSPARSELT_MATMUL_SEARCH_ITERATIONS, set on the algorithm selection before the plan is made
     * from it); 0 leaves the library's default (5 in cuSPARSELt 0.6-0.8).
     */
    public StructuredMatmul(CusparseLtHandle lt, int m, int n, int k, int valueType, int computeType, int searchIterations) {
        checkShape(m, n, k, valueType);
        if (searchIterations < 0)
            throw new IllegalArgumentException("2:4 matmul: search iterations must be > 0 (or 0 for the library's default), got " + searchIterations);
        this.handle = lt.handle();
        this.m = m;
        this.n = n;
        this.k = k;
        matA = arena.allocate(CusparseLt.OPAQUE_BYTES, 16);
        matB = arena.allocate(CusparseLt.OPAQUE_BYTES, 16);
        matC = arena.allocate(CusparseLt.OPAQUE_BYTES, 16);
        matmul = arena.allocate(CusparseLt.OPAQUE_BYTES, 16);
        algSelection = arena.allocate(CusparseLt.OPAQUE_BYTES, 16);
        plan = arena.allocate(CusparseLt.OPAQUE_BYTES, 16);
        scalars = arena.allocate(JAVA_FLOAT, 2);
        setScalars(1f, 0f);
        try {
            int row = CusparseLt.CUSPARSE_ORDER_ROW;
            CusparseLt.structuredDescriptorInit(handle, matA, m, k, k, ALIGNMENT, valueType, row);
            liveDescriptors = 1;
            CusparseLt.denseDescriptorInit(handle, matB, k, n, n, ALIGNMENT, valueType, row);
            liveDescriptors = 2;
            CusparseLt.denseDescriptorInit(handle, matC, m, n, n, ALIGNMENT, valueType, row);
            liveDescriptors = 3;
            int nt = CusparseLt.CUSPARSE_OPERATION_NON_TRANSPOSE;
            CusparseLt.matmulDescriptorInit(handle, matmul, nt, nt, matA, matB, matC, matC, computeType);
            CusparseLt.matmulAlgSelectionInit(handle, algSelection, matmul, CusparseLt.CUSPARSELT_MATMUL_ALG_DEFAULT);
            algLive = true;
            if (searchIterations > 0)
                CusparseLt.matmulAlgSetIntAttribute(handle, algSelection, CusparseLt.CUSPARSELT_MATMUL_SEARCH_ITERATIONS, searchIterations);
            CusparseLt.matmulPlanInit(handle, plan, matmul, algSelection);
            planLive = true;
        } catch (RuntimeException e) {
            try {
                close();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /**
     * The shapes this class takes: 16-bit values, and the dimensions cuSPARSELt's descriptor inits
     * accept (docs.nvidia.com/cuda/cusparselt/functions.html): rows, cols and ld of a dense
     * matrix in multiples of 16 bytes (8 values), of a structured one in multiples of 32 bytes (16
     * values). So the structured A [m, k] needs m and k multiples of 16, B [k, n] and D [m, n]
     * need n a multiple of 8.
     */
    static void checkShape(int m, int n, int k, int valueType) {
        if (m < 1 || n < 1 || k < 1) throw new IllegalArgumentException("2:4 matmul: m, n, k must be >= 1, got " + m + ", " + n + ", " + k);
        if (valueType != CusparseLt.CUDA_R_16F && valueType != CusparseLt.CUDA_R_16BF)
            throw new IllegalArgumentException("2:4 matmul: value type " + valueType + " is not CUDA_R_16F (2) or CUDA_R_16BF (14)");
        if (k % 16 != 0 || n % 8 != 0 || m % 16 != 0)
            throw new IllegalArgumentException("2:4 matmul: needs m and k multiples of 16 (the structured A) and n a multiple of 8, got m=" + m
                    + " n=" + n + " k=" + k + " (pad the layer, or keep it dense)");
    }

    public int m() { return m; }
    public int n() { return n; }
    public int k() { return k; }

    /** Sets alpha and beta for the next {@link #matmul} / {@link #search}. */
    public void setScalars(float alpha, float beta) {
        scalars.setAtIndex(JAVA_FLOAT, 0, alpha);
        scalars.setAtIndex(JAVA_FLOAT, 1, beta);
    }

    /** Prunes a dense A [m, k] (device) to 2:4 into {@code out} (may equal {@code in}); STRIP keeps the larger two of each four. */
    public void prune(long in, long out, CudaStream stream) {
        CusparseLt.spmmaPrune(handle, matmul, in, out, CusparseLt.CUSPARSELT_PRUNE_SPMMA_STRIP, stream.handle());
    }

    /** Queues the 2:4 check of A; the device int at {@code validDevice} becomes 0 when A follows the pattern. */
    public void checkPruned(long a, long validDevice, CudaStream stream) {
        CusparseLt.spmmaPruneCheck(handle, matmul, a, validDevice, stream.handle());
    }

    /** {compressed bytes, compression scratch bytes}. */
    public long[] compressedSize() { return CusparseLt.spmmaCompressedSize(handle, plan); }

    /** Compresses the pruned A into {@code compressed} (of {@code compressedSize()[0]} bytes). */
    public void compress(long prunedA, long compressed, long scratch, CudaStream stream) {
        CusparseLt.spmmaCompress(handle, plan, prunedA, compressed, scratch, stream.handle());
    }

    /** Device workspace bytes {@link #matmul} needs (query again after {@link #search}). */
    public long workspaceBytes() { return CusparseLt.matmulWorkspace(handle, plan); }

    /**
     * Autotunes the plan on these operands (cusparseLtMatmulSearch: every kernel configuration is
     * run and the fastest kept in the plan; D is left computed) and returns the workspace bytes the
     * tuned plan needs, which may differ from what {@link #workspaceBytes()} said before: a caller
     * whose {@code workspace} is smaller must give {@link #matmul} a new one. Synchronous in
     * effect (the library times the configurations), so never while a stream is being captured.
     */
    public long search(long compressedA, long b, long d, long workspace, CudaStream stream) {
        CusparseLt.matmulSearch(handle, plan, scalars, compressedA, b, d, d, workspace, stream.handle());
        return workspaceBytes();
    }

    /** The kernel configuration the plan runs: 0 (the default) until {@link #search} chose one. */
    // GPU-CHECK: cuSPARSELt documents that cusparseLtMatmulSearch "automatically updates the plan";
    // whether the algorithm selection this reads (not the plan) then holds the chosen CONFIG_ID is not
    // stated. Check in StructuredMatmulIT: after search(), configId() against the id whose matmul time
    // is the fastest when set explicitly (matmulAlgSetIntAttribute CONFIG_ID + a new plan); if it stays
    // 0, report the id another way (it only feeds reports; the tuned plan is what runs).
    public int configId() { return CusparseLt.matmulAlgIntAttribute(handle, algSelection, CusparseLt.CUSPARSELT_MATMUL_ALG_CONFIG_ID); }

    /** Launches per kernel configuration in {@link #search}, as the algorithm selection holds it. */
    public int searchIterations() {
        return CusparseLt.matmulAlgIntAttribute(handle, algSelection, CusparseLt.CUSPARSELT_MATMUL_SEARCH_ITERATIONS);
    }

    /** D = alpha A B + beta D with the compressed A. */
    public void matmul(long compressedA, long b, long d, long workspace, CudaStream stream) {
        CusparseLt.matmul(handle, plan, scalars, compressedA, b, d, d, workspace, stream.handle());
    }

    @Override public void close() {
        if (closed) return;
        closed = true;
        RuntimeException first = null;
        try {
            if (planLive) CusparseLt.matmulPlanDestroy(plan);
        } catch (RuntimeException e) { first = e; }
        try {
            if (algLive) CusparseLt.matmulAlgSelectionDestroy(algSelection);
        } catch (RuntimeException e) { if (first == null) first = e; else first.addSuppressed(e); }
        MemorySegment[] descriptors = {matA, matB, matC};
        for (int i = 0; i < liveDescriptors; i++) {
            try {
                CusparseLt.matDescriptorDestroy(descriptors[i]);
            } catch (RuntimeException e) { if (first == null) first = e; else first.addSuppressed(e); }
        }
        arena.close();
        if (first != null) throw first;
    }
}
