package dev.shears.nativebind;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The driver cannot read the Java heap: an async copy given a heap segment is refused with a
 * message naming the call and the helper to use, before the driver is touched (so this runs
 * without a GPU). The helpers themselves run in CudaLibrariesIT and StructuredMatmulIT.
 */
class HostCopyTest {
    @Test void asyncCopiesRefuseJavaHeapSegmentsAndNameTheHelper() {
        MemorySegment heap = MemorySegment.ofArray(new float[4]);
        var up = assertThrows(IllegalArgumentException.class, () -> Cuda.memcpyHtoDAsync(1L << 20, heap, 16, MemorySegment.NULL));
        assertTrue(up.getMessage().contains("cuMemcpyHtoDAsync_v2") && up.getMessage().contains("Cuda.copyToDevice"), up.getMessage());
        var down = assertThrows(IllegalArgumentException.class, () -> Cuda.memcpyDtoHAsync(heap, 1L << 20, 16, MemorySegment.NULL));
        assertTrue(down.getMessage().contains("cuMemcpyDtoHAsync_v2") && down.getMessage().contains("Cuda.copyFromDevice"), down.getMessage());
    }
}
