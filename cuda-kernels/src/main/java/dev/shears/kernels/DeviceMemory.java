package dev.shears.kernels;

/**
 * Where kernel launchers get temporary device memory (histograms, tie counts): the backend's
 * caching allocator, so scratch buffers cost no cudaMalloc after the first step.
 */
public interface DeviceMemory {
    /** A device pointer to at least {@code bytes} bytes, 256-byte aligned. */
    long allocate(long bytes);

    /** Returns memory from {@link #allocate}. */
    void free(long pointer);
}
