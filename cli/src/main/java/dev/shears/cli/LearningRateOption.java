package dev.shears.cli;

import dev.shears.pruning.recipe.Recipe;
import dev.shears.pruning.recipe.RecipeException;
import picocli.CommandLine.Option;

/**
 * {@code --lr X}, on train, prune and demo: the recipe's learning-rate schedule scaled to start at
 * X ({@link Recipe#withStartLearningRate}: every rate of every {@code learningRate} item times
 * X / the rate at epoch 0, so the schedule keeps its shape). Applied after {@code --epochs}.
 */
final class LearningRateOption {
    /**
     * Rates above this are refused as a likely mistake: SGD on these models diverges well below it,
     * Adam's rates are around 1e-3, and a value this large is most often a slip (5 for 5e-3, a
     * percentage). A recipe file can still set any rate.
     */
    static final double MAX = 10;

    @Option(names = "--lr", paramLabel = "X", description = "Scale the recipe's learning-rate schedule so that it starts at X"
            + " (every rate in it multiplied by X / its rate at epoch 0: the same shape, e.g. the dense recipe's cosine 0.05 -> 0.0005 becomes 0.005 -> 0.00005 with --lr 0.005)."
            + " Fine-tuning a pretrained model usually wants a lower rate than training from scratch (try a tenth). X in (0, 10].")
    Double lr;

    /** {@code r} scaled to start at --lr, or {@code r} itself without the option. */
    Recipe apply(Recipe r) {
        if (lr == null) return r;
        if (!(lr > 0) || lr > MAX)
            throw new UserError("--lr " + lr + " must be a learning rate > 0 and at most " + (int) MAX
                    + (lr > MAX ? " (a rate this high is almost always a slip, e.g. 5 for 0.005; a recipe file can set any rate)" : ""));
        try {
            return r.withStartLearningRate(lr);
        } catch (RecipeException e) {
            throw new UserError("--lr: " + e.getMessage());
        }
    }
}
