package dev.shears.cli;

import dev.shears.core.sparse.PlanProgress;

/**
 * The sparse planner's progress as {@link Progress}'s bar, one step a layer:
 * "sparse plan [#########...] 19/54 layers (n51: csr)", redrawn in place on a terminal and a line
 * every few seconds otherwise; gone once the last layer is planned, where the caller's summary follows.
 */
final class PlanLine implements PlanProgress {
    private final Progress progress;

    PlanLine(Progress progress) { this.progress = progress; }

    @Override public void planned(int index, int total, String layer, String format) {
        progress.update("sparse plan", index, total, "layers (" + layer + ": " + format + ")");
    }
}
