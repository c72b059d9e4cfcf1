package dev.shears.pruning;

import dev.shears.pruning.recipe.Scope;

import java.util.List;
import java.util.Locale;

/**
 * The outcome of one {@link MagnitudePruner#update}: the target, and per parameter what was
 * reached. For layer scope every layer's pruned count is {@code round(target * size)}; for
 * global scope the sum over the layers is {@code round(target * total)} (unless more weights
 * were already masked before: masks only gain zeros).
 */
public record MaskUpdate(double target, Scope scope, List<LayerSparsity> layers) {
    public MaskUpdate { layers = List.copyOf(layers); }

    public long size() { return layers.stream().mapToLong(LayerSparsity::size).sum(); }

    public long pruned() { return layers.stream().mapToLong(LayerSparsity::pruned).sum(); }

    /** Sparsity over all the selected weights. */
    public double achieved() { long s = size(); return s == 0 ? 0 : (double) pruned() / s; }

    /** e.g. {@code target 79.4% (layer): dense_1/kernel 79.4%, dense_2/kernel 79.4% -> 79.4% overall}. */
    public String describe() {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "target %.2f%% (%s):", 100 * target, scope.recipeName()));
        for (LayerSparsity l : layers) sb.append(String.format(Locale.ROOT, " %s %.2f%% (%d/%d)", l.name(), 100 * l.sparsity(), l.pruned(), l.size()));
        sb.append(String.format(Locale.ROOT, " -> %.2f%% overall", 100 * achieved()));
        return sb.toString();
    }
}
