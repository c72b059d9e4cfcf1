package dev.shears.cli;

import dev.shears.pruning.recipe.Recipe;
import dev.shears.pruning.recipe.Recipes;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;

/** {@code shears recipes [NAME|FILE]}: list the built-in recipes, or print one (YAML) / check a file. */
@Command(name = "recipes", description = "List the built-in recipes; with a name, print its YAML (a starting point for your own); with a file, check it.")
final class RecipesCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(index = "0", arity = "0..1", description = "A built-in recipe name, or a recipe YAML file to validate.")
    String recipe;

    @Override public Integer call() {
        var out = spec.commandLine().getOut();
        if (recipe == null) {
            for (String name : Recipes.builtInNames()) {
                Recipe r = Recipes.builtIn(name);
                out.printf("%-10s %s%n", name, r.description());
            }
            out.println("(shears recipes NAME prints one as YAML; shears prune --recipe NAME|FILE runs it)");
        } else if (Recipes.builtInNames().contains(recipe)) {
            out.print(Recipes.builtInText(recipe));
            out.flush();
        } else {
            Recipe r = Recipes.load(recipe); // parses and validates; errors name the field and value
            out.println(recipe + ": valid");
            out.println(r.describe());
            // a teacher file is read when the run starts, from where the command runs: say now if it is not there
            if (r.distillation() != null && r.distillation().teacher() instanceof dev.shears.pruning.recipe.Distillation.Teacher.ModelFile f
                    && !java.nio.file.Files.isRegularFile(java.nio.file.Path.of(f.path())))
                out.println("note: distillation.teacher " + f.path() + " does not exist here; a run from this folder would refuse it (or give --teacher FILE)");
        }
        return 0;
    }
}
