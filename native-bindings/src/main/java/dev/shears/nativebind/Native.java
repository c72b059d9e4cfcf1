package dev.shears.nativebind;

import java.lang.foreign.MemorySegment;

/** Small helpers shared by the bindings. */
final class Native {
    private Native() {}

    /** Rethrows what a downcall threw: runtime exceptions and errors as they are. */
    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new IllegalStateException("unexpected checked exception from a native call", t);
    }

    /** Reads a NUL-terminated C string, or null for a NULL pointer. */
    static String cString(MemorySegment p) {
        if (p == null || p.equals(MemorySegment.NULL)) return null;
        return p.reinterpret(4096).getString(0);
    }
}
