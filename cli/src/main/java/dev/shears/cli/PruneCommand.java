package dev.shears.cli;

import dev.shears.core.backend.Backend;
import dev.shears.core.data.DataSources;
import dev.shears.core.data.Split;
import dev.shears.pruning.recipe.NmStructure;
import dev.shears.pruning.recipe.Recipe;
import dev.shears.pruning.recipe.RecipeException;
import dev.shears.pruning.recipe.Recipes;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;

/** {@code shears prune --model FILE --data DATA (--recipe FILE | --sparsity S | --structure N:M) [--epochs N] --out DIR [--resume]}. */
@Command(name = "prune", description = "Prune a model with gradual magnitude pruning: a recipe, or the tuned GMP recipe at a given sparsity.")
final class PruneCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Mixin ModelOption modelOption;

    @ArgGroup(exclusive = true, multiplicity = "1")
    What what;

    static final class What {
        @Option(names = "--recipe", description = "A recipe YAML file or a built-in recipe name (gmp-tuned, gmp-seed, gmp-2of4, demo, dense).")
        String recipe;

        @Option(names = "--sparsity", description = "Final sparsity in [0, 1) with the tuned GMP recipe (gmp-tuned: cubic, global scope, 60 epochs; see --epochs).")
        Double sparsity;

        @Option(names = "--structure", paramLabel = "N:M", description = "N:M structured pruning with the built-in gmp-2of4 recipe (e.g. 2:4, what sparse tensor cores run):"
                + " each group of M inputs (Conv2D: input channels at each output and kernel position, NVIDIA's grouping) keeps its N largest; final sparsity 1 - N/M, reached at epoch 10 of 30 (see --epochs).")
        String structure;
    }

    @Option(names = "--epochs", description = "Stretch or squeeze the recipe to this many epochs.")
    Integer epochs;

    @Mixin RunOptions run;

    @Mixin BackendOption backendOption;

    @Mixin InferenceOption inference;

    @Override public Integer call() {
        Recipe r;
        if (what.recipe != null) {
            r = Recipes.load(what.recipe);
        } else if (what.structure != null) {
            NmStructure nm;
            try {
                nm = NmStructure.parse(what.structure);
            } catch (RecipeException e) {
                throw new UserError("--structure " + e.getMessage().replaceFirst("^structure = ", ""));
            }
            r = Recipes.builtIn("gmp-2of4").withStructure(nm);
        } else {
            double s = what.sparsity;
            if (!(s >= 0 && s < 1)) throw new UserError("--sparsity " + s + " must be in [0, 1)");
            r = Recipes.builtIn("gmp-tuned").withFinalSparsity(s);
        }
        if (epochs != null) {
            if (epochs < 1) throw new UserError("--epochs " + epochs + " must be at least 1");
            r = r.withEpochs(epochs);
        }
        run.validate(r.epochs(), modelOption);
        Split split = DataSources.load(run.data);
        try (Backend be = backendOption.open(System.err)) {
            var outcome = RunSupport.start("prune", modelOption, split, r, run, be, inference.batches());
            if (outcome.report() != null) Summary.print(spec.commandLine().getOut(), outcome.report(), run.out);
            return 0;
        }
    }
}
