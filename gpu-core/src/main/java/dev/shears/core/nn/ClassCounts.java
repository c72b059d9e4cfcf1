package dev.shears.core.nn;

import java.util.Arrays;

/**
 * Test samples and right answers per class of one evaluation: what "which classes did pruning
 * hurt" needs, where the one accuracy figure hides a class that went from 90% to 40%. Made by
 * {@link ClassTally}; immutable (the arrays are copied in and out).
 *
 * @param correct per class index, the samples of that class predicted right; [classes]
 * @param total   per class index, the samples of that class; [classes], each at least its {@code correct}
 */
public record ClassCounts(long[] correct, long[] total) {
    public ClassCounts {
        if (correct.length != total.length)
            throw new IllegalArgumentException("class counts: " + correct.length + " correct counts for " + total.length + " classes");
        for (int c = 0; c < total.length; c++)
            if (correct[c] < 0 || correct[c] > total[c])
                throw new IllegalArgumentException("class counts: class " + c + " has " + correct[c] + " right of " + total[c] + " samples");
        correct = correct.clone();
        total = total.clone();
    }

    @Override public long[] correct() { return correct.clone(); }

    @Override public long[] total() { return total.clone(); }

    /** Class indices covered: one past the highest label or prediction seen. */
    public int classes() { return total.length; }

    public long correct(int c) { return c < correct.length ? correct[c] : 0; }

    public long total(int c) { return c < total.length ? total[c] : 0; }

    /** Samples over all classes (the test set's size). */
    public long samples() { return Arrays.stream(total).sum(); }

    /** Right answers over all classes (samples times the overall accuracy). */
    public long right() { return Arrays.stream(correct).sum(); }

    @Override public boolean equals(Object o) {
        return o instanceof ClassCounts c && Arrays.equals(correct, c.correct) && Arrays.equals(total, c.total);
    }

    @Override public int hashCode() { return 31 * Arrays.hashCode(correct) + Arrays.hashCode(total); }

    @Override public String toString() { return "ClassCounts[correct=" + Arrays.toString(correct) + ", total=" + Arrays.toString(total) + "]"; }
}
