package dev.shears.cli;

import dev.shears.pruning.recipe.Distillation;
import dev.shears.pruning.recipe.Recipe;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code --distill} and {@code --teacher FILE}, on train and prune: knowledge distillation
 * ({@link Distillation}). How they combine with a recipe's {@code distillation:} block: the flags
 * turn it on where the recipe has none (weight 0.5, temperature 2); where it has one they keep its
 * weight and temperature, and {@code --teacher} replaces its teacher. Without either flag the
 * recipe decides. Applied after --epochs and --lr.
 */
final class DistillOption {
    @Option(names = "--distill", description = "Knowledge distillation from the model the run starts from (frozen, in inference mode):"
            + " loss (1 - a) CE + a T^2 KL(teacher || student), a = 0.5, T = 2 unless the recipe's distillation block says otherwise.")
    boolean distill;

    @Option(names = "--teacher", paramLabel = "FILE", description = "Distil from this model file instead (implies --distill);"
            + " its input and output shapes must be the model's. Kept in --out as teacher.shears for --resume.")
    Path teacher;

    /** {@code r} with the distillation the flags ask for; {@code resume}: the teacher file need not exist (the run kept its copy). */
    Recipe apply(Recipe r, boolean resume) {
        if (!distill && teacher == null) return r;
        Distillation d = r.distillation() != null ? r.distillation() : Distillation.DEFAULTS;
        if (teacher != null) {
            if (!resume && !Files.isRegularFile(teacher))
                throw new UserError("--teacher " + teacher + ": no such file; give the teacher's model file (.shears, .h5, .keras, .onnx)");
            // absolute, so that the recipe stored with the run names the same file wherever --resume is run from
            d = new Distillation(d.weight(), d.temperature(), new Distillation.Teacher.ModelFile(teacher.toAbsolutePath().normalize().toString()));
        }
        return r.withDistillation(d);
    }
}
