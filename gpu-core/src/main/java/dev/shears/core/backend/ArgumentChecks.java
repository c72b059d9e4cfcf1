package dev.shears.core.backend;

import dev.shears.core.tensor.Tensor;

/**
 * The argument checks every {@link Backend} makes before touching memory, shared so that the CPU
 * specification and the CUDA backend refuse the same calls with the same messages (the contract
 * tests compare them on both).
 */
public final class ArgumentChecks {
    private ArgumentChecks() {}

    /** Elements [offset, offset + count) lie inside {@code t}. */
    public static void checkRange(String op, Tensor t, long offset, long count) {
        if (offset < 0 || count < 0 || offset + count > t.size())
            throw new IllegalArgumentException(op + ": elements [" + offset + ", " + (offset + count) + ") outside " + t);
    }

    public static void checkSize(String op, Tensor t, long expected) {
        if (t.size() != expected) throw new IllegalArgumentException(op + ": expected " + expected + " elements, got " + t);
    }

    /** The common size of {@code a} and {@code b}. */
    public static long sameSize(String op, Tensor a, Tensor b) {
        if (a.size() != b.size()) throw new IllegalArgumentException(op + ": sizes differ, " + a + " vs " + b);
        return a.size();
    }

    /** {@code t} holds exactly [outer, channels, inner]. */
    public static void checkLayout(String op, Tensor t, int outer, int channels, int inner) {
        if (outer < 0 || channels < 0 || inner < 0 || (long) outer * channels * inner != t.size())
            throw new IllegalArgumentException(op + ": " + t + " is not [outer=" + outer + ", channels=" + channels + ", inner=" + inner + "]");
    }

    /** {@code batch} matrices of {@code matrixSize} elements, {@code stride} apart from {@code offset}, lie inside {@code t}. */
    public static void checkMatrices(String op, Tensor t, long offset, long stride, long matrixSize, int batch, boolean empty) {
        if (empty) return;
        long last = offset + (batch - 1) * stride + matrixSize;
        if (offset < 0 || stride < 0 || last > t.size())
            throw new IllegalArgumentException(op + ": " + batch + " matrices of " + matrixSize + " elements from offset " + offset
                    + " with stride " + stride + " reach element " + last + ", beyond " + t);
    }
}
