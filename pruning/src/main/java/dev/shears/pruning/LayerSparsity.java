package dev.shears.pruning;

/**
 * One parameter's sparsity after a mask update.
 *
 * @param name   the parameter, e.g. {@code dense_1/kernel}
 * @param size   its number of weights
 * @param pruned how many are masked (zero)
 */
public record LayerSparsity(String name, long size, long pruned) {
    public double sparsity() { return size == 0 ? 0 : (double) pruned / size; }
}
