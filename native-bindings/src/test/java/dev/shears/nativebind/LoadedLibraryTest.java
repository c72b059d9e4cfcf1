package dev.shears.nativebind;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.*;

/** The binding mechanics, exercised on the C library (present everywhere) instead of CUDA. */
class LoadedLibraryTest {
    private final LoadedLibrary libc = new LoadedLibrary(CudaLibrary.DRIVER, "libc", Linker.nativeLinker().defaultLookup());

    @Test
    void bindsTheFirstExportedNameSoVersionedSymbolsFallBack() throws Throwable {
        MethodHandle strlen = libc.downcall(FunctionDescriptor.of(JAVA_LONG, ADDRESS), "strlen_v2", "strlen");
        try (Arena a = Arena.ofConfined()) {
            assertEquals(5L, (long) strlen.invokeExact(a.allocateFrom("hello")));
        }
    }

    @Test
    void aMissingSymbolFailsWhenCalledAndNamesIt() {
        MethodHandle missing = libc.downcall(FunctionDescriptor.of(JAVA_LONG, ADDRESS), "cuNoSuchFunction_v2", "cuNoSuchFunction");
        NativeLibraryException e = assertThrows(NativeLibraryException.class,
                () -> { long ignored = (long) missing.invokeExact(MemorySegment.NULL); });
        assertTrue(e.getMessage().contains("cuNoSuchFunction_v2 or cuNoSuchFunction"), e.getMessage());
    }

    @Test
    void everyCallOnALibraryThatDidNotLoadThrowsItsLoadFailure() {
        LoadedLibrary lib = LoadedLibrary.loadOrFailure(CudaLibrary.CUSPARSELT);
        if (lib.isLoaded()) return;
        MethodHandle h = lib.downcall(FunctionDescriptor.of(JAVA_LONG, ADDRESS), "cusparseLtInit");
        NativeLibraryException e = assertThrows(NativeLibraryException.class,
                () -> { long ignored = (long) h.invokeExact(MemorySegment.NULL); });
        assertEquals(lib.failure().orElseThrow().tried(), e.tried());
    }

    @Test
    void kernelArgumentsLandInTheirSlotsAndThePointerArrayPointsAtThem() {
        try (KernelArgs args = new KernelArgs(4)) {
            args.ptr(0x7f00_0000_1000L).i32(-3).f32(1.5f).i64(1L << 40);
            assertEquals(4, args.count());
            assertEquals(0x7f00_0000_1000L, args.slotBits(0));
            assertEquals(-3, (int) args.slotBits(1));
            assertEquals(1.5f, Float.intBitsToFloat((int) args.slotBits(2)));
            MemorySegment p2 = args.pointers().getAtIndex(ADDRESS, 2).reinterpret(4);
            assertEquals(1.5f, p2.get(java.lang.foreign.ValueLayout.JAVA_FLOAT, 0));
            assertThrows(IllegalStateException.class, () -> args.i32(1));
            args.reset().i32(7).ints(1, 2, 3);
            assertEquals(7, (int) args.slotBits(0));
            MemorySegment s1 = args.pointers().getAtIndex(ADDRESS, 1).reinterpret(12);
            assertEquals(3, s1.get(java.lang.foreign.ValueLayout.JAVA_INT, 8));
            assertThrows(IndexOutOfBoundsException.class, () -> args.slotBits(2));
            assertThrows(IllegalArgumentException.class, () -> args.reset().ints(new int[17]));
        }
    }
}
