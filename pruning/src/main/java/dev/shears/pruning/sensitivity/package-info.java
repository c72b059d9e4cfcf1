/**
 * Per-layer sensitivity analysis: how much accuracy a model loses when one layer alone is pruned
 * by magnitude at each of a list of sparsities (or to an N:M pattern), and per-layer final
 * sparsities suggested from it for an accuracy budget, which can be written as a recipe.
 *
 * <pre>{@code
 * SensitivityResult r = new SensitivityAnalysis(model, test.head(1000), 256)
 *         .run(ParamSelection.ALL_PRUNABLE, SensitivityPlan.unstructured(SensitivityPlan.DEFAULT_SPARSITIES), SensitivityListener.NONE);
 * SparsitySuggestion s = SparsitySuggestion.of(r, 1.0);          // within 1 accuracy point per layer
 * Recipe recipe = s.toRecipe(Recipes.builtIn("gmp-seed"), "my-model-sensitivity", prunableNames);
 * }</pre>
 */
package dev.shears.pruning.sensitivity;
