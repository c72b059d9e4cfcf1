package dev.shears.cli;

import dev.shears.core.backend.Backend;
import dev.shears.core.data.Split;
import dev.shears.pruning.recipe.BlockStructure;
import dev.shears.pruning.recipe.ChannelStructure;
import dev.shears.pruning.recipe.NmStructure;
import dev.shears.pruning.recipe.Structure;
import dev.shears.pruning.recipe.Recipe;
import dev.shears.pruning.recipe.RecipeException;
import dev.shears.pruning.recipe.Recipes;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;

/** {@code shears prune --model FILE --data DATA (--recipe FILE | --sparsity S | --structure N:M | --structure channels|block:RxC [--sparsity S]) [--epochs N] [--lr X] [--distill | --teacher FILE] [--augment [SPEC]] --out DIR [--resume]}. */
@Command(name = "prune", description = "Prune a model with gradual magnitude pruning: a recipe, or the tuned GMP recipe at a given sparsity.")
final class PruneCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Mixin ModelOption modelOption;

    @ArgGroup(exclusive = true, multiplicity = "1")
    What what;

    static final class What {
        @Option(names = "--recipe", description = "A recipe YAML file or a built-in recipe name (gmp-tuned, gmp-seed, gmp-2of4, gmp-channels, gmp-blocks, demo, dense).")
        String recipe;

        /** --sparsity and --structure go together for channels and blocks; N:M implies its own sparsity (checked in call). */
        @ArgGroup(exclusive = false, multiplicity = "1")
        Target target;
    }

    static final class Target {
        @Option(names = "--sparsity", description = "Final sparsity in [0, 1) with the tuned GMP recipe (gmp-tuned: cubic, global scope, 60 epochs; see --epochs);"
                + " with --structure channels, the fraction of each layer's output channels removed; with --structure block:RxC, of each layer's blocks.")
        Double sparsity;

        @Option(names = "--structure", paramLabel = "N:M|channels|block:RxC", description = "N:M structured pruning with the built-in gmp-2of4 recipe (e.g. 2:4, what sparse tensor cores run):"
                + " each group of M inputs (Conv2D: input channels at each output and kernel position, NVIDIA's grouping) keeps its N largest; final sparsity 1 - N/M, reached at epoch 10 of 30 (see --epochs)."
                + " Or channels: the built-in gmp-channels recipe removes whole output channels (smallest L1 norm) from every layer but the output one, --sparsity of them (default 0.5);"
                + " export --thin then writes the smaller dense model."
                + " Or block:RxC (R, C powers of two up to 64, e.g. block:4x4, block:16x16): the built-in gmp-blocks recipe removes whole R x C blocks"
                + " (smallest mean |w|) of every layer's GEMM matrix, --sparsity of them (default 0.8); eval --sparse then tries Blocked-ELL with that block.")
        String structure;
    }

    @Option(names = "--epochs", description = "Stretch or squeeze the recipe to this many epochs.")
    Integer epochs;

    @Mixin LearningRateOption lr;

    @Mixin DistillOption distill;

    @Mixin AugmentOption augment;

    @Mixin RunOptions run;

    @Mixin BackendOption backendOption;

    @Mixin InferenceOption inference;

    @Override public Integer call() {
        Recipe r;
        if (what.recipe != null) {
            r = Recipes.load(what.recipe);
        } else {
            Double s = what.target.sparsity;
            if (s != null && !(s >= 0 && s < 1)) throw new UserError("--sparsity " + s + " must be in [0, 1)");
            Structure structure = null;
            if (what.target.structure != null) {
                try {
                    structure = Structure.parse(what.target.structure);
                } catch (RecipeException e) {
                    throw new UserError("--structure " + e.getMessage().replaceFirst("^structure = ", ""));
                }
            }
            r = switch (structure) {
                case null -> Recipes.builtIn("gmp-tuned").withFinalSparsity(s);
                case ChannelStructure c -> s == null ? Recipes.builtIn("gmp-channels") : Recipes.builtIn("gmp-channels").withFinalSparsity(s);
                case BlockStructure b -> {
                    Recipe blocks = Recipes.builtIn("gmp-blocks").withStructure(b);
                    yield s == null ? blocks : blocks.withFinalSparsity(s);
                }
                case NmStructure nm -> {
                    if (s != null)
                        throw new CommandLine.ParameterException(spec.commandLine(), "--sparsity and --structure " + nm + " are mutually exclusive: "
                                + nm + " means sparsity 1 - " + nm.n() + "/" + nm.m() + " = " + nm.sparsity() + " (--sparsity goes with --structure channels or block:RxC)");
                    yield Recipes.builtIn("gmp-2of4").withStructure(nm);
                }
            };
        }
        if (epochs != null) {
            if (epochs < 1) throw new UserError("--epochs " + epochs + " must be at least 1");
            r = r.withEpochs(epochs);
        }
        r = augment.apply(distill.apply(lr.apply(r), run.resume));
        run.validate(r.epochs(), modelOption);
        if (run.resume) ResumePoint.checkRecipeBeforeData("prune", run.out, r); // a wrong flag is said before the data decodes, not after
        Split split = run.loadData();
        try (Backend be = backendOption.open(System.err)) {
            var outcome = RunSupport.start("prune", modelOption, split, r, run, be, inference.batches(), augment.given());
            if (outcome.report() != null) Summary.print(spec.commandLine().getOut(), outcome.report(), run.out);
            return 0;
        }
    }
}
