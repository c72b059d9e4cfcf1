package dev.shears.pruning.train;

import java.util.Map;

/**
 * What one epoch did.
 *
 * @param epoch            1-based (0: the model before training)
 * @param lr               the learning rate of the epoch's last step
 * @param trainLoss        mean training loss over the epoch's batches (NaN for epoch 0)
 * @param trainAccuracy    training accuracy over the epoch's batches (NaN for epoch 0)
 * @param testLoss         mean test loss at the end of the epoch
 * @param testAccuracy     test accuracy at the end of the epoch
 * @param targetSparsity   the schedules' current target over all prunable weights
 * @param sparsity         the achieved sparsity over all prunable weights
 * @param layerSparsity    achieved sparsity per prunable parameter, in model order
 * @param seconds          wall time of the epoch (training and evaluation)
 * @param distillationLoss with knowledge distillation, the mean over the epoch's samples of the
 *                         soft-target term T^2 * KL(teacher || student) (before its weight);
 *                         {@code trainLoss} is then the hard-label cross-entropy alone. NaN without
 *                         distillation and for epoch 0.
 */
public record EpochMetrics(int epoch, double lr, double trainLoss, double trainAccuracy, double testLoss,
                           double testAccuracy, double targetSparsity, double sparsity,
                           Map<String, Double> layerSparsity, double seconds, double distillationLoss) {
    public EpochMetrics {
        layerSparsity = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(layerSparsity));
    }

    /** An epoch without distillation. */
    public EpochMetrics(int epoch, double lr, double trainLoss, double trainAccuracy, double testLoss,
                        double testAccuracy, double targetSparsity, double sparsity,
                        Map<String, Double> layerSparsity, double seconds) {
        this(epoch, lr, trainLoss, trainAccuracy, testLoss, testAccuracy, targetSparsity, sparsity, layerSparsity, seconds, Double.NaN);
    }
}
