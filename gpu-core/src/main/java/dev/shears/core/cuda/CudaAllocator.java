package dev.shears.core.cuda;

import dev.shears.kernels.DeviceMemory;
import dev.shears.nativebind.CudaException;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Iterator;
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
 *
 * <p>CUDA-graph capture ({@link #beginCapture}): a captured graph writes, at every replay, the
 * addresses it was captured with, so every block handed out or freed while capturing is
 * <em>reserved</em> for the graph's {@link GraphPool}: freed, it goes to the pool's own free list,
 * not the shared cache, and only the capture may take it back; after the capture its frees still
 * go to the pool. {@link #releasePool} (when the graph is destroyed) returns the pool's free
 * blocks to the shared cache. A capture may not call cuMemAlloc (CUDA forbids it), so an
 * allocation the cache cannot serve fails with {@link GraphCaptureAllocationException}: run the
 * step once uncaptured first, so its buffers exist and later requests hit the cache.
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
    private boolean closed;
    /** the pool of the graph being captured, or null */
    private GraphPool capturing;
    /** block -> the graph pool it is reserved for (live blocks, and free ones in that pool's list) */
    private final Map<Long, GraphPool> reserved = new HashMap<>();
    /** bytes of free blocks held in graph pools */
    private long bytesReservedFree;

    /** The blocks one captured CUDA graph may touch; see the class comment. */
    public static final class GraphPool {
        /** size class -> free blocks reserved for this graph */
        private final TreeMap<Long, ArrayDeque<Long>> free = new TreeMap<>();
        private boolean released;
        private GraphPool() {}
    }

    /** An allocation during a CUDA-graph capture that the cache could not serve (a capture may not call cuMemAlloc). */
    public static final class GraphCaptureAllocationException extends IllegalStateException {
        GraphCaptureAllocationException(String message) { super(message); }
    }

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
        if (capturing != null) return allocateCapturing(bytes, size);
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

    /** A block for the capture: from its pool's free list, else from the shared cache; reserved for the pool. */
    private long allocateCapturing(long bytes, long size) {
        long ptr;
        ArrayDeque<Long> own = capturing.free.get(size);
        ArrayDeque<Long> shared = cache.get(size);
        if (own != null && !own.isEmpty()) {
            ptr = own.pop();
            bytesReservedFree -= size;
        } else if (shared != null && !shared.isEmpty()) {
            ptr = shared.pop();
            bytesCached -= size;
        } else {
            throw new GraphCaptureAllocationException("allocation of " + bytes + " bytes (" + mib(size) + " as allocated) during a "
                    + "CUDA graph capture found no cached block, and a capture may not call cuMemAlloc: run the captured work "
                    + "once uncaptured first, so that its buffers exist");
        }
        reserved.put(ptr, capturing);
        live.put(ptr, size);
        bytesInUse += size;
        peakBytesInUse = Math.max(peakBytesInUse, bytesInUse);
        return ptr;
    }

    /** Starts reserving blocks for a graph being captured; {@link #endCapture} stops. One capture at a time. */
    public synchronized GraphPool beginCapture() {
        if (closed) throw new IllegalStateException("allocator is closed");
        if (capturing != null) throw new IllegalStateException("a CUDA graph capture is already in progress on this allocator");
        capturing = new GraphPool();
        return capturing;
    }

    /** Ends the capture begun by {@link #beginCapture}; the pool keeps its blocks until {@link #releasePool}. */
    public synchronized void endCapture(GraphPool pool) {
        if (capturing != pool) throw new IllegalStateException("endCapture of a pool that is not capturing");
        capturing = null;
    }

    /**
     * Returns a graph pool's free blocks to the shared cache, once its graph is destroyed (work
     * already queued that uses them is ordered before later work by the one stream). Its blocks
     * still live are freed to the shared cache when their tensors close.
     */
    public synchronized void releasePool(GraphPool pool) {
        if (pool.released) return;
        if (capturing == pool) capturing = null;
        pool.released = true;
        for (Iterator<Map.Entry<Long, GraphPool>> it = reserved.entrySet().iterator(); it.hasNext(); ) {
            if (it.next().getValue() == pool) it.remove();
        }
        for (var e : pool.free.entrySet()) {
            for (long p : e.getValue()) {
                bytesReservedFree -= e.getKey();
                if (closed) {
                    device.free(p);
                } else {
                    cache.computeIfAbsent(e.getKey(), s -> new ArrayDeque<>()).push(p);
                    bytesCached += e.getKey();
                }
            }
        }
        pool.free.clear();
    }

    /** Bytes of free blocks held back for captured graphs (not reusable until their graphs close). */
    public synchronized long bytesReservedForGraphs() { return bytesReservedFree; }

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
        bytesInUse -= size;
        GraphPool pool = capturing != null ? capturing : reserved.get(pointer);
        if (pool != null && !closed) {
            // a captured graph may write this block at its next replay: only that graph may reuse it
            reserved.put(pointer, pool);
            pool.free.computeIfAbsent(size, s -> new ArrayDeque<>()).push(pointer);
            bytesReservedFree += size;
            return;
        }
        reserved.remove(pointer);
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

    /** Frees the free blocks of every graph pool to the device (closing: their graphs are gone with the context). */
    private void releaseGraphPools() {
        if (bytesReservedFree == 0) {
            reserved.clear();
            return;
        }
        device.synchronize();
        java.util.Set<GraphPool> pools = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        pools.addAll(reserved.values());
        for (GraphPool p : pools) {
            for (var e : p.free.values()) for (long ptr : e) device.free(ptr);
            p.free.clear();
            p.released = true;
        }
        reserved.clear();
        bytesReservedFree = 0;
    }

    /** Bytes held by live blocks (by size class). */
    public long bytesInUse() { return bytesInUse; }

    /** The most bytes ever held by live blocks at once. */
    public long peakBytesInUse() { return peakBytesInUse; }

    /** Bytes held in the cache, ready for reuse. */
    public long bytesCached() { return bytesCached; }

    /** Live blocks. */
    public int liveBlocks() { return live.size(); }

    /** Calls to the device allocator so far (cache misses). */
    public long deviceAllocations() { return deviceAllocations; }

    /**
     * Releases the cache; then, if blocks are still live, throws naming their count and bytes (the
     * blocks stay allocated: closing the context reclaims them).
     */
    @Override public synchronized void close() {
        if (closed) return;
        releaseCache();
        releaseGraphPools();
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
        releaseGraphPools();
        for (long p : live.keySet()) device.free(p);
        live.clear();
        bytesInUse = 0;
        closed = true;
    }
}
