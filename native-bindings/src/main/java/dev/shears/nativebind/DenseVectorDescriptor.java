package dev.shears.nativebind;

import java.lang.foreign.MemorySegment;

/** A cuSPARSE dense-vector descriptor over a caller-owned device array. */
public final class DenseVectorDescriptor implements AutoCloseable {
    private final MemorySegment handle;
    private boolean closed;

    private DenseVectorDescriptor(MemorySegment handle) { this.handle = handle; }

    /** An FP32 vector of {@code size} elements. */
    public static DenseVectorDescriptor of(long size, long values) {
        return new DenseVectorDescriptor(Cusparse.createDnVec(size, values, Cusparse.CUDA_R_32F));
    }

    public MemorySegment handle() { return handle; }

    @Override public void close() {
        if (closed) return;
        closed = true;
        Cusparse.destroyDnVec(handle);
    }
}
