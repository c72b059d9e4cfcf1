package dev.shears.pruning.train;

/**
 * A training or test loss came out NaN or infinite: the run stops. The message names the epoch,
 * the batch, the step and the learning rate; {@link #lastGoodSnapshot()} is the state at the end
 * of the last epoch whose test loss was finite (the CLI saves it as the checkpoint).
 */
public final class NonFiniteLossException extends RuntimeException {
    private final transient ModelSnapshot lastGood;
    private final transient TrainingHistory history;

    public NonFiniteLossException(String message, ModelSnapshot lastGood, TrainingHistory history) {
        super(message);
        this.lastGood = lastGood;
        this.history = history;
    }

    /** The last good state (epoch 0 is the model as it was before training). */
    public ModelSnapshot lastGoodSnapshot() { return lastGood; }

    /** The metrics of the epochs completed before the failure. */
    public TrainingHistory history() { return history; }
}
