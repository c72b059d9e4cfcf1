package dev.shears.nativebind;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** An initialised cuSPARSELt library handle in native memory this object owns. */
public final class CusparseLtHandle implements AutoCloseable {
    private final Arena arena = Arena.ofShared();
    /** the opaque cusparseLtHandle_t */
    private final MemorySegment handle = arena.allocate(CusparseLt.HANDLE_BYTES, 16);
    private boolean closed;

    public CusparseLtHandle() {
        try {
            CusparseLt.init(handle);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    public MemorySegment handle() { return handle; }

    public int version() { return CusparseLt.version(handle); }

    @Override public void close() {
        if (closed) return;
        closed = true;
        try {
            CusparseLt.destroy(handle);
        } finally {
            arena.close();
        }
    }
}
