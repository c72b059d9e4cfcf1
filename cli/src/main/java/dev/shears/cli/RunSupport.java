package dev.shears.cli;

import dev.shears.cli.report.ReportWriter;
import dev.shears.cli.report.RunReport;
import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.data.Split;
import dev.shears.core.nn.ClassCounts;
import dev.shears.core.nn.Model;
import dev.shears.pruning.checkpoint.Checkpoint;
import dev.shears.pruning.recipe.ChannelStructure;
import dev.shears.pruning.recipe.Distillation;
import dev.shears.pruning.recipe.Recipe;
import dev.shears.pruning.recipe.RecipeException;
import dev.shears.pruning.recipe.RecipeWriter;
import dev.shears.pruning.train.BatchProgress;
import dev.shears.pruning.train.CollapseWarning;
import dev.shears.pruning.train.EpochMetrics;
import dev.shears.pruning.train.GmpTrainer;
import dev.shears.pruning.train.NonFiniteLossException;
import dev.shears.pruning.train.RunInfo;
import dev.shears.pruning.train.TrainingHistory;
import dev.shears.pruning.train.TrainingListener;
import dev.shears.pruning.train.TrainingState;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs a recipe on a model with progress on stderr, then writes {@code model.shears},
 * {@code report.json} and {@code report.html} into the output folder. A NaN loss stops the run:
 * the last good state is saved as the checkpoint and the report says why it stopped.
 *
 * <p>Saving as it goes: at the end of every epoch {@code model.shears} itself is rewritten
 * (atomically: a reader or a kill sees the previous epoch's file or this one's) with the model,
 * the recipe and the training state, marked partial; the final write replaces it with the
 * finished model, its report and the history, without the optimizer state. One file rather than a
 * separate {@code resume.shears}: the output folder always holds the newest model, usable by
 * eval/inspect/export while the run goes on or after a kill, and there is no second file to clean
 * up or to fall out of step with it. {@code --resume} continues from it ({@link ResumePoint}).
 */
final class RunSupport {
    private RunSupport() {}

    private static final System.Logger LOG = System.getLogger(RunSupport.class.getName());

    /**
     * The outcome: the report and the trained model (bound, final state); for a run stopped by
     * {@code --stop-after-epoch}, {@code report} is null and {@code paused} true.
     */
    record Outcome(RunReport report, TrainingHistory history, boolean paused) {}

    /**
     * How a run is saved and continued.
     *
     * @param labels    what identifies the run (stored with the state; see {@link ResumePoint#labels})
     * @param resume    the saved run to continue, or null for a fresh run
     * @param stopAfter stop (saved, resumable) after this epoch; null to run to the end
     * @param args      the command line that started the run (after "shears"), for the command an interrupted
     *                  run prints to continue it ({@link Interruption}); null for a command without --resume
     * @param augment   the {@code --augment} value the recipe's augmentation came from, named in its errors; null where
     *                  the recipe's own block (or none) decides
     */
    record Control(Map<String, String> labels, ResumePoint resume, Integer stopAfter, boolean cudaGraphs, List<String> args, String augment) {
        static Control fresh(Map<String, String> labels) { return new Control(labels, null, null, false, null, null); }

        /** This control with {@code augment} as the --augment value (null: none given). */
        Control withAugment(String augment) { return new Control(labels, resume, stopAfter, cudaGraphs, args, augment); }
    }

