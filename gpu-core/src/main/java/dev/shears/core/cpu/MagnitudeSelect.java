package dev.shears.core.cpu;

import java.util.Arrays;

/**
 * Exact k-th smallest |w| by radix select over the bit patterns of |w|, the algorithm behind
 * {@code Backend.magnitudeThresholds} (the CUDA kernel runs the same passes with the same digits).
 *
 * <p>Key: {@code floatToRawIntBits(w) & 0x7FFFFFFF}. For non-negative floats the integer order of
 * the bits is the numeric order, so selecting on keys selects on |w|; -0 and +0 share key 0, and
 * a NaN (key above +inf's) counts as the largest magnitude. Four passes, one 8-bit digit each, from
 * the most significant (bits 31..24, bit 31 always 0) down: each pass histograms the digit of the
 * elements whose higher digits equal the prefix chosen so far, then picks the bucket holding the
 * k-th element and subtracts the counts of the buckets below it from k. The bucket counts below
 * the chosen bucket, summed per tensor over the passes, give {@code below}; the last pass's chosen
 * bucket count gives {@code equal}. Nothing is sorted or copied.
 */
final class MagnitudeSelect {
    private MagnitudeSelect() {}

    static final int DIGIT_BITS = 8;
    static final int BUCKETS = 1 << DIGIT_BITS;

    static int key(float w) { return Float.floatToRawIntBits(w) & 0x7FFFFFFF; }

    /**
     * Selects over {@code arrays[from..to)} together: the k-th smallest key (1-based). Writes the
     * threshold, below and equal for each of those arrays.
     */
    static void select(float[][] arrays, int[] sizes, int from, int to, long k,
                       float[] thresholds, long[] below, long[] equal) {
        int n = to - from;
        long[][] hist = new long[n][BUCKETS];
        long[] total = new long[BUCKETS];
        int prefix = 0, prefixMask = 0;
        long rank = k;
        long[] belowAcc = new long[n];
        for (int shift = 32 - DIGIT_BITS; shift >= 0; shift -= DIGIT_BITS) {
            Arrays.fill(total, 0);
            for (int t = 0; t < n; t++) {
                long[] h = hist[t];
                Arrays.fill(h, 0);
                histogram(arrays[from + t], sizes[from + t], prefix, prefixMask, shift, h);
                for (int b = 0; b < BUCKETS; b++) total[b] += h[b];
            }
            int digit = 0;
            long cum = 0;
            while (cum + total[digit] < rank) {
                cum += total[digit];
                digit++;
            }
            rank -= cum;
            for (int t = 0; t < n; t++) for (int b = 0; b < digit; b++) belowAcc[t] += hist[t][b];
            prefix |= digit << shift;
            prefixMask |= (BUCKETS - 1) << shift;
        }
        float threshold = Float.intBitsToFloat(prefix);
        for (int t = 0; t < n; t++) {
            thresholds[from + t] = threshold;
            below[from + t] = belowAcc[t];
            equal[from + t] = hist[t][prefix & (BUCKETS - 1)];
        }
    }

    private static void histogram(float[] w, int size, int prefix, int prefixMask, int shift, long[] h) {
        // int counts per chunk keep the inner loop cheap; folded into the long histogram
        int[] local = new int[BUCKETS];
        for (int i = 0; i < size; i++) {
            int key = Float.floatToRawIntBits(w[i]) & 0x7FFFFFFF;
            if ((key & prefixMask) == prefix) local[(key >>> shift) & (BUCKETS - 1)]++;
        }
        for (int b = 0; b < BUCKETS; b++) h[b] += local[b];
    }
}
