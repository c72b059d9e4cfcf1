package dev.shears.kernels;

import java.util.Arrays;

/**
 * The host-side plan of a batched radix select (see magnitude_threshold.cu): validated inputs,
 * the digit passes, the tile table of the tiled histogram, and the layout of the one scratch
 * buffer. Pure arithmetic, so it is unit-tested without a GPU.
 *
 * @param sizes      elements per tensor
 * @param k          the 1-based rank per group: one per tensor (layer scope) or k[0] (global)
 * @param global     one threshold over all tensors
 * @param variant    which histogram kernel, which fixes the digit widths
 */
public record ThresholdPlan(long[] sizes, long[] k, boolean global, Variant variant) {

    /** Elements per block of the tiled histogram kernel (THRESHOLD_TILE in the .cu file). */
    public static final int TILE = 32768;
    /** Histogram bins reserved per tensor (THRESHOLD_MAX_BINS). */
    public static final int MAX_BINS = 2048;
    /**
     * Keys a tile may compact in pass 2 for pass 3 (THRESHOLD_COMPACT_CAP): a quarter of a tile, so
     * the compaction region costs one byte per element (a quarter of the weights' size).
     */
    public static final int COMPACT_CAP = TILE / 4;

    /** The histogram kernels: the naive reference with 8-bit digits, the tiled one with 11-bit digits. */
    public enum Variant {
        /** 4 passes of 8 bits over bits 31..0 (bit 31 of a key is always 0). */
        NAIVE(new int[][] {{24, 8}, {16, 8}, {8, 8}, {0, 8}}),
        /** 3 passes over bits 30..0: 11, 11 and 9 bits. */
        TILED(new int[][] {{20, 11}, {9, 11}, {0, 9}});

        private final int[][] passes;

        Variant(int[][] passes) { this.passes = passes; }

        /** {shift, bits} per pass, most significant digit first. */
        public int[][] passes() {
            int[][] out = new int[passes.length][];
            for (int i = 0; i < passes.length; i++) out[i] = passes[i].clone();
            return out;
        }
    }

    public ThresholdPlan {
        sizes = sizes.clone();
        k = k.clone();
        int t = sizes.length;
        if (t == 0) throw new IllegalArgumentException("magnitudeThresholds: no tensors given");
        long total = 0;
        for (int i = 0; i < t; i++) {
            if (sizes[i] < 0) throw new IllegalArgumentException("tensor " + i + " has negative size " + sizes[i]);
            // histogram bins are 32-bit counters
            if (sizes[i] > 0xFFFF_FFFFL) {
                throw new IllegalArgumentException("tensor " + i + " has " + sizes[i] + " elements; the GPU select counts at most 2^32-1 per tensor");
            }
            total += sizes[i];
        }
        if (global) {
            if (k.length < 1 || k[0] < 1 || k[0] > total) {
                throw new IllegalArgumentException("magnitudeThresholds (global): k=" + (k.length > 0 ? k[0] : "none")
                        + " outside [1, " + total + "]");
            }
        } else {
            if (k.length < t) throw new IllegalArgumentException("magnitudeThresholds (layer): " + k.length + " k values for " + t + " tensors");
            for (int i = 0; i < t; i++) {
                if (k[i] < 1 || k[i] > sizes[i]) {
                    throw new IllegalArgumentException("magnitudeThresholds (layer): k=" + k[i] + " for tensor " + i
                            + " of " + sizes[i] + " elements outside [1, " + sizes[i] + "]");
                }
            }
        }
        if (variant == Variant.NAIVE && t > 65535) {
            throw new IllegalArgumentException("the naive histogram walks tensors on grid y: at most 65535 tensors, got " + t);
        }
    }

    public int tensors() { return sizes.length; }

    /** Select groups: one per tensor in layer scope, one in global scope. */
    public int groups() { return global ? 1 : sizes.length; }

    /** blockStart[t] = tiles of tensors before t; blockStart[T] = all tiles (the tiled grid). */
    public long[] blockStart() {
        long[] out = new long[sizes.length + 1];
        for (int i = 0; i < sizes.length; i++) out[i + 1] = out[i] + (sizes[i] + TILE - 1) / TILE;
        return out;
    }

    /** The initial rank per group. */
    public long[] initialRanks() { return Arrays.copyOf(k, groups()); }

    /** Bits a key must share with the prefix before a pass at {@code shift} with {@code bits}. */
    public static int hiMask(int shift, int bits) {
        int done = shift + bits;
        return done >= 32 ? 0 : -1 << done;
    }

    /**
     * Whether the tiled histogram compacts in pass 2 and reads the compacted keys in pass 3 (the
     * kernel's modes 1 and 2): the tiled variant with its three passes does.
     */
    public boolean compacts() { return variant == Variant.TILED; }

    // Scratch layout, in bytes from the start of one device buffer. The first four arrays are
    // uploaded in one copy; below..histogram are zeroed in one memset; krem..prefix come back in
    // one copy. The compaction counts and keys (tiled only) need no clearing: pass 2 writes every
    // tile's count before pass 3 reads it, and pass 3 reads no key past its tile's count.
    public long offPointers() { return 0; }
    public long offSizes() { return 8L * tensors(); }
    public long offBlockStart() { return offSizes() + 8L * tensors(); }
    public long offRanks() { return offBlockStart() + 8L * (tensors() + 1); }
    public long offBelow() { return offRanks() + 8L * groups(); }
    public long offEqual() { return offBelow() + 8L * tensors(); }
    public long offPrefix() { return offEqual() + 8L * tensors(); }
    public long offHistogram() { return align(offPrefix() + 4L * groups(), 256); }
    /** End of the region the launcher zeroes. */
    public long offHistogramEnd() { return offHistogram() + 4L * MAX_BINS * tensors(); }
    /** One u32 per tile: the keys tile b matched in pass 2 (tiled only; else empty). */
    public long offCompactCounts() { return align(offHistogramEnd(), 256); }
    /** COMPACT_CAP u32 keys per tile (tiled only; else empty). */
    public long offCompactKeys() { return align(offCompactCounts() + (compacts() ? 4L * tiles() : 0), 256); }
    public long scratchBytes() { return offCompactKeys() + (compacts() ? 4L * COMPACT_CAP * tiles() : 0); }

    private long tiles() {
        long n = 0;
        for (long s : sizes) n += (s + TILE - 1) / TILE;
        return n;
    }

    private static long align(long v, long a) { return (v + a - 1) / a * a; }
}
