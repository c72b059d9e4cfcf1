package dev.shears.core.sparse;

/**
 * Told as {@link SparseModel#plan} finishes each layer: planning times every candidate format of
 * every Dense and Conv2D layer, seconds each (ResNet-50 at batch 1: 54 layers, 20 s and more), and
 * a caller that shows progress (the CLI's live line) needs more than one line per model.
 */
@FunctionalInterface
public interface PlanProgress {

    /** Listens to nothing. */
    PlanProgress NONE = (index, total, layer, format) -> {};

    /**
     * Layer {@code index} (1 for the first) of the {@code total} layers the plan times has been
     * planned: its node name and the format chosen for it ({@link SparsePlanner#label}, e.g.
     * {@code csr}, {@code dense}), before the whole-model check that may send every layer back to dense.
     */
    void planned(int index, int total, String layer, String format);
}
