package dev.shears.cli;

import dev.shears.core.backend.Backend;
import dev.shears.core.data.DataSources;
import dev.shears.core.data.Split;
import dev.shears.pruning.recipe.Recipe;
import dev.shears.pruning.recipe.Recipes;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code shears demo}: zero set-up. Trains LeNet-300-100 densely on Fashion-MNIST, then prunes it
 * with the short demo recipe (to 90%), and prints dense against pruned accuracy.
 */
@Command(name = "demo", description = "Train LeNet-300-100 on Fashion-MNIST, prune it to 90%% with GMP, report (no set-up needed).")
final class DemoCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--epochs", description = "Stretch the pruning phase (the demo recipe: 12 epochs, GMP to 90%% by epoch 7, fine-tuning) to this many; 6 dense epochs come first.")
    Integer epochs;

    @Option(names = "--data", defaultValue = "fashion-mnist", description = "fashion-mnist, a .npz file of x_train, y_train, x_test, y_test, a folder of IDX or .npy files, or a folder of image class folders (DIR/train/CLASS/*.png and DIR/test/CLASS/*.png or val/; PNG, JPEG, BMP, GIF). Default: ${DEFAULT-VALUE}.")
    String data;

    @Option(names = "--out", defaultValue = "shears-out/demo", description = "Output folder. Default: ${DEFAULT-VALUE}, or the next free ${DEFAULT-VALUE}-2, -3, ... when it holds an earlier demo.")
    Path out;

    @Option(names = "--seed", defaultValue = "42", description = "Seed. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--overwrite", description = "Replace the demo run already in --out (and its dense/ model); without it a demo into a folder holding a run is refused.")
    boolean overwrite;

    @Option(names = "--quiet", description = "No progress output.")
    boolean quiet;

    @Mixin LearningRateOption lr;

    @Mixin AugmentOption augment;

    @Mixin BackendOption backendOption;

    @Mixin InferenceOption inference;

    /** Dense epochs before pruning (the built-in dense recipe, shortened). */
    static final int DENSE_EPOCHS = 6;

    /**
     * {@code base} when neither it nor its {@code dense/} holds a run, else the first of
     * {@code base-2}, {@code base-3}, ... that does not.
     */
    static Path nextFree(Path base) {
        Path p = base;
        for (int i = 2; holdsRun(p); i++) p = base.resolveSibling(base.getFileName() + "-" + i);
        return p;
    }

    private static boolean holdsRun(Path dir) {
        return !ExistingRun.outputsIn(dir).isEmpty() || !ExistingRun.outputsIn(dir.resolve("dense")).isEmpty()
                || (Files.exists(dir) && !Files.isDirectory(dir));
    }

    @Override public Integer call() {
        long t0 = System.nanoTime();
        int[] inferenceBatches = inference.batches();
        Recipe recipe = Recipes.builtIn("demo");
        if (epochs != null) {
            if (epochs < 2) throw new UserError("--epochs " + epochs + " must be at least 2");
            recipe = recipe.withEpochs(epochs);
        }
        // --lr: both phases start at X (the dense phase's recipe and the pruning one, each keeping its shape)
        recipe = augment.apply(lr.apply(recipe));
        // --augment: both phases too (the dense phase trains the model the pruning starts from)
        Recipe denseRecipe = augment.apply(lr.apply(Recipes.builtIn("dense").withEpochs(DENSE_EPOCHS)));
        // the demo writes out/dense/ and then out/: never silently over an earlier run there. Without --out, a
        // second 'shears demo' goes to the next free shears-out/demo-N (as ML tools number their runs) instead of
        // failing the README's one command; an --out the user chose is refused as for train and prune
        if (!overwrite && !spec.commandLine().getParseResult().hasMatchedOption("--out")) {
            Path free = nextFree(out);
            if (!free.equals(out))
                System.err.println("demo: " + out + " holds an earlier demo; writing this one to " + free
                        + " (--out DIR to choose the folder, --overwrite to replace " + out + ")");
            out = free;
        }
        RunOptions.requireOutFolder(out); // before the data loads and the dense phase trains, as train and prune do
        ExistingRun.refuse("--out " + out, out, overwrite, false);
        ExistingRun.refuse("--out " + out + ": its dense model folder " + out.resolve("dense"), out.resolve("dense"), overwrite, false);
        Progress bar = new Progress(System.err, quiet);
        Split split = DecodeLine.load(data, bar, Interruption.forLoading(null, null, System.err, bar));
        var err = System.err;
        var stdout = spec.commandLine().getOut();
        err.println("demo: " + split.train().name() + " (" + split.train().count() + " train, " + split.test().count() + " test images)"
                + (data.equals(DataSources.FASHION_MNIST) && split.train().count() < 60000 ? "; for the full set: apt-get install dataset-fashion-mnist" : ""));
        try (Backend be = backendOption.open(err)) {
            if (overwrite) {
                ExistingRun.clear(out.resolve("dense"));
                ExistingRun.clear(out);
            }
            err.println("demo: phase 1 of 2: dense training of lenet-300-100 for " + DENSE_EPOCHS + " epochs");
            ModelSource fresh = ModelSource.load("lenet-300-100", null, be, split.train().sampleShape(), split.train().classes(), seed);
            RunSupport.run("train", fresh, split, denseRecipe, seed, out.resolve("dense"), err, quiet, "model.shears", new int[0],
                    RunSupport.Control.fresh(Map.of(ResumePoint.COMMAND, "train")).withAugment(augment.given()));
            err.println("demo: phase 2 of 2: gradual magnitude pruning with the built-in recipe \"" + recipe.name() + "\"");
            ModelSource dense = new ModelSource(fresh.model(), "lenet-300-100 (dense, " + DENSE_EPOCHS + " epochs)", null, null);
            RunSupport.Outcome p = RunSupport.run("demo", dense, split, recipe, seed, out, err, quiet, "model.shears",
                    inferenceBatches, RunSupport.Control.fresh(ResumePoint.labels("demo", "lenet-300-100", null, data, seed)).withAugment(augment.given()));
            stdout.println();
            stdout.printf(Locale.ROOT, "Shears demo: lenet-300-100 on %s, %s%n", split.train().name(), be.name());
            stdout.printf(Locale.ROOT, "dense model:     %d epochs, saved as %s%n", DENSE_EPOCHS, out.resolve("dense").resolve("model.shears"));
            Summary.print(stdout, p.report(), out);
            stdout.printf(Locale.ROOT, "demo finished in %.1f s%n", (System.nanoTime() - t0) / 1e9);
            return 0;
        }
    }
}
