package dev.shears.pruning.recipe;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * N:M structured sparsity for a pruning modifier ({@code structure: "2:4"} in a recipe): in every
 * selected kernel, each group of M consecutive inputs (a Dense kernel's input axis; a Conv2D
 * kernel's input channels, at each output channel and kernel position, as NVIDIA's Apex ASP groups
 * them) keeps at most N (see {@link dev.shears.pruning.NmLayout}). 2:4 is what NVIDIA's sparse
 * tensor cores and cuSPARSELt run; other patterns are allowed for experiments.
 *
 * <p>The schedule: at a mask update whose GMP target is {@code s_t}, every group keeps
 * {@link #keepPerGroup keep = ceil((1 - s_t) * M)}, clamped to [N, M]: the unstructured curve
 * rounded to whole weights per group, never pruning ahead of it (ceil), and reaching exactly N of
 * M when {@code s_t} reaches the final sparsity {@code 1 - N/M} at {@code endEpoch}. For 2:4 that
 * is three levels: 4 kept while s_t < 25%, 3 while s_t < 50%, then 2.
 *
 * @param n weights kept per group at the end, 1 <= n < m
 * @param m group length, m <= {@link #MAX_M}
 */
public record NmStructure(int n, int m) implements Structure {
    /** The longest group a recipe may ask for (the backends take up to 32; 16 covers every pattern in use). */
    public static final int MAX_M = 16;

    private static final Pattern TEXT = Pattern.compile("\\s*(\\d{1,9})\\s*:\\s*(\\d{1,9})\\s*");

    /** 2:4, the pattern sparse tensor cores run. */
    public static final NmStructure TWO_FOUR = new NmStructure(2, 4);

    public NmStructure {
        if (!(1 <= n && n < m && m <= MAX_M))
            throw new RecipeException("structure = '" + n + ":" + m + "' is not a valid N:M pattern; it needs 1 <= N < M <= " + MAX_M + " (e.g. 2:4)");
    }

    /**
     * Parses {@code "N:M"}, e.g. {@code "2:4"}.
     *
     * @throws RecipeException naming the text when it is not N:M or out of range
     */
    public static NmStructure parse(String text) {
        Matcher mt = text == null ? null : TEXT.matcher(text);
        if (mt == null || !mt.matches())
            throw new RecipeException("structure = '" + text + "' is not an N:M pattern; write it as N:M with 1 <= N < M <= " + MAX_M + ", e.g. \"2:4\"");
        return new NmStructure(Integer.parseInt(mt.group(1)), Integer.parseInt(mt.group(2)));
    }

    /** The sparsity the pattern means, {@code 1 - N/M} (0.5 for 2:4). */
    public double sparsity() { return 1 - (double) n / m; }

    /**
     * Weights kept per group at a mask update whose unstructured target is {@code target}:
     * {@code ceil((1 - target) * M)} clamped to [N, M]. A tolerance of 1e-9 keeps a target that
     * is exactly a level (0.25, 0.5 for M = 4) from rounding up through floating-point noise.
     */
    public int keepPerGroup(double target) {
        double keep = Math.ceil((1 - target) * m - 1e-9);
        return (int) Math.max(n, Math.min(m, keep));
    }

    /** The sparsity a full group has after an update at {@code target}: {@code 1 - keep/M}. */
    public double effectiveSparsity(double target) { return 1 - (double) keepPerGroup(target) / m; }

    /** As written in recipes and on the command line: {@code "2:4"}. */
    public String recipeName() { return n + ":" + m; }

    @Override public String toString() { return recipeName(); }
}
