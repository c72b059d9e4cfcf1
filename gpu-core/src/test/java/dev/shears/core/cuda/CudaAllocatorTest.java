package dev.shears.core.cuda;

import dev.shears.nativebind.CudaException;
import dev.shears.nativebind.CudaLibrary;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/** The caching allocator against a fake device with a fixed capacity (no GPU needed). */
class CudaAllocatorTest {

    /** A device of {@code capacity} bytes handing out increasing fake addresses. */
    static final class FakeDevice implements RawDeviceMemory {
        final long capacity;
        long used, next = 0x7000_0000_0000L;
        final Set<Long> live = new HashSet<>();
        final java.util.Map<Long, Long> sizes = new java.util.HashMap<>();
        int mallocs, frees, syncs;

        FakeDevice(long capacity) { this.capacity = capacity; }

        @Override public long malloc(long bytes) {
            if (used + bytes > capacity) {
                throw new CudaException(CudaLibrary.DRIVER, "cuMemAlloc_v2", 2, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory");
            }
            mallocs++;
            long p = next;
            next += bytes;
            used += bytes;
            live.add(p);
            sizes.put(p, bytes);
            return p;
        }

        @Override public void free(long pointer) {
            assertTrue(live.remove(pointer), "device free of an unknown pointer");
            used -= sizes.remove(pointer);
            frees++;
        }

        @Override public long[] info() { return new long[] {capacity - used, capacity}; }

        @Override public void synchronize() { syncs++; }
    }

    @Test
    void sizeClassesRoundUpAndNeverReturnZero() {
        assertEquals(512, CudaAllocator.sizeClass(0));
        assertEquals(512, CudaAllocator.sizeClass(1));
        assertEquals(1024, CudaAllocator.sizeClass(513));
        assertEquals(1L << 20, CudaAllocator.sizeClass(1L << 20));
        assertEquals(2L << 20, CudaAllocator.sizeClass((1L << 20) + 1));
        assertEquals(4L << 20, CudaAllocator.sizeClass((2L << 20) + 1));
        assertThrows(IllegalArgumentException.class, () -> CudaAllocator.sizeClass(-1));
    }

    @Test
    void freedBlocksAreReusedWithoutAskingTheDevice() {
        FakeDevice dev = new FakeDevice(1L << 30);
        CudaAllocator a = new CudaAllocator(dev);
        long p = a.allocate(1000);
        a.free(p);
        assertEquals(1024, a.bytesCached());
        long q = a.allocate(900); // same 1024-byte class
        assertEquals(p, q);
        assertEquals(1, dev.mallocs);
        assertEquals(0, a.bytesCached());
        long r = a.allocate(5000); // another class: a new device block
        assertNotEquals(q, r);
        assertEquals(2, dev.mallocs);
        a.free(q);
        a.free(r);
        a.close();
        assertEquals(2, dev.frees, "close returns the cache to the device");
        assertTrue(dev.live.isEmpty());
    }

    @Test
    void accountsBytesInUseAndPeak() {
        CudaAllocator a = new CudaAllocator(new FakeDevice(1L << 30));
        long p = a.allocate(512), q = a.allocate(3L << 20);
        assertEquals(512 + (4L << 20), a.bytesInUse());
        assertEquals(2, a.liveBlocks());
        a.free(q);
        assertEquals(512, a.bytesInUse());
        assertEquals(512 + (4L << 20), a.peakBytesInUse());
        a.free(p);
        assertEquals(0, a.bytesInUse());
        a.close();
    }

    @Test
    void refusesToCloseWithBlocksOutstandingNamingCountAndBytes() {
        CudaAllocator a = new CudaAllocator(new FakeDevice(1L << 30));
        a.allocate(100);
        a.allocate(2000);
        IllegalStateException e = assertThrows(IllegalStateException.class, a::close);
        assertTrue(e.getMessage().contains("2 block(s)"), e.getMessage());
        assertTrue(e.getMessage().contains("2560 bytes"), e.getMessage());
    }

