package dev.shears.nativebind;

import java.lang.foreign.MemorySegment;

/** A CUDA stream (non-blocking with respect to the legacy default stream). */
public final class CudaStream implements AutoCloseable {
    private final MemorySegment handle;
    private boolean closed;

    private CudaStream(MemorySegment handle) { this.handle = handle; }

    public static CudaStream create() { return new CudaStream(Cuda.streamCreate(Cuda.CU_STREAM_NON_BLOCKING)); }

    public MemorySegment handle() { return handle; }

    public void synchronize() { Cuda.streamSynchronize(handle); }

    /** Makes later work on this stream wait for {@code event}. */
    public void waitFor(CudaEvent event) { Cuda.streamWaitEvent(handle, event.handle()); }

    @Override public void close() {
        if (closed) return;
        closed = true;
        Cuda.streamDestroy(handle);
    }
}
