package dev.shears.nativebind;

import java.lang.foreign.MemorySegment;

/** Page-locked host memory (cuMemHostAlloc), so host-device copies run asynchronously at full speed. */
public final class PinnedBuffer implements AutoCloseable {
    private final MemorySegment segment;
    private boolean closed;

    private PinnedBuffer(MemorySegment segment) { this.segment = segment; }

    public static PinnedBuffer allocate(long bytes) {
        return new PinnedBuffer(Cuda.memHostAlloc(Math.max(bytes, 1), Cuda.CU_MEMHOSTALLOC_PORTABLE));
    }

    /** The host memory, {@link #bytes()} long. */
    public MemorySegment segment() { return segment; }

    public long bytes() { return segment.byteSize(); }

    @Override public void close() {
        if (closed) return;
        closed = true;
        Cuda.memFreeHost(segment);
    }
}