    /**
     * A train or prune command: a fresh run of {@code recipe} on the {@code --model}, or with
     * {@code --resume} the continuation of the run saved in {@code --out}. A finished run is
     * reported as such (null report) and left alone.
     *
     * @param augment the --augment value given (see {@link Control#augment}), or null
     */
    static Outcome start(String command, ModelOption modelOption, Split data, Recipe recipe, RunOptions run, Backend backend,
                         int[] inferenceBatches, String augment) {
        Map<String, String> labels = ResumePoint.labels(command, modelOption.model, modelOption.weights, run.data, run.seed);
        if (!run.resume) {
            // RunOptions.validate refused a fresh run over one already in --out (unless --overwrite)
            ModelSource src = modelOption.load(backend, data.train().sampleShape(), data.train().classes(), run.seed);
            if (run.overwrite) ExistingRun.clear(run.out); // now that the run can start: no old report beside the new run's model
            // channels-last images for an NCHW model are moved once, here (requireFits in load checked they can be)
            return run(command, src, src.arrange(data), recipe, run.seed, run.out, System.err, run.quiet, "model.shears", inferenceBatches,
                    new Control(labels, null, run.stopAfter, run.cudaGraphs, run.commandLine(), augment));
        }
        ResumePoint rp = ResumePoint.open(run.out, backend, labels, recipe);
        if (rp.complete()) {
            System.err.printf(Locale.ROOT, "shears %s --resume: the run in %s is already complete (%d of %s); nothing to do. Its report: %s%n",
                    command, run.out, rp.state().epoch(), Plural.of(rp.state().epochs(), "epoch"), run.out.resolve("report.html"));
            return new Outcome(null, null, false);
        }
        // the epoch sink stops at exactly stopAfter: one already saved would never come and the run would go on to the end
        if (run.stopAfter != null && run.stopAfter <= rp.state().epoch())
            throw new UserError("--stop-after-epoch " + run.stopAfter + " is not after epoch " + rp.state().epoch() + ", where the run in "
                    + run.out + " is saved; give a later epoch (up to " + rp.state().epochs() + ") or leave the option out to run to the end");
        // the model comes from the checkpoint; the --model file is only an input never to write over
        Path modelFile = Path.of(labels.get(ResumePoint.MODEL)).isAbsolute() ? Path.of(labels.get(ResumePoint.MODEL)) : null;
        ModelSource src = new ModelSource(rp.checkpoint().model(),
                rp.state().labels().getOrDefault(ResumePoint.DESCRIPTION, modelOption.model), modelFile, modelOption.weights);
        // The run's recipe, as this command line builds it (ResumePoint checked it writes the same YAML as the stored one):
        // the in-memory recipe, not the stored text parsed back, because the YAML does not carry every double exactly (a
        // cosine stretched by --epochs keeps its length as epochs * f, the parser derives it as endEpoch - startEpoch, which
        // can be one ulp away) and the learning rate of every step must be the uninterrupted run's to the last bit.
        return run(command, src, src.arrange(data), recipe, run.seed, run.out, System.err, run.quiet, "model.shears", inferenceBatches,
                new Control(labels, rp, run.stopAfter, run.cudaGraphs, run.commandLine(), augment));
    }

    static Outcome run(String command, ModelSource src, Split data, Recipe recipe, long seed, Path outDir,
                       PrintStream err, boolean quiet, String checkpointName) {
        return run(command, src, data, recipe, seed, outDir, err, quiet, checkpointName, new int[0],
                Control.fresh(Map.of(ResumePoint.COMMAND, command)));
    }

