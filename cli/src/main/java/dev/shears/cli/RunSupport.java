package dev.shears.cli;

import dev.shears.cli.report.ReportWriter;
import dev.shears.cli.report.RunReport;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.data.Split;
import dev.shears.core.nn.Model;
import dev.shears.pruning.checkpoint.Checkpoint;
import dev.shears.pruning.recipe.Recipe;
import dev.shears.pruning.recipe.RecipeWriter;
import dev.shears.pruning.train.BatchProgress;
import dev.shears.pruning.train.EpochMetrics;
import dev.shears.pruning.train.GmpTrainer;
import dev.shears.pruning.train.NonFiniteLossException;
import dev.shears.pruning.train.RunInfo;
import dev.shears.pruning.train.TrainingHistory;
import dev.shears.pruning.train.TrainingListener;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Runs a recipe on a model with progress on stderr, then writes {@code model.shears},
 * {@code report.json} and {@code report.html} into the output folder. A NaN loss stops the run:
 * the last good state is saved as the checkpoint and the report says why it stopped.
 */
final class RunSupport {
    private RunSupport() {}

    /** The outcome: the report and the trained model (bound, final state). */
    record Outcome(RunReport report, TrainingHistory history) {}

    static Outcome run(String command, ModelSource src, Split data, Recipe recipe, long seed, Path outDir,
                       PrintStream err, boolean quiet, String checkpointName) {
        return run(command, src, data, recipe, seed, outDir, err, quiet, checkpointName, new int[0]);
    }

