package dev.shears.cli;

import dev.shears.core.backend.Backend;
import dev.shears.core.data.Split;
import dev.shears.pruning.recipe.Recipe;
import dev.shears.pruning.recipe.Recipes;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;

/** {@code shears train --model ARCH|FILE --data DATA --epochs N [--lr X] [--distill | --teacher FILE] [--augment [SPEC]] --out DIR [--resume]}: dense training. */
@Command(name = "train", description = "Train a model (a built-in architecture or an imported file): densely by default; a --recipe with pruning prunes as it trains.")
final class TrainCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Mixin ModelOption modelOption;

    @Option(names = "--epochs", defaultValue = "20", description = "Epochs. Default: ${DEFAULT-VALUE}.")
    int epochs;

    @Option(names = "--recipe", defaultValue = "dense", description = "A recipe (YAML file or built-in name), stretched to --epochs. "
            + "Default: ${DEFAULT-VALUE} (SGD, Nesterov momentum 0.9, weight decay 1e-4, cosine decay of the learning rate from 0.05).")
    String recipe;

    @Mixin LearningRateOption lr;

    @Mixin DistillOption distill;

    @Mixin AugmentOption augment;

    @Mixin RunOptions run;

    @Mixin BackendOption backendOption;

    @Override public Integer call() {
        if (epochs < 1) throw new UserError("--epochs " + epochs + " must be at least 1");
        Recipe r = augment.apply(distill.apply(lr.apply(Recipes.load(recipe).withEpochs(epochs)), run.resume));
        run.validate(r.epochs(), modelOption);
        if (run.resume) ResumePoint.checkRecipeBeforeData("train", run.out, r); // a wrong flag is said before the data decodes, not after
        Split split = run.loadData();
        try (Backend be = backendOption.open(System.err)) {
            var outcome = RunSupport.start("train", modelOption, split, r, run, be, new int[0], augment.given());
            if (outcome.report() != null) Summary.print(spec.commandLine().getOut(), outcome.report(), run.out);
            return 0;
        }
    }
}