    /**
     * As above; when the final model has pruned weights and {@code inferenceBatches} is not empty,
     * also times it dense against its planned sparse form at those batch sizes (on the run's
     * backend, see {@link InferenceReport}) for the summary and the report.
     */
    static Outcome run(String command, ModelSource src, Split data, Recipe recipe, long seed, Path outDir,
                       PrintStream err, boolean quiet, String checkpointName, int[] inferenceBatches, Control control) {
        Model model = src.model();
        // a model without class names trained on an image folder takes the folders' names (sorted), which the checkpoint, the
        // report and exports keep; one that has names keeps them (ModelSource.arrange matched the data's labels to them)
        if (model.classNames().isEmpty() && !data.train().classNames().isEmpty()) model.setClassNames(data.train().classNames());
        Path[] inputs = src.inputs();
        Path ckpt = outDir.resolve(checkpointName);
        // the checkpoint is written after every epoch: refuse one over an input now, not after the first epoch's training
        src.refuseAsOutput(ckpt, "--out " + outDir + " holds the model file:");
        Progress progress = new Progress(err, quiet);
        // before --out is created: a recipe that does not fit the model (a params pattern matching nothing) left an empty folder behind
        if (control.augment() != null && recipe.augmentation() != null) {
            // the trainer checks the augmentation too, naming the recipe's field ("recipe dense: augmentation.crop"): the user gave a flag
            try {
                recipe.augmentation().requireFits(model.inputs().get(0).shape(), data.train().sampleShape(), data.train().name(),
                        "--augment " + control.augment());
            } catch (RecipeException e) {
                throw new UserError(e.getMessage());
            }
        }
        GmpTrainer trainer = new GmpTrainer(model, data.train(), data.test(), recipe, seed);
        Distillation distillation = recipe.distillation();
        Model teacher = null;
        if (distillation != null) {
            // a resumed run reads the copy its start wrote: the same teacher, whatever became of the file it came from
            teacher = control.resume() != null ? TeacherModel.resume(outDir, model.backend()) : TeacherModel.load(distillation, src, model.backend());
            try {
                trainer.distillFrom(teacher);
            } catch (IllegalArgumentException e) {
                throw new UserError("distillation teacher (" + distillation.teacher() + "): " + e.getMessage());
            }
        }
        Path created = prepareOutDir(outDir);
        if (teacher != null && control.resume() == null) {
            List<Path> protectedFiles = new ArrayList<>(List.of(inputs)); // never written over: the inputs, and a --teacher file
            if (distillation.teacher() instanceof Distillation.Teacher.ModelFile f) protectedFiles.add(Path.of(f.path()));
            TeacherModel.save(teacher, outDir, protectedFiles.toArray(Path[]::new));
        }
        removeLeftovers(outDir, err);
        if (control.cudaGraphs()) {
            trainer.useCudaGraphs(true);
            if (!trainer.cudaGraphsActive()) err.println("--cuda-graphs: ignored on the " + model.backend().kind() + " backend (CUDA only)");
        }
        String recipeText = RecipeWriter.toYaml(recipe);
        Map<String, String> labels = new LinkedHashMap<>(control.labels());
        labels.put(ResumePoint.DESCRIPTION, src.description());
        labels.put(ResumePoint.TRAIN_DATA, dataLabel(data.train()));
        labels.put(ResumePoint.TEST_DATA, dataLabel(data.test()));
        double earlier = 0; // seconds the run took before it was resumed
        if (control.resume() != null) {
            ResumePoint rp = control.resume();
            rp.checkData(labels);
            try {
                earlier = Double.parseDouble(rp.state().labels().getOrDefault(ResumePoint.SECONDS, "0"));
            } catch (NumberFormatException e) {
                earlier = 0;
            }
            try {
                trainer.resumeFrom(rp.state());
            } catch (IllegalArgumentException e) {
                throw new UserError("--resume: " + e.getMessage() + " (" + ckpt + "); start a new run without --resume in another --out folder");
            }
            progress.line(resumeLine(rp.state().epoch(), recipe.epochs(), ckpt));
        }
        long t0 = System.nanoTime();
        double before = earlier;
        AtomicReference<TrainingState> lastSaved = new AtomicReference<>(control.resume() == null ? null : control.resume().state());
        // a Ctrl-C or SIGTERM from the first epoch's start to the final save says where the run is saved and how to continue it
        Interruption interruption = new Interruption(ckpt, control.args(), control.resume() == null ? 0 : control.resume().state().epoch(), err, progress);
        trainer.saveEachEpoch(state -> {
            long s0 = System.nanoTime();
            labels.put(ResumePoint.SECONDS, Double.toString(before + (s0 - t0) / 1e9));
            TrainingState labelled = state.withLabels(labels);
            interruption.saving(state.epoch());
            new Checkpoint(model, recipeText, null, labelled).write(ckpt, inputs);
            lastSaved.set(labelled);
            interruption.saved(state.epoch());
            LOG.log(System.Logger.Level.DEBUG, () -> String.format(Locale.ROOT, "epoch %d saved in %s (%.1f ms)", state.epoch(), ckpt, (System.nanoTime() - s0) / 1e6));
        });
        trainer.addListener(new TrainingListener() {
            @Override public void epochStarted(int epoch, int epochs) { interruption.epochStarted(epoch, epochs); }

            @Override public void runStarted(RunInfo info) {
                progress.line(recipe.describe());
                progress.line(String.format(Locale.ROOT, "training %s on %s: %s, %s an epoch, %s",
                        builtFor(src), data.train().name(), Plural.of(info.trainSamples(), "sample"), Plural.of(info.stepsPerEpoch(), "step"),
                        info.optimizer()));
                if (!Double.isNaN(info.finalSparsityEpoch()))
                    progress.line(String.format(Locale.ROOT, "final sparsity %.1f%% is reached at epoch %s (step %d)",
                            100 * recipe.finalSparsity(), trim(info.finalSparsityEpoch()), info.finalSparsityStep()));
            }

            @Override public void distillationPrepared(String line) { progress.line(line); }

            @Override public void batchFinished(BatchProgress p) {
                progress.update(String.format(Locale.ROOT, "epoch %d/%d", p.epoch(), p.epochs()), p.batch(), p.batches(),
                        String.format(Locale.ROOT, "loss %.4f acc %.2f%% sparsity %.1f%% lr %.4g",
                                p.epochLoss(), 100 * p.epochAccuracy(), 100 * p.sparsity(), p.lr()));
            }

            @Override public void collapsed(CollapseWarning w) {
                // said even with --quiet: the run goes on, but its model is most likely useless
                String text = "warning: " + collapseAdvice(w);
                if (quiet) err.println(text);
                else progress.line(text);
            }

            @Override public void epochFinished(EpochMetrics m) {
                if (m.epoch() == 0) {
                    progress.line(String.format(Locale.ROOT, "before training: test accuracy %.2f%%, loss %.4f", 100 * m.testAccuracy(), m.testLoss()));
                    return;
                }
                // with distillation: the hard-label cross-entropy, then the soft-target term T^2 KL (before its weight)
                progress.line(String.format(Locale.ROOT, "epoch %d: train loss %.4f%s acc %.2f%% | test loss %.4f acc %.2f%% | sparsity %.2f%% (target %.2f%%) | %.1f s",
                        m.epoch(), m.trainLoss(), Double.isNaN(m.distillationLoss()) ? "" : String.format(Locale.ROOT, " distill %.4f", m.distillationLoss()),
                        100 * m.trainAccuracy(), m.testLoss(), 100 * m.testAccuracy(),
                        100 * m.sparsity(), 100 * m.targetSparsity(), m.seconds()));
                if (m.sparsity() > 0) {
                    StringBuilder layers = new StringBuilder("  per layer:");
                    m.layerSparsity().forEach((name, sp) -> layers.append(String.format(Locale.ROOT, " %s %.2f%%", name, 100 * sp)));
                    progress.line(layers.toString());
                }
                // after the epoch's line (the sink saved the epoch before the listeners heard of it)
                if (control.stopAfter() != null && m.epoch() == control.stopAfter() && m.epoch() < recipe.epochs())
                    throw new Paused(m.epoch(), recipe.epochs());
            }
        });
        try {
            TrainingHistory history;
            String stop = null;
            NonFiniteLossException failure = null;
            try {
                interruption.starting(recipe.epochs());
                history = trainer.run();
            } catch (Paused p) {
                // said even with --quiet: it is the outcome of the command, not progress (a script sees a pause, not a silent exit 0)
                err.println(String.format(Locale.ROOT, "stopped after epoch %d of %d as asked (--stop-after-epoch); the run is saved in %s:"
                        + " continue it with the same command and --resume", p.epoch, p.epochs, ckpt));
                return new Outcome(null, trainer.history(), true);
            } catch (NonFiniteLossException e) {
                failure = e;
                history = e.history();
                stop = e.getMessage();
                e.lastGoodSnapshot().restore(model);
            } catch (RuntimeException | Error e) {
                // failed before its first save (a device error in epoch 1): no folder left behind
                // holding only the teacher this start wrote, which nothing can resume
                removeFailedStart(outDir, created, teacher != null && control.resume() == null && lastSaved.get() == null);
                throw e;
            }
            double secs = earlier + (System.nanoTime() - t0) / 1e9;
            // the finished run keeps its history and labels (so --resume can say it is complete), not the optimizer state
            TrainingState done = failure != null || lastSaved.get() == null ? null : lastSaved.get().finished();
            RunReport report = report(command, src, data, recipe, seed, model, history, secs, ckpt, stop);
            if (history.collapse() != null) report = report.withWarnings(List.of(collapseAdvice(history.collapse())));
            if (distillation != null)
                report = report.withDistillation(new RunReport.Distillation(distillation.weight(), distillation.temperature(),
                        distillation.teacher().recipeName(), outDir.resolve(TeacherModel.FILE).toString(),
                        history.epochs().stream().filter(m -> m.epoch() > 0).map(EpochMetrics::distillationLoss).toList()));
            boolean timeInference = inferenceBatches.length > 0 && report.nonZeroPrunable() < report.prunableParameters();
            // on the run's own backend: the CPU, or CUDA (cuBLAS against cuSPARSE) when cuSPARSE loads
            if (timeInference && InferenceReport.timesInPlace(model))
                report = report.withInference(InferenceReport.measure(model, data.test(), inferenceBatches, progress));
            // what channel pruning buys: the thinned model against the final one, on the run's backend (no
            // section for a run whose pruning left no whole channel at zero, unless its recipe prunes channels)
            boolean channels = recipe.pruning().stream().anyMatch(m -> m.structure() instanceof ChannelStructure);
            if (report.nonZeroPrunable() < report.prunableParameters() || channels)
                report = report.withThinning(ThinningReport.measure(model, data.test(), inferenceBatches, progress, channels));
            new Checkpoint(model, recipeText, ReportWriter.JSON.valueToTree(report), done).write(ckpt, inputs);
            interruption.finished();
            if (timeInference && report.inference() == null) {
                // No sparse path where the model is (a CUDA run without cuSPARSE): time a CPU copy read
                // back from the checkpoint just written, then store the report with its figures in the
                // checkpoint too. The report names the CPU as where the figures are from.
                try (CpuBackend cpuBackend = CpuBackend.create()) {
                    Model copy = Checkpoint.read(ckpt, cpuBackend).model();
                    report = report.withInference(InferenceReport.measure(copy, data.test(), inferenceBatches, progress));
                }
                new Checkpoint(model, recipeText, ReportWriter.JSON.valueToTree(report), done).write(ckpt, inputs);
            }
            ReportWriter.writeJson(report, outDir.resolve("report.json"), inputs);
            ReportWriter.writeHtml(report, outDir.resolve("report.html"), inputs);
            if (failure != null)
                throw new RunStopped(failure.getMessage() + "; the last good state (epoch " + failure.lastGoodSnapshot().epoch()
                        + ") is saved in " + ckpt + "; lower the learning rate in the recipe and run again");
            return new Outcome(report, history, false);
        } finally {
            interruption.disarm(); // however the run ended: the command reports it from here
        }
    }

