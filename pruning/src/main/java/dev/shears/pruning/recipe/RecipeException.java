package dev.shears.pruning.recipe;

/**
 * A recipe that cannot be used: the message names the recipe (file or built-in name), the field
 * (as a path such as {@code pruning[0].finalSparsity}), the value and what is allowed.
 */
public final class RecipeException extends IllegalArgumentException {
    public RecipeException(String message) { super(message); }
    public RecipeException(String message, Throwable cause) { super(message, cause); }
}
