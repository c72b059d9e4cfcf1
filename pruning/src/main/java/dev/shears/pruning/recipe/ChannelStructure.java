package dev.shears.pruning.recipe;

/**
 * Channel (filter) pruning, {@code structure: channels}: at each mask update with GMP target
 * {@code s_t}, every selected Dense/Conv2D kernel loses {@code round(s_t * C)} of its C output
 * channels (at most C - 1: a layer never loses all of them), those with the smallest L1 norm of
 * their weights, each masked as a whole: a Dense unit's column of W [in, out], a Conv2D filter of
 * [out, in, kh, kw] (see {@link dev.shears.pruning.ChannelLayout}). Equal norms: the lower channel
 * goes first. Scope is layer: L1 norms of layers with different fan-in are not comparable, so a
 * global threshold is refused. The model's output layer is never channel-pruned (its channels are
 * the model's outputs). Kernels whose channels an Add or a Multiply ties are one set
 * ({@link dev.shears.pruning.ChannelGroup}): the set loses round(target * C) of its C channels, the
 * same ones in every member ({@link dev.shears.pruning.MagnitudePruner#updateChannelGroups}). Biases are not masked: a removed channel outputs its constant bias, which
 * thinning ({@link dev.shears.pruning.thin.ChannelThinning}) folds into the next layer.
 */
public record ChannelStructure() implements Structure {
    /** The recipe word. */
    public static final String NAME = "channels";

    public static final ChannelStructure CHANNELS = new ChannelStructure();

    /** Output channels removed from a layer of {@code channels} at {@code target}: round(target * C), at most C - 1. */
    public static int removed(double target, int channels) {
        return (int) Math.min(channels - 1, Math.round(target * channels));
    }

    @Override public String recipeName() { return NAME; }

    /** Per layer it is round(target * C) / C; the unrounded target stands for all of them. */
    @Override public double effectiveSparsity(double target) { return target; }

    @Override public String toString() { return NAME; }
}