    /**
     * What {@code --resume} says of a checkpoint with {@code saved} epochs of {@code epochs}: the
     * epoch it goes on at, or, when training had finished but the final save had not happened
     * (an interruption between the two), that it writes the finished model ("resuming at epoch 31
     * of 30" said nothing true).
     */
    static String resumeLine(int saved, int epochs, Path ckpt) {
        String kept = (saved == 1 ? "epoch 1" : "epochs 1-" + saved) + " saved in " + ckpt;
        if (saved >= epochs)
            return String.format(Locale.ROOT, "training had finished (%s): writing the finished model", kept);
        return String.format(Locale.ROOT, "resuming at epoch %d of %d (%s)", saved + 1, epochs, kept);
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
        // per class, counted in the same two passes as before and after: the last epoch's counts only when it is the history's last
        ClassCounts perClassBefore = before == null ? null : h.initialPerClass();
        ClassCounts perClassAfter = last.epoch() == recipe.epochs() ? h.finalPerClass() : null;
        return new RunReport(command, Shears.version(), OffsetDateTime.now().truncatedTo(ChronoUnit.SECONDS).toString(),
                model.backend().name(), src.description(), data.train().name(), data.train().count(), data.test().count(),
                recipe.describe().replace("\n  ", "; "), seed, before, after,
                ModelSummary.sparsity(layers), recipe.finalSparsity(), recipe.finalSparsityEpoch().orElse(Double.NaN),
                ModelSummary.parameters(layers), ModelSummary.prunable(layers), ModelSummary.nonZero(layers),
                layers, rows, updates, secs, ckpt.toString(), stop, null, null, List.of(), null, augmentation(recipe.augmentation()),
                model.classNames(), ClassChange.rows(perClassBefore, perClassAfter, model.classNames()),
                ClassChange.note(perClassBefore, perClassAfter, before != null, stop, last.epoch(), recipe.epochs()));
    }

