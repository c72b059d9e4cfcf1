package dev.shears.pruning.train;

import dev.shears.pruning.recipe.Recipe;

import java.util.List;

/**
 * What a run is about to do, known before the first step.
 *
 * @param stepsPerEpoch      mini-batches an epoch (the last may be partial)
 * @param totalSteps         epochs * stepsPerEpoch
 * @param finalSparsityEpoch when the last pruning modifier reaches its final sparsity (NaN: no pruning)
 * @param finalSparsityStep  the same as a step (-1: no pruning)
 * @param prunedParameters   names of the parameters the recipe prunes
 */
public record RunInfo(Recipe recipe, String backend, String optimizer, int trainSamples, int testSamples,
                      int stepsPerEpoch, long totalSteps, double finalSparsityEpoch, long finalSparsityStep,
                      List<String> prunedParameters) {}
