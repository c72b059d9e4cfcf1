package dev.shears.cli;

import dev.shears.pruning.recipe.Augmentation;
import dev.shears.pruning.recipe.Recipe;
import dev.shears.pruning.recipe.RecipeException;
import picocli.CommandLine.Option;

/**
 * {@code --augment [SPEC]}, on train, prune and demo: random flips and crops of the training
 * images ({@link Augmentation}). How it combines with a recipe's {@code augmentation:} block, as
 * {@code --teacher} does with its distillation block: the flag replaces the block (or adds one
 * where the recipe has none); {@code --augment none} removes it; without the flag the recipe
 * decides. Bare {@code --augment} is {@code flip,crop:4}, the CIFAR recipe.
 */
final class AugmentOption {
    /** What bare {@code --augment} means. */
    static final String DEFAULT = "flip,crop:4";

    @Option(names = "--augment", arity = "0..1", fallbackValue = DEFAULT, paramLabel = "SPEC",
            description = "Augment the training images (never the test set): random horizontal flip (p = 0.5) and/or a random crop after P pixels of"
                    + " zero padding on each side. SPEC: flip, crop:P or flip,crop:P (alone: " + DEFAULT + "); none drops the recipe's augmentation block."
                    + " Needs image samples ([C, H, W] or [H, W]). Flipping suits clothes and photographs, not digits or text: leave it out there.")
    String augment;

    /** The flag's value where it gives an augmentation (not {@code none}), named in errors; null without the flag. */
    String given() {
        return augment == null || augment.strip().equals("none") ? null : augment.strip();
    }

    /** {@code r} with the augmentation the flag asks for, or {@code r} itself without the flag. */
    Recipe apply(Recipe r) {
        if (augment == null) return r;
        if (augment.strip().equals("none")) return r.withAugmentation(null);
        try {
            return r.withAugmentation(Augmentation.parse(augment));
        } catch (RecipeException e) {
            throw new UserError("--augment " + augment + ": " + e.getMessage().replaceFirst("^augmentation( '[^']*')?: ", "")
                    + " (--augment alone is " + DEFAULT + ")");
        }
    }
}
