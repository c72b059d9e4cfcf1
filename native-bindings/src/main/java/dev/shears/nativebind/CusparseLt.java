package dev.shears.nativebind;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * cuSPARSELt ({@code libcusparseLt.so.0}), minimal for now: library handle init/destroy and
 * version, the groundwork for 2:4 structured-sparse GEMM. Its handle is an opaque struct the
 * caller allocates (1 KiB in 0.6, larger in later releases), so {@link #HANDLE_BYTES} leaves
 * ample room. Statuses are cusparseStatus_t values, described by cusparseLtGetErrorName/String.
 */
public final class CusparseLt {
    private CusparseLt() {}

    /** Bytes reserved for a cusparseLtHandle_t (larger than any release's struct so far). */
    public static final long HANDLE_BYTES = 16384;

    private static final class H {
        static final LoadedLibrary LIB = LoadedLibrary.loadOrFailure(CudaLibrary.CUSPARSELT);
        static final MethodHandle cusparseLtGetErrorName = LIB.downcall(FunctionDescriptor.of(ADDRESS, JAVA_INT), "cusparseLtGetErrorName");
        static final MethodHandle cusparseLtGetErrorString = LIB.downcall(FunctionDescriptor.of(ADDRESS, JAVA_INT), "cusparseLtGetErrorString");
        static final MethodHandle cusparseLtInit = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cusparseLtInit");
        static final MethodHandle cusparseLtDestroy = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cusparseLtDestroy");
        static final MethodHandle cusparseLtGetVersion = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), "cusparseLtGetVersion");
    }

    static final StatusDescriber DESCRIBER = new StatusDescriber() {
        @Override public String name(int code) { return describe(H.cusparseLtGetErrorName, code); }
        @Override public String description(int code) { return describe(H.cusparseLtGetErrorString, code); }
    };

    private static String describe(MethodHandle fn, int code) {
        try {
            return Native.cString((MemorySegment) fn.invokeExact(code));
        } catch (Throwable t) {
            return null; // older releases lack the functions: the cuSPARSE names are used instead
        }
    }

    public static void check(int rc, String function) {
        if (rc != 0) throw StatusDescriber.toException(CudaLibrary.CUSPARSELT, DESCRIBER, function, rc, null);
    }

    public static LoadedLibrary library() { return H.LIB; }

    /** Initialises a handle in {@code handle} (at least {@link #HANDLE_BYTES}, 16-byte aligned). */
    public static void init(MemorySegment handle) {
        try { check((int) H.cusparseLtInit.invokeExact(handle), "cusparseLtInit"); } catch (Throwable t) { throw Native.rethrow(t); }
    }

    public static void destroy(MemorySegment handle) {
        try { check((int) H.cusparseLtDestroy.invokeExact(handle), "cusparseLtDestroy"); } catch (Throwable t) { throw Native.rethrow(t); }
    }

    /** The library version as major*1000 + minor*100 + patch. */
    public static int version(MemorySegment handle) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_INT);
            check((int) H.cusparseLtGetVersion.invokeExact(handle, out), "cusparseLtGetVersion");
            return out.get(JAVA_INT, 0);
        } catch (Throwable t) { throw Native.rethrow(t); }
    }
}
