package dev.shears.core.cuda.sparse;

import dev.shears.core.cuda.CudaBackend;
import dev.shears.core.cuda.CudaTensor;
import dev.shears.core.tensor.DType;
import dev.shears.core.tensor.Shape;
import dev.shears.nativebind.Cusparse;
import dev.shears.nativebind.CusparseHandle;
import dev.shears.nativebind.CusparseLt;
import dev.shears.nativebind.CusparseLtHandle;
import dev.shears.nativebind.DenseMatrixDescriptor;
import dev.shears.nativebind.DenseVectorDescriptor;
import dev.shears.nativebind.SparseMatrixDescriptor;

import java.lang.foreign.MemorySegment;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * cuSPARSE for one {@link CudaBackend}: a handle bound to the backend's stream (so SpMM and SpMV
 * queue in order with every other op) and one work buffer, grown to the largest size a
 * {@code *_bufferSize} query has asked for and kept. Every product is C = A B with alpha 1 and
 * beta 0 (C is not read). Single-threaded, like the backend.
 *
 * <p>The dense descriptors and the buffer size of a product are kept for the next call with the
 * same matrix, arrays, sizes and algorithm ({@link #product}): a layer runs the same product on
 * the same buffers batch after batch, and creating descriptors and querying the buffer each time
 * costs host microseconds that show up in a batch-1 product's time.
 */
public final class CusparseRuntime implements AutoCloseable {
    private final CudaBackend backend;
    private final CusparseHandle handle;
    /** the work buffer, [bytes] (null until a query asks for bytes) */
    private CudaTensor work;
    /** cuSPARSELt's handle, opened by the first 2:4 product (null until then) */
    private CusparseLtHandle lt;

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

    /** Why cuSPARSELt (the 2:4 products of reduced-precision inference) cannot be used here, or null. */
    public static String ltUnavailabilityCause() {
        return CusparseLt.library().isLoaded() ? null : CusparseLt.library().failure().orElseThrow().getMessage();
    }

    /**
     * cuSPARSELt's handle, opened on first use (only 2:4 candidates need it) and closed with this
     * runtime; fails with the cause when the library did not load or is older than 0.6.
     */
    public CusparseLtHandle lt() {
        if (lt == null) {
            String cause = ltUnavailabilityCause();
            if (cause != null) throw new IllegalStateException("cuSPARSELt unavailable: " + cause);
            CusparseLtHandle h = new CusparseLtHandle();
            try {
                CusparseLt.requireModernEnums(h.version());
            } catch (RuntimeException e) {
                h.close();
                throw e;
            }
            lt = h;
        }
        return lt;
    }

    /** What a product's operands are: B and C as matrices (column- or row-major) or as vectors (SpMV). */
    public enum Operands { COLUMN_MAJOR, ROW_MAJOR, VECTOR }

    /** A product's identity: the sparse matrix, the device arrays, their shape, the algorithm. */
    private record Key(MemorySegment a, long x, long y, long bRows, long bCols, long cRows, long cCols, Operands shape, int alg) {}

    /** A product's prepared operands. */
    private record Prepared(AutoCloseable b, AutoCloseable c, long bytes) {}

    private static final int PREPARED_KEPT = 128;
    /** recently run products, least recently used first */
    private final LinkedHashMap<Key, Prepared> prepared = new LinkedHashMap<>(16, 0.75f, true);

    /**
     * C = A B: SpMM ({@code alg} a CUSPARSE_SPMM_* value) on B [bRows, bCols] and C [cRows, cCols]
     * at device addresses x and y in the given order, or SpMV ({@link Operands#VECTOR}, {@code alg} a
     * CUSPARSE_SPMV_* value) on x [bRows] and y [cRows].
     */
    public void product(SparseMatrixDescriptor a, long x, long y, long bRows, long bCols, long cRows, long cCols, Operands shape, int alg) {
        Key key = new Key(a.handle(), x, y, bRows, bCols, cRows, cCols, shape, alg);
        Prepared p = prepared.get(key);
        if (p == null) {
            p = prepare(a, key);
            prepared.put(key, p);
            if (prepared.size() > PREPARED_KEPT) {
                Iterator<Map.Entry<Key, Prepared>> it = prepared.entrySet().iterator();
                close(it.next().getValue());
                it.remove();
            }
        }
        int op = Cusparse.CUSPARSE_OPERATION_NON_TRANSPOSE;
        MemorySegment s = handle.scalars(1f, 0f);
        long w = work(p.bytes());
        if (shape == Operands.VECTOR)
            Cusparse.spmv(handle.handle(), op, s, a.handle(), ((DenseVectorDescriptor) p.b()).handle(), ((DenseVectorDescriptor) p.c()).handle(),
                    Cusparse.CUDA_R_32F, alg, w);
        else
            Cusparse.spmm(handle.handle(), op, op, s, a.handle(), ((DenseMatrixDescriptor) p.b()).handle(), ((DenseMatrixDescriptor) p.c()).handle(),
                    Cusparse.CUDA_R_32F, alg, w);
    }

    private Prepared prepare(SparseMatrixDescriptor a, Key k) {
        int op = Cusparse.CUSPARSE_OPERATION_NON_TRANSPOSE;
        MemorySegment s = handle.scalars(1f, 0f);
        if (k.shape() == Operands.VECTOR) {
            DenseVectorDescriptor b = DenseVectorDescriptor.of(k.bRows(), k.x()), c = null;
            try {
                c = DenseVectorDescriptor.of(k.cRows(), k.y());
                long bytes = Cusparse.spmvBufferSize(handle.handle(), op, s, a.handle(), b.handle(), c.handle(), Cusparse.CUDA_R_32F, k.alg());
                return new Prepared(b, c, bytes);
            } catch (RuntimeException e) {
                b.close();
                if (c != null) c.close();
                throw e;
            }
        }
        boolean row = k.shape() == Operands.ROW_MAJOR;
        DenseMatrixDescriptor b = row ? DenseMatrixDescriptor.rowMajor(k.bRows(), k.bCols(), k.x()) : DenseMatrixDescriptor.columnMajor(k.bRows(), k.bCols(), k.x());
        DenseMatrixDescriptor c = null;
        try {
            c = row ? DenseMatrixDescriptor.rowMajor(k.cRows(), k.cCols(), k.y()) : DenseMatrixDescriptor.columnMajor(k.cRows(), k.cCols(), k.y());
            long bytes = Cusparse.spmmBufferSize(handle.handle(), op, op, s, a.handle(), b.handle(), c.handle(), Cusparse.CUDA_R_32F, k.alg());
            return new Prepared(b, c, bytes);
        } catch (RuntimeException e) {
            b.close();
            if (c != null) c.close();
            throw e;
        }
    }

    /** Drops the prepared products of {@code a} (call before destroying it: a new matrix may get its address). */
    public void forget(SparseMatrixDescriptor a) {
        Iterator<Map.Entry<Key, Prepared>> it = prepared.entrySet().iterator();
        while (it.hasNext()) {
            Map.Entry<Key, Prepared> e = it.next();
            if (e.getKey().a().equals(a.handle())) {
                close(e.getValue());
                it.remove();
            }
        }
    }

    private static void close(Prepared p) {
        try {
            p.b().close();
            p.c().close();
        } catch (Exception e) {
            throw new IllegalStateException("destroying cuSPARSE dense descriptors", e);
        }
    }

    /** C = A B (SpMM with algorithm {@code alg}, a CUSPARSE_SPMM_* value), descriptors given. */
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
            for (Prepared p : prepared.values()) close(p);
            prepared.clear();
            if (work != null) work.close();
            work = null;
            if (lt != null) lt.close();
            lt = null;
        } finally {
            handle.close();
        }
    }
}
