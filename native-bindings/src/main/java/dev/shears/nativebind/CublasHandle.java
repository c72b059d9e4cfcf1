package dev.shears.nativebind;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * A cuBLAS handle bound to one stream, with its own host scalar pair so a GEMM allocates nothing.
 * Not thread-safe.
 */
public final class CublasHandle implements AutoCloseable {
    private final MemorySegment handle;
    private final Arena arena = Arena.ofShared();
    /** {alpha, beta} in host memory */
    private final MemorySegment scalars = Cublas.scalars(arena);
    private boolean closed;

    public CublasHandle(CudaStream stream) {
        this.handle = Cublas.create();
        try {
            Cublas.setStream(handle, stream.handle());
        } catch (RuntimeException e) {
            Cublas.destroy(handle);
            arena.close();
            throw e;
        }
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
            arena.close();
        }
    }
}
