package dev.shears.pruning.train;

/**
 * Progress and metrics of a run, called on the training thread. Every method has an empty
 * default, so a listener implements only what it draws.
 */
public interface TrainingListener {
    default void runStarted(RunInfo info) {}

    /** @param epoch 1-based */
    default void epochStarted(int epoch, int epochs) {}

    default void batchFinished(BatchProgress progress) {}

    default void masksUpdated(PruningEvent event) {}

    default void epochFinished(EpochMetrics metrics) {}

    /**
     * The first epoch of the run that ended at chance, told once, after its {@link #epochFinished};
     * the run goes on. A resumed run whose saved epochs already hold one tells it again when it
     * resumes (after {@link #runStarted}).
     */
    default void collapsed(CollapseWarning warning) {}

    default void runFinished(TrainingHistory history) {}
}
