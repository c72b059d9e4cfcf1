package dev.shears.cli;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Path;

/** What train and prune share besides the model: data, seed, output folder, quiet, resuming. */
final class RunOptions {
    @Option(names = "--data", defaultValue = "fashion-mnist", description = "fashion-mnist, a .npz file of x_train, y_train, x_test, y_test, a folder of IDX or .npy files, or a folder of image class folders (DIR/train/CLASS/*.png and DIR/test/CLASS/*.png or val/; PNG, JPEG, BMP, GIF). Default: ${DEFAULT-VALUE}.")
    String data;

    @Option(names = "--seed", defaultValue = "42", description = "Seed of initialisation, shuffling and dropout. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--out", required = true, description = "Output folder: model.shears, report.json, report.html.")
    Path out;

    @Option(names = "--quiet", description = "No progress output.")
    boolean quiet;

    @Option(names = "--resume", description = "Continue the run saved in --out (model.shears is saved after every epoch) from its last saved epoch,"
            + " exactly as if it had not stopped. Give the command line that started it; a run that has finished is left as it is.")
    boolean resume;

    @Option(names = "--overwrite", description = "Replace the run already in --out (model.shears, report.json, report.html);"
            + " without it a fresh run into a folder holding one is refused.")
    boolean overwrite;

    @Option(names = "--stop-after-epoch", paramLabel = "E", description = "Save the run after epoch E and stop; continue it later with --resume.")
    Integer stopAfter;

    @Option(names = "--cuda-graphs", description = "CUDA backend: capture the training step once as a CUDA graph and replay it"
            + " (one launch a step; the same results bit for bit). Off by default until measured on a GPU; also -Dshears.cudaGraphs=true."
            + " Ignored on the CPU backend.")
    boolean cudaGraphs;

    /** The command this mixin is in: for its command line as typed. */
    @Spec(Spec.Target.MIXEE) CommandSpec command;

    /** The command line as given (after "shears"): what an interrupted run tells the user to type again ({@link Interruption}). */
    java.util.List<String> commandLine() { return command.root().commandLine().getParseResult().originalArgs(); }

    /**
     * The --data sets, with the decoding bar of an image folder and what a Ctrl-C while they load says
     * ({@link Interruption#forLoading}: with --resume, that the run saved in --out is untouched).
     */
    dev.shears.core.data.Split loadData() {
        Progress bar = new Progress(System.err, quiet);
        return DecodeLine.load(data, bar, Interruption.forLoading(resume ? out.resolve("model.shears") : null, commandLine(), System.err, bar));
    }

    /**
     * Checks the options and the ones of {@code model} that read nothing; call before the data and
     * the model load, so that a mistyped path fails at once, not after them.
     */
    void validate(int epochs, ModelOption model) {
        if (stopAfter != null && (stopAfter < 1 || stopAfter > epochs))
            throw new UserError("--stop-after-epoch " + stopAfter + " must be between 1 and the run's " + Plural.of(epochs, "epoch"));
        if (resume && overwrite)
            throw new UserError("--resume continues the run in --out " + out + " and --overwrite replaces it: give one of them");
        requireOutFolder(out); // before the data and the model load, not after the first epoch
        // model.shears is rewritten after every epoch; RunSupport.run checks again against the files the model came from
        model.refuseAsOutput(out.resolve("model.shears"), "--out " + out + " holds the model file:");
        // a fresh run rewrites model.shears after its first epoch and the reports at the end: never silently over a run
        if (!resume) ExistingRun.refuse("--out " + out, out, overwrite, true);
        if (!resume) model.check(true); // a resumed run's model comes from --out, the --model file only labels it
    }

    /**
     * Refuses an --out that is a file or a folder that cannot be written (creating nothing); train, prune
     * and demo call it before the data loads, so a bad --out fails at once, not after an epoch.
     */
    static void requireOutFolder(Path out) {
        RunSupport.refuseFile(out);
        OutputFile.requireWritableFolder(out, "--out " + out);
    }
}