    /** The report's augmentation section, or null for a run without one. */
    private static RunReport.Augmentation augmentation(dev.shears.pruning.recipe.Augmentation a) {
        return a == null ? null : new RunReport.Augmentation(a.flip(), a.crop(), a.describe());
    }

    /** The collapse warning with what to do about it, for stderr (after "warning: ") and the report's warnings. */
    static String collapseAdvice(CollapseWarning w) {
        return w.describe() + "; stop it (Ctrl-C) and rerun with --lr " + CollapseWarning.rate(w.suggestedLr())
                + " (a tenth), or a recipe with lower rates";
    }

    /** Refuses an --out that is an existing file: createDirectories would only say the path. */
    static void refuseFile(Path outDir) {
        if (Files.exists(outDir) && !Files.isDirectory(outDir))
            throw new UserError("--out " + outDir + " is a file; --out takes a folder (it receives model.shears, report.json and report.html)");
    }

    /**
     * Creates {@code outDir} where it is missing and checks it can be written.
     *
     * @return the topmost folder this created ({@code outDir} or one above it), or null if it existed
     */
    static Path prepareOutDir(Path outDir) {
        refuseFile(outDir);
        Path created = null;
        for (Path p = outDir.toAbsolutePath().normalize(); p != null && !Files.exists(p); p = p.getParent()) created = p;
        try {
            Files.createDirectories(outDir);
        } catch (java.io.IOException e) {
            throw new UserError("--out " + outDir + ": cannot create the folder (" + dev.shears.core.util.AtomicFiles.reason(e) + ")");
        }
        if (!Files.isDirectory(outDir)) throw new UserError("--out " + outDir + " is not a folder");
        // the checkpoint is first written after a whole epoch of training: find out now that it cannot be
        OutputFile.requireWritableFolder(outDir, "--out " + outDir);
        return created;
    }

