package dev.shears.nativebind;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * A cuBLAS handle bound to one stream, with its own host scalar pair so a GEMM allocates nothing,
 * and optionally its own device workspace ({@link #CublasHandle(CudaStream, long)}). Not thread-safe.
 */
public final class CublasHandle implements AutoCloseable {
    private final MemorySegment handle;
    private final Arena arena = Arena.ofShared();
    /** {alpha, beta} in host memory */
    private final MemorySegment scalars = Cublas.scalars(arena);
    /** the handle's own device workspace, or 0 (cuBLAS's default pool) */
    private final long workspace;
    private boolean closed;

    /** A handle on {@code stream} that uses cuBLAS's default workspace pool. */
    public CublasHandle(CudaStream stream) { this(stream, 0); }

    /**
     * A handle on {@code stream} with a device workspace of {@code workspaceBytes} it owns (0: cuBLAS's
     * default pool). With its own workspace a GEMM allocates nothing when it runs, so it may be
     * captured into a CUDA graph: cuBLAS otherwise allocates its default workspace when first
     * needed, and an allocation is illegal during stream capture (cuBLAS documentation,
     * cublasSetWorkspace and "CUDA Graphs Support", which recommend 32 MiB on Hopper and 4 MiB
     * on earlier GPUs; {@link #recommendedWorkspaceBytes}).
     */
    public CublasHandle(CudaStream stream, long workspaceBytes) {
        if (workspaceBytes < 0) throw new IllegalArgumentException("cuBLAS workspace of " + workspaceBytes + " bytes");
        this.handle = Cublas.create();
        long ws = 0;
        try {
            Cublas.setStream(handle, stream.handle()); // resets the workspace to the default pool: set ours after it
            if (workspaceBytes > 0) {
                ws = Cuda.memAlloc(workspaceBytes); // cuMemAlloc aligns to at least 256 bytes, as cuBLAS requires
                Cublas.setWorkspace(handle, ws, workspaceBytes);
            }
        } catch (RuntimeException e) {
            try {
                Cublas.destroy(handle);
            } catch (RuntimeException d) {
                e.addSuppressed(d);
            }
            if (ws != 0) Cuda.memFree(ws);
            arena.close();
            throw e;
        }
        workspace = ws;
    }

    /** cuBLAS's recommended workspace for a GPU of compute capability {@code major * 10 + minor}: 32 MiB from Hopper (sm_90) on, else 4 MiB. */
    public static long recommendedWorkspaceBytes(int computeCapability) {
        return (computeCapability >= 90 ? 32L : 4L) << 20;
    }

    public MemorySegment handle() { return handle; }

    /** Column-major strided-batched SGEMM, see {@link Cublas#sgemmStridedBatched}. */
    public void sgemmStridedBatched(int transA, int transB, int m, int n, int k, float alpha,
                                    long a, int lda, long strideA, long b, int ldb, long strideB,
                                    float beta, long c, int ldc, long strideC, int batch) {
        scalars.setAtIndex(JAVA_FLOAT, 0, alpha);
        scalars.setAtIndex(JAVA_FLOAT, 1, beta);
        if (batch == 1) {
            Cublas.sgemm(handle, transA, transB, m, n, k, scalars, a, lda, b, ldb, c, ldc);
        } else {
            Cublas.sgemmStridedBatched(handle, transA, transB, m, n, k, scalars, a, lda, strideA, b, ldb, strideB,
                    c, ldc, strideC, batch);
        }
    }

    @Override public void close() {
        if (closed) return;
        closed = true;
        try {
            Cublas.destroy(handle);
        } finally {
            try {
                if (workspace != 0) Cuda.memFree(workspace); // the caller has waited for the work that used it
            } finally {
                arena.close();
            }
        }
    }
}
