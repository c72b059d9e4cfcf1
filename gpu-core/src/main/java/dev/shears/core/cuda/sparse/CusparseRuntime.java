package dev.shears.core.cuda.sparse;

import dev.shears.core.cuda.CudaBackend;
import dev.shears.core.cuda.CudaTensor;
import dev.shears.core.tensor.DType;
import dev.shears.core.tensor.Shape;
import dev.shears.nativebind.Cusparse;
import dev.shears.nativebind.CusparseHandle;
import dev.shears.nativebind.DenseMatrixDescriptor;
import dev.shears.nativebind.DenseVectorDescriptor;
import dev.shears.nativebind.SparseMatrixDescriptor;

import java.lang.foreign.MemorySegment;

/**
 * cuSPARSE for one {@link CudaBackend}: a handle bound to the backend's stream (so SpMM and SpMV
 * queue in order with every other op) and one work buffer, grown to the largest size a
 * {@code *_bufferSize} query has asked for and kept. Every product is C = A B with alpha 1 and
 * beta 0 (C is not read). Single-threaded, like the backend.
 */
public final class CusparseRuntime implements AutoCloseable {
    private final CudaBackend backend;
    private final CusparseHandle handle;
    /** the work buffer, [bytes] (null until a query asks for bytes) */
    private CudaTensor work;

    public CusparseRuntime(CudaBackend backend) {
        String cause = unavailabilityCause();
        if (cause != null) throw new IllegalStateException("cuSPARSE unavailable: " + cause);
        this.backend = backend;
        this.handle = new CusparseHandle(backend.stream());
    }

    /** Why cuSPARSE cannot be used here (the library did not load), or null. */
    public static String unavailabilityCause() {
        return Cusparse.library().isLoaded() ? null : Cusparse.library().failure().orElseThrow().getMessage();
    }

    public CudaBackend backend() { return backend; }

    /** C = A B (SpMM with algorithm {@code alg}, a CUSPARSE_SPMM_* value). */
    public void spmm(SparseMatrixDescriptor a, DenseMatrixDescriptor b, DenseMatrixDescriptor c, int alg) {
        int op = Cusparse.CUSPARSE_OPERATION_NON_TRANSPOSE;
        MemorySegment s = handle.scalars(1f, 0f);
        long bytes = Cusparse.spmmBufferSize(handle.handle(), op, op, s, a.handle(), b.handle(), c.handle(), Cusparse.CUDA_R_32F, alg);
        Cusparse.spmm(handle.handle(), op, op, s, a.handle(), b.handle(), c.handle(), Cusparse.CUDA_R_32F, alg, work(bytes));
    }

    /** y = A x (SpMV with algorithm {@code alg}, a CUSPARSE_SPMV_* value). */
    public void spmv(SparseMatrixDescriptor a, DenseVectorDescriptor x, DenseVectorDescriptor y, int alg) {
        int op = Cusparse.CUSPARSE_OPERATION_NON_TRANSPOSE;
        MemorySegment s = handle.scalars(1f, 0f);
        long bytes = Cusparse.spmvBufferSize(handle.handle(), op, s, a.handle(), x.handle(), y.handle(), Cusparse.CUDA_R_32F, alg);
        Cusparse.spmv(handle.handle(), op, s, a.handle(), x.handle(), y.handle(), Cusparse.CUDA_R_32F, alg, work(bytes));
    }

    /**
     * A device buffer of at least {@code bytes} (at least 1: cuSPARSE rejects a null buffer even
     * when it asked for none). Growing it frees the old one only after queued work has run (the
     * allocator's blocks are reused in stream order).
     */
    private long work(long bytes) {
        long need = Math.max(256, bytes);
        if (work == null || work.bytes() < need) {
            if (work != null) work.close();
            work = (CudaTensor) backend.allocate(Shape.of(need), DType.UINT8);
        }
        return work.pointer();
    }

    @Override public void close() {
        try {
            if (work != null) work.close();
            work = null;
        } finally {
            handle.close();
        }
    }
}
