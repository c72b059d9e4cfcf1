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

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code shears demo}: zero set-up. Trains LeNet-300-100 densely on Fashion-MNIST, then prunes it
 * with the short demo recipe (to 90%), and prints dense against pruned accuracy.
 */
@Command(name = "demo", description = "Train LeNet-300-100 on Fashion-MNIST, prune it to 90% with GMP, report (no set-up needed).")
final class DemoCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--epochs", description = "Stretch the demo recipe (20 epochs: 6 dense, GMP to 90% by epoch 14, fine-tuning) to this many.")
    Integer epochs;

    @Option(names = "--data", defaultValue = "fashion-mnist", description = "fashion-mnist or a folder of IDX files. Default: ${DEFAULT-VALUE}.")
    String data;

    @Option(names = "--out", defaultValue = "shears-out/demo", description = "Output folder. Default: ${DEFAULT-VALUE}.")
    Path out;

    @Option(names = "--seed", defaultValue = "42", description = "Seed. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--quiet", description = "No progress output.")
    boolean quiet;

    @Mixin BackendOption backendOption;

    @Override public Integer call() {
        long t0 = System.nanoTime();
        Recipe recipe = Recipes.builtIn("demo");
        if (epochs != null) {
            if (epochs < 2) throw new UserError("--epochs " + epochs + " must be at least 2");
            recipe = recipe.withEpochs(epochs);
        }
        Split split = DataSources.load(data);
        var err = System.err;
        var stdout = spec.commandLine().getOut();
        err.println("demo: " + split.train().name() + " (" + split.train().count() + " train, " + split.test().count() + " test images)"
                + (split.train().count() < 60000 ? "; for the full set: apt-get install dataset-fashion-mnist" : ""));
        try (Backend be = backendOption.open(err)) {
            // One run of the demo recipe from scratch: dense epochs first (their accuracy, measured just
            // before the first mask update, is the dense reference), then GMP to 90%, then fine-tuning.
            ModelSource src = ModelSource.load("lenet-300-100", null, be, split.train().sampleShape(), split.train().classes(), seed);
            RunSupport.Outcome p = RunSupport.run("demo", src, split, recipe, seed, out, err, quiet, "model.shears");
            stdout.println();
            stdout.printf(Locale.ROOT, "Shears demo: lenet-300-100 on %s, %s%n", split.train().name(), be.name());
            Summary.print(stdout, p.report(), out);
            stdout.printf(Locale.ROOT, "demo finished in %.1f s%n", (System.nanoTime() - t0) / 1e9);
            return 0;
        }
    }
}
