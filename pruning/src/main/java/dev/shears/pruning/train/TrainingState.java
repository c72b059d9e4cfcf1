package dev.shears.pruning.train;

import dev.shears.core.nn.ClassCounts;
import dev.shears.core.nn.Evaluator;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;

/**
 * What a run needs, besides the model's weights and masks, to continue from the end of an epoch
 * exactly as if it had never stopped: the optimizer's state, where the run is, and what it has
 * recorded so far. The random draws need nothing stored: the shuffling of epoch e is seeded by
 * (seed, e) and dropout at step t by (seed, t) (see {@link GmpTrainer}), so a resumed run draws
 * what the uninterrupted run would have drawn.
 *
 * <p>Everything else the trainer keeps between mask updates is derived: the last position whose
 * updates ran is {@code epoch * stepsPerEpoch} (an epoch's end runs the updates due there), the
 * schedules are pure functions of the step, and the pruned counts are read back from the masks.
 *
 * @param epoch          completed epochs (1..epochs): the run continues with epoch {@code epoch + 1}
 * @param epochs         the recipe's epochs
 * @param stepsPerEpoch  mini-batches an epoch (checked on resume: the data and batch size must agree)
 * @param seed           the run's seed (shuffling and dropout)
 * @param optimizer      the optimizer's {@link dev.shears.core.optim.Optimizer#describe()} (checked on resume)
 * @param optimizerSteps the optimizer's step count
 * @param optimizerState host copies of the optimizer's state tensors by name, in its order
 *                       (velocity, or Adam's m and v, of each parameter: that parameter's shape,
 *                       flattened); empty for a stateless optimizer, or when not kept (a finished run)
 * @param history        the epochs and mask updates so far, the dense evaluation before the
 *                       first update (null when none yet), and the right answers per class before
 *                       training and after the last epoch
 * @param complete       true once the run has finished and its outputs were written
 * @param labels         what the caller needs to recognise the run (the CLI: command, model, data);
 *                       stored and given back as is
 */
public record TrainingState(int epoch, int epochs, int stepsPerEpoch, long seed, String optimizer, long optimizerSteps,
                            SequencedMap<String, float[]> optimizerState, History history, boolean complete,
                            Map<String, String> labels) {

    /**
     * The recorded part of a run: what {@link TrainingHistory} holds besides the run's {@link RunInfo}.
     *
     * @param initialPerClass right answers per class of the test pass before training (epoch 0), or null: a state
     *                        written before Shears kept them
     * @param finalPerClass   those of the last epoch's test pass, once it has run (null before, and in older states)
     */
    public record History(List<EpochMetrics> epochs, List<PruningEvent> pruning, Evaluator.Result beforePruning,
                          ClassCounts initialPerClass, ClassCounts finalPerClass) {
        public History {
            epochs = List.copyOf(epochs);
            pruning = List.copyOf(pruning);
        }

        /** A history without per-class counts (a state written before Shears kept them). */
        public History(List<EpochMetrics> epochs, List<PruningEvent> pruning, Evaluator.Result beforePruning) {
            this(epochs, pruning, beforePruning, null, null);
        }
    }

    public TrainingState {
        if (epochs < 1) throw new IllegalArgumentException("training state: epochs " + epochs + " must be >= 1");
        if (epoch < 0 || epoch > epochs) throw new IllegalArgumentException("training state: epoch " + epoch + " outside 0.." + epochs);
        if (stepsPerEpoch < 1) throw new IllegalArgumentException("training state: stepsPerEpoch " + stepsPerEpoch + " must be >= 1");
        if (optimizerSteps < 0) throw new IllegalArgumentException("training state: optimizer steps " + optimizerSteps + " must be >= 0");
        if (history == null) throw new IllegalArgumentException("training state: history is missing");
        if (history.epochs().size() != epoch + 1)
            throw new IllegalArgumentException("training state: " + history.epochs().size() + " epoch records for epoch " + epoch
                    + " (expected " + (epoch + 1) + ": the model before training, then one per epoch)");
        optimizerState = Collections.unmodifiableSequencedMap(new LinkedHashMap<>(optimizerState));
        labels = Collections.unmodifiableMap(new LinkedHashMap<>(labels));
    }

    /** The global step reached: the next step to run. */
    public long step() { return (long) epoch * stepsPerEpoch; }

    /** Whether every epoch has run (the outputs may still be unwritten: see {@link #complete}). */
    public boolean allEpochsDone() { return epoch == epochs; }

    public TrainingState withLabels(Map<String, String> labels) {
        return new TrainingState(epoch, epochs, stepsPerEpoch, seed, optimizer, optimizerSteps, optimizerState, history, complete, labels);
    }

    /** This state marked finished, without the optimizer state (a finished run is not continued; it keeps the file small). */
    public TrainingState finished() {
        return new TrainingState(epoch, epochs, stepsPerEpoch, seed, optimizer, optimizerSteps, new LinkedHashMap<>(), history, true, labels);
    }
}
