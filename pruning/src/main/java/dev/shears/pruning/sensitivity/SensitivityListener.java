package dev.shears.pruning.sensitivity;

import dev.shears.core.nn.Evaluator;
import dev.shears.core.nn.Parameter;

/** Progress of a {@link SensitivityAnalysis}: one call per evaluation (the baseline first). */
@FunctionalInterface
public interface SensitivityListener {
    /** Does nothing. */
    SensitivityListener NONE = (done, total, param, target, result) -> {};

    /**
     * @param done   evaluations finished so far, this one included (1 = the baseline)
     * @param total  evaluations in the whole analysis: 1 + layers x targets (with channel pruning, a tied set counts once)
     * @param param  the parameter pruned for this evaluation (the first of a tied set, pruned with it), or null for the baseline
     * @param target its target sparsity (NaN for the baseline)
     * @param result what the evaluation measured
     */
    void evaluated(int done, int total, String param, double target, Evaluator.Result result);

    /**
     * Called with {@code param} pruned to {@code target}, just before it is evaluated (its weights
     * and mask are restored afterwards): what the evaluation will see. Does nothing by default.
     */
    default void pruned(Parameter param, double target) {}
}
