package dev.shears.nativebind;

import java.lang.foreign.MemorySegment;

/** A CUDA event, for ordering streams and timing device work. */
public final class CudaEvent implements AutoCloseable {
    private final MemorySegment handle;
    private boolean closed;

    private CudaEvent(MemorySegment handle) { this.handle = handle; }

    public static CudaEvent create() { return new CudaEvent(Cuda.eventCreate(Cuda.CU_EVENT_DEFAULT)); }

    public MemorySegment handle() { return handle; }

    public void record(CudaStream stream) { Cuda.eventRecord(handle, stream.handle()); }

    public void synchronize() { Cuda.eventSynchronize(handle); }

    /** Milliseconds from {@code start} to this event; both must have been recorded and completed. */
    public float millisSince(CudaEvent start) { return Cuda.eventElapsedMillis(start.handle, handle); }

    @Override public void close() {
        if (closed) return;
        closed = true;
        Cuda.eventDestroy(handle);
    }
}
