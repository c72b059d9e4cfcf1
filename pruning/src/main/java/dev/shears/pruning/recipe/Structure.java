package dev.shears.pruning.recipe;

/**
 * The shape a pruning modifier's masks take ({@code structure:} in a recipe); a modifier without
 * one prunes single weights (unstructured). Every structure prunes each layer on its own: scope is
 * layer.
 */
public sealed interface Structure permits NmStructure, ChannelStructure, BlockStructure {

    /**
     * Parses a recipe's or the command line's {@code structure}: {@code channels}, a block
     * shape such as {@code block:4x4}, or an N:M pattern such as {@code "2:4"}.
     *
     * @throws RecipeException naming the text and what is allowed
     */
    static Structure parse(String text) {
        if (text != null && text.strip().equals(ChannelStructure.NAME)) return ChannelStructure.CHANNELS;
        if (BlockStructure.looksLikeBlock(text)) return BlockStructure.parse(text);
        try {
            return NmStructure.parse(text);
        } catch (RecipeException e) {
            if (text != null && text.contains(":")) throw e;
            throw new RecipeException("structure = '" + text + "' is neither '" + ChannelStructure.NAME
                    + "' (whole output channels), a block shape such as \"block:4x4\""
                    + " nor an N:M pattern such as \"2:4\"");
        }
    }

    /** As written in recipes and on the command line: {@code "2:4"}, {@code channels}, {@code block:4x4}. */
    String recipeName();

    /** The sparsity a layer's masks are meant to reach at an update whose schedule target is {@code target}. */
    double effectiveSparsity(double target);
}