    /**
     * As above; when the final model has pruned weights and {@code inferenceBatches} is not empty,
     * also times it dense against its planned sparse form at those batch sizes (on the CPU) for
     * the summary and the report.
     */
    static Outcome run(String command, ModelSource src, Split data, Recipe recipe, long seed, Path outDir,
                       PrintStream err, boolean quiet, String checkpointName, int[] inferenceBatches) {
        Model model = src.model();
        Path[] inputs = src.inputs();
        Path ckpt = outDir.resolve(checkpointName);
        prepareOutDir(outDir);
        Progress progress = new Progress(err, quiet);
        GmpTrainer trainer = new GmpTrainer(model, data.train(), data.test(), recipe, seed);
        trainer.addListener(new TrainingListener() {
            @Override public void runStarted(RunInfo info) {
                progress.line(recipe.describe());
                progress.line(String.format(Locale.ROOT, "training %s on %s: %d samples, %d steps an epoch, %s",
                        src.description(), data.train().name(), info.trainSamples(), info.stepsPerEpoch(), info.optimizer()));
                if (!Double.isNaN(info.finalSparsityEpoch()))
                    progress.line(String.format(Locale.ROOT, "final sparsity %.1f%% is reached at epoch %s (step %d)",
                            100 * recipe.finalSparsity(), trim(info.finalSparsityEpoch()), info.finalSparsityStep()));
            }

            @Override public void batchFinished(BatchProgress p) {
                progress.update(String.format(Locale.ROOT, "epoch %d/%d", p.epoch(), p.epochs()), p.batch(), p.batches(),
                        String.format(Locale.ROOT, "loss %.4f acc %.2f%% sparsity %.1f%% lr %.4g",
                                p.epochLoss(), 100 * p.epochAccuracy(), 100 * p.sparsity(), p.lr()));
            }

            @Override public void epochFinished(EpochMetrics m) {
                if (m.epoch() == 0) {
                    progress.line(String.format(Locale.ROOT, "before training: test accuracy %.2f%%, loss %.4f", 100 * m.testAccuracy(), m.testLoss()));
                    return;
                }
                progress.line(String.format(Locale.ROOT, "epoch %d: train loss %.4f acc %.2f%% | test loss %.4f acc %.2f%% | sparsity %.2f%% (target %.2f%%) | %.1f s",
                        m.epoch(), m.trainLoss(), 100 * m.trainAccuracy(), m.testLoss(), 100 * m.testAccuracy(),
                        100 * m.sparsity(), 100 * m.targetSparsity(), m.seconds()));
                if (m.sparsity() > 0) {
                    StringBuilder layers = new StringBuilder("  per layer:");
                    m.layerSparsity().forEach((name, sp) -> layers.append(String.format(Locale.ROOT, " %s %.2f%%", name, 100 * sp)));
                    progress.line(layers.toString());
                }
            }
        });
        long t0 = System.nanoTime();
        TrainingHistory history;
        String stop = null;
        NonFiniteLossException failure = null;
        try {
            history = trainer.run();
        } catch (NonFiniteLossException e) {
            failure = e;
            history = e.history();
            stop = e.getMessage();
            e.lastGoodSnapshot().restore(model);
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        String recipeText = RecipeWriter.toYaml(recipe);
        RunReport report = report(command, src, data, recipe, seed, model, history, secs, ckpt, stop);
        boolean timeInference = inferenceBatches.length > 0 && report.nonZeroPrunable() < report.prunableParameters();
        if (timeInference && model.backend() instanceof CpuBackend)
            report = report.withInference(InferenceReport.measure(model, data.test(), inferenceBatches, progress));
        new Checkpoint(model, recipeText, ReportWriter.JSON.valueToTree(report)).write(ckpt, inputs);
        if (timeInference && report.inference() == null) {
            // Sparse inference runs on the CPU: time a CPU copy read back from the checkpoint just
            // written, then store the report with its figures in the checkpoint too.
            try (CpuBackend cpuBackend = CpuBackend.create()) {
                Model copy = Checkpoint.read(ckpt, cpuBackend).model();
                report = report.withInference(InferenceReport.measure(copy, data.test(), inferenceBatches, progress));
            }
            new Checkpoint(model, recipeText, ReportWriter.JSON.valueToTree(report)).write(ckpt, inputs);
        }
        ReportWriter.writeJson(report, outDir.resolve("report.json"), inputs);
        ReportWriter.writeHtml(report, outDir.resolve("report.html"), inputs);
        if (failure != null)
            throw new RunStopped(failure.getMessage() + "; the last good state (epoch " + failure.lastGoodSnapshot().epoch()
                    + ") is saved in " + ckpt + "; lower the learning rate in the recipe and run again");
        return new Outcome(report, history);
    }

    static RunReport report(String command, ModelSource src, Split data, Recipe recipe, long seed, Model model,
                            TrainingHistory h, double secs, Path ckpt, String stop) {
        var layers = ModelSummary.layers(model);
        List<RunReport.EpochRow> rows = new ArrayList<>();
        for (EpochMetrics m : h.epochs())
            rows.add(new RunReport.EpochRow(m.epoch(), m.lr(), m.trainLoss(), m.trainAccuracy(), m.testLoss(), m.testAccuracy(),
                    m.targetSparsity(), m.sparsity(), m.seconds()));
        // "before" is the model handed to this run (its test accuracy before the run): what the user
        // brought to prune, the dense phase's model in the demo; plain training starts from random
        // weights, so it has none.
        RunReport.Metrics before = command.equals("train") ? null
                : new RunReport.Metrics(h.initial().testAccuracy(), h.initial().testLoss(), data.test().count());
        List<RunReport.MaskUpdateRow> updates = new ArrayList<>();
        for (var ev : h.pruning())
            updates.add(new RunReport.MaskUpdateRow(ev.epoch(), ev.step(), ev.update().effectiveTarget(), ev.update().achieved()));
        EpochMetrics last = h.last();
        RunReport.Metrics after = new RunReport.Metrics(last.testAccuracy(), last.testLoss(), data.test().count());
        return new RunReport(command, Shears.version(), OffsetDateTime.now().truncatedTo(ChronoUnit.SECONDS).toString(),
                model.backend().name(), src.description(), data.train().name(), data.train().count(), data.test().count(),
                recipe.describe().replace("\n  ", "; "), seed, before, after,
                ModelSummary.sparsity(layers), recipe.finalSparsity(), recipe.finalSparsityEpoch().orElse(Double.NaN),
                ModelSummary.parameters(layers), ModelSummary.prunable(layers), ModelSummary.nonZero(layers),
                layers, rows, updates, secs, ckpt.toString(), stop, null);
    }

    static void prepareOutDir(Path outDir) {
        try {
            Files.createDirectories(outDir);
        } catch (java.io.IOException e) {
            throw new UserError("--out " + outDir + ": cannot create the folder (" + e.getMessage() + ")");
        }
        if (!Files.isDirectory(outDir)) throw new UserError("--out " + outDir + " is not a folder");
    }

    static String trim(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : String.format(Locale.ROOT, "%.2f", v);
    }

    /** A run stopped early (NaN loss); its partial outputs were written. */
    static final class RunStopped extends RuntimeException {
        RunStopped(String message) { super(message); }
    }
}
