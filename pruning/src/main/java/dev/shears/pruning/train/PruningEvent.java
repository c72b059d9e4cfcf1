package dev.shears.pruning.train;

import dev.shears.pruning.MaskUpdate;

/**
 * A mask update during a run.
 *
 * @param modifier index of the recipe's pruning modifier
 * @param step     the step it happened before (0-based; {@code epoch * stepsPerEpoch} at an epoch end)
 * @param epoch    the position in epochs ({@code step / stepsPerEpoch})
 * @param update   target and achieved sparsity per parameter
 * @param isFinal  whether this is the modifier's last update (its final sparsity)
 */
public record PruningEvent(int modifier, long step, double epoch, MaskUpdate update, boolean isFinal) {}
