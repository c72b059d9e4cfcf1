package dev.shears.cli.report;

import java.util.List;

/**
 * What a train/prune/demo run did: written as report.json and rendered as report.html.
 *
 * @param before       test metrics of the model before pruning (null for plain training)
 * @param after        test metrics of the final model
 * @param finalSparsityEpoch the epoch at which the recipe reaches its final sparsity (NaN if none)
 */
public record RunReport(String command, String shearsVersion, String date, String backend,
                        String model, String data, int trainSamples, int testSamples,
                        String recipe, long seed,
                        Metrics before, Metrics after,
                        double sparsity, double targetSparsity, double finalSparsityEpoch,
                        long parameters, long prunableParameters, long nonZeroPrunable,
                        List<LayerRow> layers, List<EpochRow> epochs, List<MaskUpdateRow> maskUpdates,
                        double seconds, String checkpoint, String stopReason) {

    public record Metrics(double accuracy, double loss, int samples) {}

    /** One row of the per-layer table; sparsity NaN for layers without prunable weights. */
    public record LayerRow(String name, String type, long parameters, long prunable, double sparsity) {}

    /** One mask update: where in the run (fractional epoch), the schedule's target and what was reached. */
    public record MaskUpdateRow(double epoch, long step, double target, double achieved) {}

    /** One epoch of the history. */
    public record EpochRow(int epoch, double lr, double trainLoss, double trainAccuracy,
                           double testLoss, double testAccuracy, double targetSparsity, double sparsity, double seconds) {}
}
