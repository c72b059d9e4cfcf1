package dev.shears.pruning.sensitivity;

import java.util.List;

/**
 * How one prunable parameter responds to being pruned alone.
 *
 * @param name             the parameter, e.g. {@code dense_1/kernel}
 * @param size             its number of weights
 * @param originalSparsity the fraction of its weights that were exactly zero before the analysis (0 for a dense model)
 * @param points           one per target of the {@link SensitivityPlan}, in its order
 */
public record LayerSensitivity(String name, long size, double originalSparsity, List<SensitivityPoint> points) {
    public LayerSensitivity { points = List.copyOf(points); }
}
