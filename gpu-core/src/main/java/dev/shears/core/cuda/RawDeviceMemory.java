package dev.shears.core.cuda;

import dev.shears.nativebind.Cuda;
import dev.shears.nativebind.CudaException;

/**
 * The device's own allocator (cuMemAlloc/cuMemFree), behind an interface so the caching
 * allocator can be tested with a fake device that has no GPU.
 */
public interface RawDeviceMemory {
    /** Allocates {@code bytes}; an out-of-memory failure is a {@link CudaException} with {@code isOutOfMemory()}. */
    long malloc(long bytes);

    void free(long pointer);

    /** {free, total} bytes on the device. */
    long[] info();

    /** Waits for all queued work, before memory is handed back to the device. */
    void synchronize();

    /** The real device: the current context's memory. */
    RawDeviceMemory CUDA = new RawDeviceMemory() {
        @Override public long malloc(long bytes) { return Cuda.memAlloc(bytes); }
        @Override public void free(long pointer) { Cuda.memFree(pointer); }
        @Override public long[] info() { return Cuda.memGetInfo(); }
        @Override public void synchronize() { Cuda.contextSynchronize(); }
    };
}
