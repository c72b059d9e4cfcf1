package dev.shears.pruning.train;

/**
 * Progress and metrics of a run, called on the training thread. Every method has an empty
 * default, so a listener implements only what it draws.
 */
public interface TrainingListener {
    default void runStarted(RunInfo info) {}

    /**
     * How a distillation run gets the teacher's logits, one line, after {@link #runStarted} and
     * before the first step: {@code "distillation: teacher logits cached (60,000 x 10, 2.3 MiB, 0.2 s)"},
     * or {@code "distillation: teacher logits not cached: ... over the 256.0 MiB budget; the teacher
     * runs on every batch"}. Not called without a teacher.
     */
    default void distillationPrepared(String line) {}

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
