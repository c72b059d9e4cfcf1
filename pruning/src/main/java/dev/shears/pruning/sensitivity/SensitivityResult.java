package dev.shears.pruning.sensitivity;

import java.util.List;

/**
 * A whole sensitivity analysis: the model's accuracy as it is, then each selected parameter
 * pruned alone at each target of the plan.
 *
 * @param plan             what each layer was measured at
 * @param baselineAccuracy test accuracy of the model as given, in [0, 1]
 * @param baselineLoss     its mean test cross-entropy
 * @param samples          the test samples every evaluation scored
 * @param layers           one per selected parameter, in model order
 * @param seconds          wall time of the whole analysis, the baseline included
 */
public record SensitivityResult(SensitivityPlan plan, double baselineAccuracy, double baselineLoss, int samples,
                                List<LayerSensitivity> layers, double seconds) {
    public SensitivityResult { layers = List.copyOf(layers); }

    /**
     * What a reader of the figures must keep in mind: each drop was measured with only that layer
     * pruned, and drops do not add up exactly when several layers are pruned together (they
     * interact, usually for the worse, and fine-tuning during GMP recovers part of it).
     */
    public static final String CAVEAT = "each layer was pruned alone (one-shot, by magnitude, no fine-tuning) with the others as they were;"
            + " drops do not add up exactly when layers are pruned together, and GMP's fine-tuning recovers part of them";
}
