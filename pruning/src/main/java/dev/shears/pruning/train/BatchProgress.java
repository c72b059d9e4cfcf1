package dev.shears.pruning.train;

/**
 * Progress after one training step, for progress bars.
 *
 * @param epoch           1-based
 * @param batch           1-based within the epoch
 * @param step            0-based over the run
 * @param lr              the learning rate of this step
 * @param loss            this batch's mean loss
 * @param epochLoss       mean loss over the epoch's batches so far
 * @param epochAccuracy   training accuracy over the epoch's batches so far
 * @param sparsity        current sparsity over all prunable weights
 */
public record BatchProgress(int epoch, int epochs, int batch, int batches, long step, double lr, double loss,
                            double epochLoss, double epochAccuracy, double sparsity) {}
