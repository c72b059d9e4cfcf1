package dev.shears.cli;

import dev.shears.core.backend.Backend;
import dev.shears.core.data.DataSources;
import dev.shears.core.data.Split;
import dev.shears.pruning.recipe.Recipe;
import dev.shears.pruning.recipe.RecipeParser;
import dev.shears.pruning.recipe.Recipes;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code shears train --model ARCH|FILE --data DATA --epochs N --out DIR}: dense training. */
@Command(name = "train", description = "Train a model densely (a built-in architecture or an imported file).")
final class TrainCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--model", required = true, description = "Architecture (lenet-300-100, lenet-5, mnist-cnn) or model file.")
    String model;

    @Option(names = "--weights", description = "Weights HDF5 for a Keras config .json.")
    Path weights;

    @Option(names = "--data", defaultValue = "fashion-mnist", description = "fashion-mnist or a folder of IDX files. Default: ${DEFAULT-VALUE}.")
    String data;

    @Option(names = "--epochs", defaultValue = "20", description = "Epochs. Default: ${DEFAULT-VALUE}.")
    int epochs;

    @Option(names = "--lr", defaultValue = "0.05", description = "Initial learning rate (SGD, Nesterov momentum 0.9, cosine decay). Default: ${DEFAULT-VALUE}.")
    double lr;

    @Option(names = "--batch", defaultValue = "128", description = "Batch size. Default: ${DEFAULT-VALUE}.")
    int batch;

    @Option(names = "--recipe", description = "A recipe (YAML file or built-in name) instead of the default dense schedule.")
    String recipe;

    @Option(names = "--seed", defaultValue = "42", description = "Seed of initialisation, shuffling and dropout. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--out", required = true, description = "Output folder: model.shears, report.json, report.html.")
    Path out;

    @Option(names = "--quiet", description = "No progress output.")
    boolean quiet;

    @Mixin BackendOption backendOption;

    @Override public Integer call() {
        if (epochs < 1) throw new UserError("--epochs " + epochs + " must be at least 1");
        Split split = DataSources.load(data);
        Recipe r = recipe != null ? Recipes.load(recipe).withEpochs(epochs) : denseRecipe(epochs, lr, batch);
        try (Backend be = backendOption.open(System.err)) {
            ModelSource src = ModelSource.load(model, weights, be, split.train().sampleShape(), split.train().classes(), seed);
            var outcome = RunSupport.run("train", src, split, r, seed, out, System.err, quiet, "model.shears");
            Summary.print(spec.commandLine().getOut(), outcome.report(), out);
            return 0;
        }
    }

    /** SGD with Nesterov momentum 0.9 and a cosine decay of the learning rate over all epochs. */
    static Recipe denseRecipe(int epochs, double lr, int batch) {
        String yaml = String.format(Locale.ROOT, """
                name: dense
                description: "dense training: SGD (Nesterov 0.9, weight decay 1e-4), lr %s with cosine decay over %d epochs"
                epochs: %d
                batchSize: %d
                optimizer: {type: sgd, momentum: 0.9, nesterov: true, weightDecay: 0.0001}
                learningRate:
                  - {type: cosine, initial: %s, minimum: %s, startEpoch: 0, endEpoch: %d}
                """, lr, epochs, epochs, batch, lr, lr / 50, epochs);
        return RecipeParser.parse(yaml, "the dense training schedule", "dense");
    }
}
