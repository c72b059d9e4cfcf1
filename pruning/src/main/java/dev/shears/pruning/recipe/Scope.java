package dev.shears.pruning.recipe;

/** Where a sparsity target applies. */
public enum Scope {
    /** Every selected tensor reaches the target on its own (one threshold per tensor). */
    LAYER,
    /** The selected tensors together reach the target (one threshold over all of them). */
    GLOBAL;

    public String recipeName() { return name().toLowerCase(java.util.Locale.ROOT); }
}
