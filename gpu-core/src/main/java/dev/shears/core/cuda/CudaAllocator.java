package dev.shears.core.cuda;

import dev.shears.kernels.DeviceMemory;
import dev.shears.nativebind.CudaException;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * A caching device allocator. Sizes round up to a size class (512 B steps up to 1 MiB, 2 MiB steps
 * above); freed blocks wait in per-class lists and are reused by the next request of the same
 * class, so a training step that allocates the same shapes every time stops calling cuMemAlloc
 * after the first. All work runs on one stream, so a block freed by one op and handed to the next
 * is safe: the stream orders them.
 *
 * <p>Accounts bytes in use (by size class), their peak, and bytes cached. On out-of-memory it
 * releases the cache and retries once, then fails naming the size asked and what is in use.
 * {@link #close()} refuses while blocks are outstanding, naming their count and bytes, so a test
 * that leaks a tensor fails. Used from the backend's thread, plus frees from the tensor cleaner
 * (unreachable tensors), hence synchronized; uncontended locks cost nanoseconds.
 */
public final class CudaAllocator implements DeviceMemory, AutoCloseable {
    static final long SMALL_STEP = 512;
    static final long SMALL_LIMIT = 1L << 20;
    static final long LARGE_STEP = 2L << 20;

    private final RawDeviceMemory device;
    /** live pointer -> its size class */
    private final Map<Long, Long> live = new HashMap<>();
    /** size class -> cached free pointers */
    private final TreeMap<Long, ArrayDeque<Long>> cache = new TreeMap<>();
    private long bytesInUse;
    private long peakBytesInUse;
    private long bytesCached;
    private long deviceAllocations;
    private long reclaimedByCleaner;
    private boolean closed;

    public CudaAllocator(RawDeviceMemory device) { this.device = device; }

    /** The size class of a request (at least one step, so every block has a distinct address). */
    static long sizeClass(long bytes) {
        if (bytes < 0) throw new IllegalArgumentException("negative allocation of " + bytes + " bytes");
        long b = Math.max(bytes, 1);
        long step = b <= SMALL_LIMIT ? SMALL_STEP : LARGE_STEP;
        return Math.addExact(b, step - 1) / step * step;
    }

    @Override public synchronized long allocate(long bytes) {
        if (closed) throw new IllegalStateException("allocator is closed");
        long size = sizeClass(bytes);
        ArrayDeque<Long> free = cache.get(size);
        long ptr;
        if (free != null && !free.isEmpty()) {
            ptr = free.pop();
            bytesCached -= size;
        } else {
            ptr = mallocOrRetry(bytes, size);
            deviceAllocations++;
        }
        live.put(ptr, size);
        bytesInUse += size;
        peakBytesInUse = Math.max(peakBytesInUse, bytesInUse);
        return ptr;
    }

    private long mallocOrRetry(long asked, long size) {
        try {
            return device.malloc(size);
        } catch (CudaException first) {
            if (!first.isOutOfMemory()) throw first;
            long released = bytesCached;
            releaseCache();
            try {
                return device.malloc(size);
            } catch (CudaException second) {
                if (!second.isOutOfMemory()) throw second;
                String deviceState;
                try {
                    long[] info = device.info();
                    deviceState = "; the device reports " + mib(info[0]) + " free of " + mib(info[1]);
                } catch (RuntimeException e) {
                    deviceState = "";
                }
                throw new CudaOutOfMemoryException("CUDA out of memory: asked for " + asked + " bytes (" + mib(size)
                        + " as allocated); in use " + bytesInUse + " bytes (" + mib(bytesInUse) + ") in " + live.size()
                        + " blocks, peak " + mib(peakBytesInUse) + "; " + mib(released) + " of cached blocks were released "
                        + "and the allocation retried" + deviceState
                        + ". Use a smaller batch or model, or free tensors you no longer need", asked, second);
            }
        }
    }

    @Override public void free(long pointer) { free(pointer, false); }

    /**
     * Returns a block. From the cleaner thread ({@code fromCleaner}), a block freed after close is
     * left to the context's teardown, as that thread has no CUDA context.
     */
    public synchronized void free(long pointer, boolean fromCleaner) {
        Long size = live.remove(pointer);
        if (size == null) {
            if (closed) return; // the owner closed first and took the memory with it
            throw new IllegalStateException("free of device pointer 0x" + Long.toHexString(pointer)
                    + " that this allocator did not hand out, or freed twice");
        }
        if (fromCleaner) reclaimedByCleaner++;
        bytesInUse -= size;
        if (closed) {
            if (!fromCleaner) device.free(pointer);
            return;
        }
        cache.computeIfAbsent(size, s -> new ArrayDeque<>()).push(pointer);
        bytesCached += size;
    }

    /** Returns every cached block to the device (after the queued work that may use them). */
    public synchronized void releaseCache() {
        if (bytesCached == 0) return;
        device.synchronize();
        for (ArrayDeque<Long> list : cache.values()) {
            for (long p : list) device.free(p);
        }
        cache.clear();
        bytesCached = 0;
    }

    /** Bytes held by live blocks (by size class). */
    public long bytesInUse() { return bytesInUse; }

    /** The most bytes ever held by live blocks at once. */
    public long peakBytesInUse() { return peakBytesInUse; }

    /** Bytes held in the cache, ready for reuse. */
    public long bytesCached() { return bytesCached; }

    /** Live blocks. */
    public int liveBlocks() { return live.size(); }

    /** Blocks returned because their tensor became unreachable without being closed. */
    public synchronized long reclaimedByCleaner() { return reclaimedByCleaner; }

    /** Calls to the device allocator so far (cache misses). */
    public long deviceAllocations() { return deviceAllocations; }

    /**
     * Releases the cache; then, if blocks are still live, throws naming their count and bytes (the
     * blocks stay allocated: closing the context reclaims them).
     */
    @Override public synchronized void close() {
        if (closed) return;
        releaseCache();
        closed = true;
        if (!live.isEmpty()) {
            long largest = live.values().stream().mapToLong(Long::longValue).max().orElse(0);
            throw new IllegalStateException("CUDA allocator closed with " + live.size() + " block(s) still allocated, "
                    + bytesInUse + " bytes (largest " + largest + " bytes): close every tensor before closing the backend");
        }
    }

    static String mib(long bytes) { return String.format("%.1f MiB", bytes / 1048576.0); }

    /** Closes, freeing the blocks still live too (for a backend that owns every tensor's memory). */
    public synchronized void closeReleasingLive() {
        if (closed) return;
        releaseCache();
        for (long p : live.keySet()) device.free(p);
        live.clear();
        bytesInUse = 0;
        closed = true;
    }
}
