package dev.shears.pruning.recipe;

/**
 * How {@link PruningModifier#describe()} names the whole units a block or channel structure
 * removes, so both modifiers say it in one sentence each.
 *
 * @param kind   "block" or "channel", as in "gradual block pruning"
 * @param what   the units in full, e.g. "4x4 blocks of each layer's GEMM matrix"
 * @param brief  the units in short, e.g. "4x4 blocks"
 * @param order  which go first, e.g. "smallest mean |w|"
 * @param plural what a layer's sparsity counts, e.g. "blocks"
 */
record UnitWords(String kind, String what, String brief, String order, String plural) {

    /** The units of a block or channel structure; null for unstructured and N:M pruning. */
    static UnitWords of(Structure structure) {
        return switch (structure) {
            case BlockStructure b -> {
                String size = b.recipeName().substring(BlockStructure.PREFIX.length());
                yield new UnitWords("block", size + " blocks of each layer's GEMM matrix", size + " blocks", "smallest mean |w|", "blocks");
            }
            case ChannelStructure c -> new UnitWords("channel", "output channels", "output channels", "smallest L1 norm", "channels");
            case null, default -> null;
        };
    }
}