    @Test
    void doubleFreeAndForeignPointersFailClearly() {
        CudaAllocator a = new CudaAllocator(new FakeDevice(1L << 30));
        long p = a.allocate(10);
        a.free(p);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> a.free(p));
        assertTrue(e.getMessage().contains("0x" + Long.toHexString(p)), e.getMessage());
        a.close();
    }

    @Test
    void outOfMemoryReleasesTheCacheRetriesThenNamesSizeAndUse() {
        FakeDevice dev = new FakeDevice(10L << 20);
        CudaAllocator a = new CudaAllocator(dev);
        List<Long> held = new ArrayList<>();
        held.add(a.allocate(4L << 20));
        long cached = a.allocate(4L << 20);
        a.free(cached); // 4 MiB cached, 4 MiB live, 2 MiB left on the device
        long big = a.allocate(6L << 20); // fits only once the cache is released
        assertEquals(0, a.bytesCached());
        assertTrue(dev.syncs > 0, "the cache is released only after queued work");
        held.add(big);
        CudaOutOfMemoryException e = assertThrows(CudaOutOfMemoryException.class, () -> a.allocate(3_000_000));
        assertEquals(3_000_000, e.requested());
        String m = e.getMessage();
        assertTrue(m.contains("asked for 3000000 bytes"), m);
        assertTrue(m.contains("in use " + (10L << 20) + " bytes"), m);
        assertTrue(m.contains("in 2 blocks"), m);
        assertTrue(m.contains("0.0 MiB free of 10.0 MiB"), m);
        for (long p : held) a.free(p);
        a.close();
    }

    @Test
    void blocksTouchedByACaptureStayReservedForItsGraphUntilThePoolIsReleased() {
        FakeDevice dev = new FakeDevice(1L << 30);
        CudaAllocator a = new CudaAllocator(dev);
        long before = a.allocate(4096);   // a buffer of the warm-up step, freed during the capture
        long cached = a.allocate(8192);
        a.free(cached);                   // in the shared cache: the capture may take it

        CudaAllocator.GraphPool pool = a.beginCapture();
        long inCapture = a.allocate(8192);
        assertEquals(cached, inCapture, "a capture is served from the shared cache");
        a.free(before);                   // freed while capturing: reserved, not back in the shared cache
        long again = a.allocate(4096);
        assertEquals(before, again, "the capture may reuse what it freed");
        a.free(again);
        var miss = assertThrows(CudaAllocator.GraphCaptureAllocationException.class, () -> a.allocate(1 << 20));
        assertTrue(miss.getMessage().contains("1048576 bytes") && miss.getMessage().contains("uncaptured first"), miss.getMessage());
        assertEquals(2, dev.mallocs, "a capture never calls cuMemAlloc");
        a.endCapture(pool);

        // after the capture, eager work must not get the graph's blocks
        a.free(inCapture);
        assertEquals(4096 + 8192, a.bytesReservedForGraphs());
        assertEquals(0, a.bytesCached());
        long eager = a.allocate(4096);
        assertNotEquals(before, eager, "a block the graph writes at every replay was handed to eager work");
        long eager2 = a.allocate(8192);
        assertNotEquals(cached, eager2);

        a.releasePool(pool);
        assertEquals(0, a.bytesReservedForGraphs());
        assertEquals(4096 + 8192, a.bytesCached(), "the released pool's blocks are back in the shared cache");
        assertEquals(before, a.allocate(4096));
        a.free(eager);
        a.free(eager2);
        a.closeReleasingLive();
        assertTrue(dev.live.isEmpty(), "every device block freed at close");
    }

    @Test
    void closingWithAGraphPoolStillHeldFreesItsBlocks() {
        FakeDevice dev = new FakeDevice(1L << 30);
        CudaAllocator a = new CudaAllocator(dev);
        a.free(a.allocate(4096));
        CudaAllocator.GraphPool pool = a.beginCapture();
        a.free(a.allocate(4096));
        a.endCapture(pool);
        assertEquals(4096, a.bytesReservedForGraphs());
        a.close();
        assertTrue(dev.live.isEmpty(), "the pool's free block went back to the device");
        assertThrows(IllegalStateException.class, () -> { a.beginCapture(); });
    }
}
