package dev.shears.kernels;

/**
 * How many blocks share one channel of a per-channel reduction over [outer, channels, inner]
 * (bias gradient, batch-norm statistics and backward sums, PReLU slope gradient). One block per
 * channel leaves most of a GPU idle when the channels are few (a 32-channel conv on a 132-SM
 * H100 uses 32 SMs); those launchers then split each channel over this many blocks, which write
 * double partial sums that a later launch adds in a fixed order (deterministic, no atomics).
 */
final class ChannelParts {
    private ChannelParts() {}

    /** Elements each thread should sum at least before a channel is split over more blocks. */
    static final int MIN_PER_THREAD = 8;

    /**
     * Blocks per channel for a per-channel sum of {@code count} elements: enough that all channels
     * together make {@code maxGrid / 8} blocks (4 per multiprocessor), but no more than keeps
     * {@link #MIN_PER_THREAD} elements per thread, and at most 65535 (grid y). 1 when the channels
     * alone fill the GPU or a channel is too small to share.
     */
    static int of(int channels, long count, int maxGrid) {
        long target = Math.max(1, maxGrid / 8);
        long byGpu = (target + channels - 1) / channels;
        long byWork = count / ((long) KernelRuntime.BLOCK * MIN_PER_THREAD);
        return (int) Math.max(1, Math.min(65535, Math.min(byGpu, byWork)));
    }
}
