package dev.shears.pruning.sensitivity;

import dev.shears.pruning.recipe.NmStructure;

import java.util.ArrayList;
import java.util.List;

/**
 * What each layer is measured at: a list of unstructured sparsities (one-shot magnitude pruning of
 * that layer alone to each), or one N:M pattern (the layer pruned to N of every M, sparsity
 * {@code 1 - N/M}).
 *
 * @param sparsities the targets in ascending order, each in [0, 1); with a structure, only its {@code 1 - N/M}
 * @param structure  the N:M pattern, or null for unstructured magnitude pruning
 */
public record SensitivityPlan(List<Double> sparsities, NmStructure structure) {

    /** The sparsities measured when none are given: where layers usually start to differ. */
    public static final List<Double> DEFAULT_SPARSITIES = List.of(0.5, 0.7, 0.8, 0.9, 0.95, 0.98);

    /**
     * @throws IllegalArgumentException naming the value: an empty list, a sparsity outside [0, 1),
     *                                  a value given twice, or a list given with a structure
     */
    public SensitivityPlan {
        if (structure != null) {
            if (sparsities != null && !sparsities.isEmpty() && !sparsities.equals(List.of(structure.sparsity())))
                throw new IllegalArgumentException("a structure (" + structure + ") fixes the sparsity at " + structure.sparsity()
                        + "; give either sparsities or a structure, not both");
            sparsities = List.of(structure.sparsity());
        } else {
            if (sparsities == null || sparsities.isEmpty())
                throw new IllegalArgumentException("the list of sparsities is empty; give at least one, e.g. 0.5,0.9");
            List<Double> sorted = new ArrayList<>(sparsities);
            for (Double s : sorted)
                if (s == null || !(s >= 0 && s < 1))
                    throw new IllegalArgumentException("sparsity " + s + " is outside [0, 1); give fractions such as 0.9 for 90%");
            sorted.sort(null);
            for (int i = 1; i < sorted.size(); i++)
                if (sorted.get(i).equals(sorted.get(i - 1)))
                    throw new IllegalArgumentException("sparsity " + sorted.get(i) + " is given twice; give each once");
            sparsities = List.copyOf(sorted);
        }
    }

    /** Unstructured, at {@code sparsities}. */
    public static SensitivityPlan unstructured(List<Double> sparsities) { return new SensitivityPlan(sparsities, null); }

    /** N:M, at {@code 1 - N/M}. */
    public static SensitivityPlan nm(NmStructure structure) {
        if (structure == null) throw new IllegalArgumentException("structure is missing");
        return new SensitivityPlan(null, structure);
    }
}
