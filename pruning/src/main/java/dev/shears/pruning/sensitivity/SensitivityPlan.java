package dev.shears.pruning.sensitivity;

import dev.shears.pruning.recipe.NmStructure;
import dev.shears.pruning.recipe.Structure;

import java.util.ArrayList;
import java.util.List;

/**
 * What each layer is measured at: a list of sparsities, each reached by one-shot magnitude pruning
 * of that layer alone, of single weights (no structure), of whole output channels or of whole
 * R x C blocks ({@code channels}, {@code block:RxC}); or one N:M pattern (the layer pruned to N of
 * every M, sparsity {@code 1 - N/M}).
 *
 * @param sparsities the targets in ascending order, each in [0, 1); with an N:M structure, only its {@code 1 - N/M}
 * @param structure  the structure of the masks, or null for unstructured magnitude pruning
 */
public record SensitivityPlan(List<Double> sparsities, Structure structure) {

    /** The sparsities measured when none are given: where layers usually start to differ. */
    public static final List<Double> DEFAULT_SPARSITIES = List.of(0.5, 0.7, 0.8, 0.9, 0.95, 0.98);

    /**
     * @throws IllegalArgumentException naming the value: an empty list, a sparsity outside [0, 1),
     *                                  a value given twice, or a list given with an N:M structure
     */
    public SensitivityPlan {
        if (structure instanceof NmStructure nm) {
            if (sparsities != null && !sparsities.isEmpty() && !sparsities.equals(List.of(nm.sparsity())))
                throw new IllegalArgumentException("an N:M structure (" + nm + ") fixes the sparsity at " + nm.sparsity()
                        + "; give either sparsities or an N:M structure, not both");
            sparsities = List.of(nm.sparsity());
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

    /** Whole channels or blocks ({@code structure}, not N:M) at {@code sparsities}. */
    public static SensitivityPlan structured(Structure structure, List<Double> sparsities) {
        if (structure == null) throw new IllegalArgumentException("structure is missing");
        if (structure instanceof NmStructure nm) throw new IllegalArgumentException(nm + " fixes its sparsity: use nm(" + nm + ")");
        return new SensitivityPlan(sparsities, structure);
    }

    /** The N:M pattern, or null for unstructured, channel or block pruning. */
    public NmStructure nm() { return structure instanceof NmStructure nm ? nm : null; }

    /** N:M, at {@code 1 - N/M}. */
    public static SensitivityPlan nm(NmStructure structure) {
        if (structure == null) throw new IllegalArgumentException("structure is missing");
        return new SensitivityPlan(null, structure);
    }
}
