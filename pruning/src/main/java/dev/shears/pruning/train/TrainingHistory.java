package dev.shears.pruning.train;

import dev.shears.core.nn.ClassCounts;
import dev.shears.core.nn.Evaluator;

import java.util.List;
import java.util.Optional;

/**
 * Everything a run recorded.
 *
 * @param epochs        per-epoch metrics: entry 0 is the model before training, then epochs 1..n
 * @param pruning       every mask update, in order
 * @param beforePruning the test evaluation taken just before the first mask update (the dense
 *                      model's accuracy), or null when the run never pruned
 * @param collapse      the first epoch that ended at chance ({@link CollapseWarning}), or null;
 *                      derived from {@code epochs}, so a resumed run finds it again without storing it
 * @param initialPerClass right answers per class of the test pass before training (the same pass as epoch 0's
 *                      accuracy), or null when the run resumed from a checkpoint written before Shears kept them
 * @param finalPerClass those of the last epoch's test pass (the same pass as its accuracy), or null when the run
 *                      ended before it (a failed run's last good epoch is an earlier one)
 */
public record TrainingHistory(RunInfo info, List<EpochMetrics> epochs, List<PruningEvent> pruning,
                              Evaluator.Result beforePruning, CollapseWarning collapse,
                              ClassCounts initialPerClass, ClassCounts finalPerClass) {
    public TrainingHistory {
        epochs = List.copyOf(epochs);
        pruning = List.copyOf(pruning);
    }

    /** A history without per-class counts. */
    public TrainingHistory(RunInfo info, List<EpochMetrics> epochs, List<PruningEvent> pruning, Evaluator.Result beforePruning,
                           CollapseWarning collapse) {
        this(info, epochs, pruning, beforePruning, collapse, null, null);
    }

    /** The last completed epoch's metrics (or the initial evaluation when none completed). */
    public EpochMetrics last() { return epochs.get(epochs.size() - 1); }

    /** The metrics before training. */
    public EpochMetrics initial() { return epochs.get(0); }

    /** The dense model's test result: just before the first mask update, or the last epoch when nothing was pruned. */
    public Optional<Evaluator.Result> dense() {
        if (beforePruning != null) return Optional.of(beforePruning);
        if (pruning.isEmpty()) {
            EpochMetrics m = last();
            return Optional.of(new Evaluator.Result(m.testLoss(), m.testAccuracy(), info.testSamples()));
        }
        return Optional.empty();
    }
}
