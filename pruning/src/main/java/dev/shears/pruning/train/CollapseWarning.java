package dev.shears.pruning.train;

import java.util.Locale;

/**
 * An epoch that ended at chance: its training accuracy is at most 1.5 / classes and its mean
 * training loss is at or above ln(classes), the loss of uniform outputs. The model has learnt
 * nothing (or has unlearnt what it knew): almost always the learning rate is too high for it, as
 * when a pretrained model is fine-tuned at a rate meant for training from scratch. A model trained
 * from scratch is far above chance after one epoch on any learnable data, so the check does not
 * fire on healthy runs; the run goes on (a warning, not a stop: the user decides).
 *
 * @param epoch         the epoch (1-based) that ended at chance
 * @param trainAccuracy its training accuracy
 * @param trainLoss     its mean training loss
 * @param classes       the model's outputs
 * @param startLr       the recipe's learning rate at the start of training
 */
public record CollapseWarning(int epoch, double trainAccuracy, double trainLoss, int classes, double startLr) {

    /** Accuracy at or below this many times chance (1 / classes) counts as chance. */
    public static final double CHANCE_FACTOR = 1.5;

    /** The warning for epoch {@code m}, or null when it is above chance (or is epoch 0, before training). */
    public static CollapseWarning check(EpochMetrics m, int classes, double startLr) {
        if (m.epoch() < 1 || classes < 2) return null;
        // NaN never compares true: an epoch without metrics is not called a collapse
        boolean chance = m.trainAccuracy() <= CHANCE_FACTOR / classes && m.trainLoss() >= Math.log(classes);
        return chance ? new CollapseWarning(m.epoch(), m.trainAccuracy(), m.trainLoss(), classes, startLr) : null;
    }

    /** What happened and the likely cause, e.g. {@code epoch 1 ended at chance (train accuracy 9.8%, loss 3.46 >= ln 10 = 2.30): ...}. */
    public String describe() {
        return String.format(Locale.ROOT, "epoch %d ended at chance (train accuracy %.1f%%, loss %.2f >= ln %d = %.2f): training has collapsed,"
                        + " most likely because the learning rate (%s at the start) is too high for this model",
                epoch, 100 * trainAccuracy, trainLoss, classes, Math.log(classes), rate(startLr));
    }

    /** A tenth of the start rate, the first lower rate to try. */
    public double suggestedLr() {
        return new java.math.BigDecimal(startLr / 10).round(new java.math.MathContext(3)).doubleValue();
    }

    /** A rate for messages: up to 4 significant digits, no exponent (0.005, not 5.0E-3). */
    public static String rate(double v) {
        if (!Double.isFinite(v)) return Double.toString(v);
        return new java.math.BigDecimal(v).round(new java.math.MathContext(4)).stripTrailingZeros().toPlainString();
    }
}
