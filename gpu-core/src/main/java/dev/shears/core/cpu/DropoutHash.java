package dev.shears.core.cpu;

/**
 * The counter-based generator behind {@code Backend.dropout}: whether element {@code i} is kept
 * depends only on (seed, i, rate), so every backend (and every thread order) draws the same mask.
 *
 * <p>The formula, to be reproduced bit-exactly by other backends (all arithmetic on unsigned
 * 64-bit integers, wrapping):
 * <pre>
 *   z = seed + (i + 1) * 0x9E3779B97F4A7C15          // Weyl sequence step of SplitMix64
 *   z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9        // SplitMix64 finalizer (Steele et al. 2014)
 *   z = (z ^ (z >>> 27)) * 0x94D049BB133111EB
 *   z =  z ^ (z >>> 31)
 *   r = (uint32) (z >>> 40)                          // top 24 bits, uniform in [0, 2^24)
 *   t = (uint32) (rate * 16777216.0f)                // float multiply (exact: a power of two), truncated
 *   keep = r >= t
 *   y = keep ? x * (1.0f / (1.0f - rate)) : 0        // the scale is computed once, in float
 * </pre>
 * So P(keep) = 1 - t / 2^24, within 2^-24 of 1 - rate.
 */
public final class DropoutHash {
    private DropoutHash() {}

    /** The SplitMix64 Weyl increment (the golden ratio in 64-bit fixed point). */
    public static final long GAMMA = 0x9E3779B97F4A7C15L;

    /** The 64-bit hash of (seed, index) described in the class comment. */
    public static long mix(long seed, long index) {
        long z = seed + (index + 1) * GAMMA;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** The 24-bit drop threshold for a rate in [0, 1). */
    public static int threshold(float rate) {
        if (!(rate >= 0f && rate < 1f)) throw new IllegalArgumentException("dropout rate " + rate + " outside [0, 1)");
        return (int) (rate * 16777216.0f);
    }

    /** Whether element {@code index} is kept, given {@code threshold(rate)}. */
    public static boolean keep(long seed, long index, int threshold) {
        return (int) (mix(seed, index) >>> 40) >= threshold;
    }

    /** The factor kept elements are multiplied by. */
    public static float scale(float rate) {
        return 1.0f / (1.0f - rate);
    }
}