    /**
     * Removes the temporary files an interrupted save left in {@code outDir} (see
     * {@link dev.shears.core.util.AtomicFiles#leftovers}), saying so: the run is about to write these
     * outputs itself. They never confused --resume (it reads only model.shears), but a folder
     * holding {@code .model.shears.x1y2.tmp} looks as if a save had half happened.
     */
    static void removeLeftovers(Path outDir, PrintStream err) {
        for (String name : ExistingRun.OUTPUTS)
            for (Path tmp : dev.shears.core.util.AtomicFiles.leftovers(outDir.resolve(name))) {
                try {
                    Files.deleteIfExists(tmp);
                    err.println("removed " + tmp + ", a temporary file left by an interrupted save (" + outDir.resolve(name) + " is unaffected)");
                } catch (java.io.IOException e) {
                    err.println("warning: cannot remove " + tmp + ", a temporary file left by an interrupted save ("
                            + dev.shears.core.util.AtomicFiles.reason(e) + "); it is not used, remove it when you can");
                }
            }
    }

    /**
     * After a run failed before any epoch was saved: removes the teacher copy this start wrote
     * when {@code dropTeacher} (no saved epoch can need it), then the folders as {@link #removeIfEmpty}.
     */
    static void removeFailedStart(Path outDir, Path created, boolean dropTeacher) {
        if (dropTeacher) {
            try {
                Files.deleteIfExists(outDir.resolve(TeacherModel.FILE));
            } catch (java.io.IOException e) {
                return; // the folder stays, with the teacher in it: harmless
            }
        }
        removeIfEmpty(outDir, created);
    }

    /**
     * After a failed run: removes the folders {@link #prepareOutDir} created ({@code outDir} up to
     * {@code created}) that are still empty; a folder that was there before, or holds anything, stays.
     */
    static void removeIfEmpty(Path outDir, Path created) {
        if (created == null) return;
        for (Path p = outDir.toAbsolutePath().normalize(); p != null && p.startsWith(created); p = p.getParent()) {
            try {
                Files.delete(p); // refuses a folder that is not empty
            } catch (java.io.IOException e) {
                return;
            }
        }
    }

    /**
     * The model named in the "training ... on" line: a built-in architecture with the input and
     * output it was built for from the data (an image folder's channels and size, its number of
     * classes), which nothing else in the log says; a model file by its name.
     */
    static String builtFor(ModelSource src) {
        if (src.path() != null) return src.description();
        return src.description() + " (built for input " + src.model().inputs().get(0).shape() + ", " + src.model().outputShape().size() + " classes)";
    }

    static String trim(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : String.format(Locale.ROOT, "%.2f", v);
    }

    private static String dataLabel(dev.shears.core.data.Dataset d) { return d.name() + " (" + d.count() + " samples)"; }

    /** Thrown by the epoch sink to stop a run after a saved epoch (--stop-after-epoch). */
    private static final class Paused extends RuntimeException {
        final int epoch, epochs;
        Paused(int epoch, int epochs) {
            super("stopped after epoch " + epoch, null, false, false);
            this.epoch = epoch;
            this.epochs = epochs;
        }
    }

    /** A run stopped early (NaN loss); its partial outputs were written. */
    static final class RunStopped extends RuntimeException {
        RunStopped(String message) { super(message); }
    }
}
