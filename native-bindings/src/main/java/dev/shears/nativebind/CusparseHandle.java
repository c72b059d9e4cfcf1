package dev.shears.nativebind;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/** A cuSPARSE handle bound to one stream, with a reusable host {alpha, beta} pair. Not thread-safe. */
public final class CusparseHandle implements AutoCloseable {
    private final MemorySegment handle;
    private final Arena arena = Arena.ofShared();
    /** {alpha, beta} host floats */
    private final MemorySegment scalars = arena.allocate(JAVA_FLOAT, 2);
    private boolean closed;

    public CusparseHandle(CudaStream stream) {
        this.handle = Cusparse.create();
        try {
            Cusparse.setStream(handle, stream.handle());
        } catch (RuntimeException e) {
            Cusparse.destroy(handle);
            arena.close();
            throw e;
        }
    }

    public MemorySegment handle() { return handle; }

    /** Sets and returns the scalar pair for the next SpMM/SpMV call. */
    public MemorySegment scalars(float alpha, float beta) {
        scalars.setAtIndex(JAVA_FLOAT, 0, alpha);
        scalars.setAtIndex(JAVA_FLOAT, 1, beta);
        return scalars;
    }

    @Override public void close() {
        if (closed) return;
        closed = true;
        try {
            Cusparse.destroy(handle);
        } finally {
            arena.close();
        }
    }
}
