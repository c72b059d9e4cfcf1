package dev.shears.core.sparse;

import java.util.Arrays;

/**
 * The R x C block pattern a matrix A [rows, cols] follows, as block pruning leaves it: every zero
 * of A lies in an all-zero R x C block (blocks tile A from (0, 0); the last block-row and
 * block-column may be partial) and at least one block is all zero. R and C are powers of two up to
 * {@link #MAX_SIDE}, not both 1. A matrix pruned in R x C blocks also follows every R' x C' with R'
 * dividing R and C' dividing C; {@link #detect} reports the largest. Unstructured sparsity almost
 * never follows any (one zero beside a nonzero in a block breaks it), so this tells block-pruned
 * layers apart without the recipe: {@code shears inspect} shows it, and the planners add Blocked-ELL
 * with the square block {@link #squareBlock} as a candidate.
 *
 * @param r          block height R (rows of A per block)
 * @param c          block width C
 * @param zeroBlocks blocks that are all zero
 * @param blocks     all blocks, partial ones included
 */
public record BlockPattern(int r, int c, long zeroBlocks, long blocks) {
    /** The largest block side looked for (the pruning module's limit for {@code block:RxC}). */
    public static final int MAX_SIDE = 64;

    /** Fraction of the blocks that are all zero. */
    public double emptyFraction() { return (double) zeroBlocks / blocks; }

    /** e.g. {@code 4x4}. */
    public String shape() { return r + "x" + c; }

    /**
     * The largest (by area; equal areas: the squarer, then the taller) R x C block pattern A
     * follows, or null when it follows none. Stops at the first block holding zeros and nonzeros,
     * so an unstructured matrix costs little.
     */
    public static BlockPattern detect(float[] a, int rows, int cols) {
        SparseMatrix.checkDense(a, rows, cols);
        BlockPattern best = null;
        for (int r = 1; r <= MAX_SIDE; r *= 2)
            for (int c = 1; c <= MAX_SIDE; c *= 2) {
                if (r * c == 1) continue;
                if (best != null && r * c < best.r * best.c) continue;
                BlockPattern p = check(a, rows, cols, r, c);
                if (p != null && (best == null || better(p, best))) best = p;
            }
        return best;
    }

    private static boolean better(BlockPattern p, BlockPattern q) {
        if (p.r * p.c != q.r * q.c) return p.r * p.c > q.r * q.c;
        int skewP = Math.abs(Integer.numberOfTrailingZeros(p.r) - Integer.numberOfTrailingZeros(p.c));
        int skewQ = Math.abs(Integer.numberOfTrailingZeros(q.r) - Integer.numberOfTrailingZeros(q.c));
        return skewP != skewQ ? skewP < skewQ : p.r > q.r;
    }

    /**
     * The Blocked-ELL block sizes a planner tries for a matrix whose detected square block is
     * {@code pruned} ({@link #squareBlock}; 0: none): the configured {@code blocks}, and
     * {@code pruned} after them when they lack it.
     */
    public static int[] withSquareBlock(int[] blocks, int pruned) {
        if (pruned <= 0 || Arrays.stream(blocks).anyMatch(b -> b == pruned)) return blocks;
        int[] all = Arrays.copyOf(blocks, blocks.length + 1);
        all[blocks.length] = pruned;
        return all;
    }

    /**
     * The largest square block b (2..{@link #MAX_SIDE}) for which A follows the b x b pattern, or 0:
     * the Blocked-ELL block that stores exactly the kept blocks of a matrix pruned in b x b blocks
     * (or R x C with min(R, C) = b).
     */
    public static int squareBlock(float[] a, int rows, int cols) {
        SparseMatrix.checkDense(a, rows, cols);
        for (int b = MAX_SIDE; b >= 2; b /= 2) if (check(a, rows, cols, b, b) != null) return b;
        return 0;
    }

    /** The pattern for R x C if A follows it, else null. */
    static BlockPattern check(float[] a, int rows, int cols, int r, int c) {
        int br = (rows + r - 1) / r, bc = (cols + c - 1) / c;
        long zero = 0;
        for (int i = 0; i < br; i++)
            for (int j = 0; j < bc; j++) {
                int zeros = 0, size = 0;
                for (int y = i * r; y < Math.min(rows, (i + 1) * r); y++)
                    for (int x = j * c, end = Math.min(cols, (j + 1) * c); x < end; x++, size++)
                        if (a[y * cols + x] == 0f) zeros++;
                if (zeros == size) zero++;
                else if (zeros != 0) return null;
            }
        return zero == 0 ? null : new BlockPattern(r, c, zero, (long) br * bc);
    }
}
