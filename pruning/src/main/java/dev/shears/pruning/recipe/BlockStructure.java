package dev.shears.pruning.recipe;

import dev.shears.core.sparse.BlockPattern;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Block pruning, {@code structure: "block:RxC"} (e.g. {@code block:4x4}, {@code block:16x16},
 * {@code block:1x8}): every selected kernel's GEMM matrix A, as sparse inference multiplies it
 * (a Dense kernel's A = W^T [out, in], a Conv2D kernel's im2col A = [out, in*kh*kw]; see
 * {@link dev.shears.pruning.BlockLayout}), is cut into R x C blocks (R output rows by C input
 * columns), and at each mask update with GMP target {@code s_t} every layer loses
 * {@link #removed round(s_t * B)} of its B blocks (at most B - 1), those with the smallest mean
 * |w|, each masked as a whole. A square R x R pruned layer is exactly what Blocked-ELL with block
 * R stores ({@link dev.shears.core.sparse.BlockedEllMatrix}), and R x C with R != C is block
 * min(R, C) Blocked-ELL (both are powers of two, so one divides the other).
 *
 * <p>R and C are powers of two from 1 to {@link #MAX_SIDE} (not both 1, which is unstructured
 * pruning): block-sparse kernels (cuSPARSE Blocked-ELL, tensor-core tiles) and the CPU's vector
 * lanes all work in powers of two, and it keeps the block sizes that {@code shears inspect} and
 * the sparse planner look for to a short fixed list. Scope is layer: every layer ends at the same
 * block sparsity, which is what makes each layer's Blocked-ELL product pay off.
 *
 * @param rows R, output rows of A per block
 * @param cols C, input columns of A per block
 */
public record BlockStructure(int rows, int cols) implements Structure {
    /**
     * The longest block side a recipe may ask for (cuSPARSE's Blocked-ELL examples stop at 32; 64 leaves room): the
     * largest that {@link BlockPattern#detect} looks for, so every pruned pattern is recognised in {@code shears inspect} and the planners.
     */
    public static final int MAX_SIDE = BlockPattern.MAX_SIDE;

    /** The recipe word before the shape. */
    public static final String PREFIX = "block:";

    private static final Pattern TEXT = Pattern.compile("\\s*block\\s*:\\s*(\\d{1,9})\\s*[xX]\\s*(\\d{1,9})\\s*");

    public BlockStructure {
        if (!isSide(rows) || !isSide(cols) || rows * cols == 1)
            throw new RecipeException("structure = '" + PREFIX + rows + "x" + cols + "' is not a valid block shape; R and C must be powers of two"
                    + " from 1 to " + MAX_SIDE + ", not both 1 (e.g. block:4x4, block:16x16, block:1x8)");
    }

    private static boolean isSide(int s) { return s >= 1 && s <= MAX_SIDE && Integer.bitCount(s) == 1; }

    /** Whether {@code text} is meant as a block structure (starts with {@code block}), so its error is the one to report. */
    static boolean looksLikeBlock(String text) { return text != null && text.strip().startsWith("block"); }

    /**
     * Parses {@code "block:RxC"}, e.g. {@code "block:4x4"}.
     *
     * @throws RecipeException naming the text when it is not block:RxC or out of range
     */
    public static BlockStructure parse(String text) {
        Matcher mt = text == null ? null : TEXT.matcher(text);
        if (mt == null || !mt.matches())
            throw new RecipeException("structure = '" + text + "' is not a block shape; write it as block:RxC with R and C powers of two"
                    + " from 1 to " + MAX_SIDE + ", e.g. \"block:4x4\"");
        long r = Long.parseLong(mt.group(1)), c = Long.parseLong(mt.group(2));
        if (r > MAX_SIDE || c > MAX_SIDE)
            throw new RecipeException("structure = '" + text.strip() + "' has a block side above " + MAX_SIDE + "; R and C must be powers of two"
                    + " from 1 to " + MAX_SIDE + " (e.g. block:16x16)");
        return new BlockStructure((int) r, (int) c);
    }

    /** Blocks removed from a layer of {@code blocks} blocks at {@code target}: round(target * B), at most B - 1. */
    public static long removed(double target, long blocks) {
        return Math.max(0, Math.min(blocks - 1, Math.round(target * blocks)));
    }

    /** The square Blocked-ELL block that stores this pattern exactly: min(R, C). */
    public int blockedEllBlock() { return Math.min(rows, cols); }

    /** As written in recipes and on the command line: {@code block:4x4}. */
    @Override public String recipeName() { return PREFIX + rows + "x" + cols; }

    /** Per layer it is round(target * B) blocks, close to the target; the unrounded target stands for all of them. */
    @Override public double effectiveSparsity(double target) { return target; }

    @Override public String toString() { return recipeName(); }
}
