package dev.shears.pruning;

import dev.shears.pruning.recipe.BlockStructure;
import dev.shears.pruning.recipe.ChannelStructure;
import dev.shears.pruning.recipe.NmStructure;
import dev.shears.pruning.recipe.Structure;
import dev.shears.pruning.recipe.Scope;

import java.util.List;
import java.util.Locale;

/**
 * The outcome of one {@link MagnitudePruner#update}: the target, and per parameter what was
 * reached. For layer scope every layer's pruned count is {@code round(target * size)}; for
 * global scope the sum over the layers is {@code round(target * total)} (unless more weights
 * were already masked before: masks only gain zeros). For an N:M update ({@code structure} an
 * {@link NmStructure}) every group of M kept at most {@code keepPerGroup} weights. For a channel update every
 * layer lost round(target * C) whole output channels (at most C - 1), so its weight sparsity is
 * that count over C. For a block update every layer lost round(target * B) of its B whole blocks
 * (at most B - 1).
 *
 * @param structure    the N:M pattern, channels or blocks, or null for unstructured magnitude pruning
 * @param keepPerGroup weights kept per group of M by an N:M update; 0 for any other update
 */
public record MaskUpdate(double target, Scope scope, Structure structure, int keepPerGroup, List<LayerSparsity> layers) {
    public MaskUpdate { layers = List.copyOf(layers); }

    /** An unstructured update. */
    public MaskUpdate(double target, Scope scope, List<LayerSparsity> layers) { this(target, scope, null, 0, layers); }

    /** The sparsity this update aimed at: the target itself, or for N:M what full groups keep, 1 - keep/M. */
    public double effectiveTarget() { return structure instanceof NmStructure nm ? 1 - (double) keepPerGroup / nm.m() : target; }

    public long size() { return layers.stream().mapToLong(LayerSparsity::size).sum(); }

    public long pruned() { return layers.stream().mapToLong(LayerSparsity::pruned).sum(); }

    /** Sparsity over all the selected weights. */
    public double achieved() { long s = size(); return s == 0 ? 0 : (double) pruned() / s; }

    /** e.g. {@code target 79.4% (layer): dense_1/kernel 79.4%, dense_2/kernel 79.4% -> 79.4% overall}. */
    public String describe() {
        StringBuilder sb = new StringBuilder(switch (structure) {
            case null -> String.format(Locale.ROOT, "target %.2f%% (%s):", 100 * target, scope.recipeName());
            case NmStructure nm -> String.format(Locale.ROOT, "target %.2f%% (%s: keep %d of every %d):", 100 * target, nm, keepPerGroup, nm.m());
            case ChannelStructure c -> String.format(Locale.ROOT, "target %.2f%% (whole output channels):", 100 * target);
            case BlockStructure b -> String.format(Locale.ROOT, "target %.2f%% (whole %dx%d blocks):", 100 * target, b.rows(), b.cols());
        });
        for (LayerSparsity l : layers) sb.append(String.format(Locale.ROOT, " %s %.2f%% (%d/%d)", l.name(), 100 * l.sparsity(), l.pruned(), l.size()));
        sb.append(String.format(Locale.ROOT, " -> %.2f%% overall", 100 * achieved()));
        return sb.toString();
    }
}
