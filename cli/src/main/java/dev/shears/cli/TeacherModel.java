package dev.shears.cli;

import dev.shears.core.backend.Backend;
import dev.shears.core.nn.Model;
import dev.shears.pruning.checkpoint.Checkpoint;
import dev.shears.pruning.checkpoint.CheckpointException;
import dev.shears.pruning.recipe.Distillation;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The teacher of a knowledge-distillation run (the recipe's {@link Distillation}): read when a
 * fresh run starts (the model the run starts from, read again from its file as a separate copy, or
 * the teacher's own model file) and written once into the output folder as {@value #FILE}
 * (atomically, like model.shears), where {@code --resume} reads it back: a resumed run goes on with
 * the very teacher it started with, whatever has happened to the file it came from since.
 */
final class TeacherModel {
    private TeacherModel() {}

    /** The teacher's copy in the output folder. */
    static final String FILE = "teacher.shears";

    /**
     * The teacher for a fresh run, bound to {@code backend}.
     *
     * @param src the model the run starts from
     * @throws UserError when the teacher is the start model but that is a freshly initialised
     *                   architecture, or the teacher file cannot be read
     */
    static Model load(Distillation d, ModelSource src, Backend backend) {
        return switch (d.teacher()) {
            case Distillation.Teacher.Start s -> {
                if (src.path() == null)
                    throw new UserError("distillation: the teacher 'start' (--distill) is the model the run starts from, but " + src.description()
                            + " is a freshly initialised architecture, whose predictions teach nothing; give --teacher FILE (a trained model),"
                            + " or --model a trained model file");
                yield ModelSource.load(src.path().toString(), src.weights(), backend, null, 0, 0).model();
            }
            case Distillation.Teacher.ModelFile f -> {
                Path p = Path.of(f.path());
                if (!Files.isRegularFile(p))
                    throw new UserError("distillation teacher " + p + ": no such file; give the teacher's model file (.shears, .h5, .keras, .onnx) with --teacher"
                            + " or the recipe's distillation.teacher");
                try {
                    yield ModelSource.load(f.path(), null, backend, null, 0, 0).model();
                } catch (UserError | CheckpointException e) {
                    throw new UserError("distillation teacher " + p + ": " + e.getMessage());
                }
            }
        };
    }

    /** Writes the teacher into {@code outDir} (once, when a fresh run starts), never over one of {@code inputs}. */
    static Path save(Model teacher, Path outDir, Path... inputs) {
        Path file = outDir.resolve(FILE);
        new Checkpoint(teacher, null, null).write(file, inputs);
        return file;
    }

    /** The teacher a resumed run started with, from {@code outDir}. */
    static Model resume(Path outDir, Backend backend) {
        Path file = outDir.resolve(FILE);
        if (!Files.isRegularFile(file))
            throw new UserError("--resume: the run in " + outDir + " distils from a teacher, but its copy " + file + " is missing; restore it,"
                    + " or start a new run without --resume in another --out folder");
        try {
            return Checkpoint.read(file, backend).model();
        } catch (CheckpointException e) {
            throw new UserError("--resume: the teacher " + file + ": " + e.getMessage() + "; start a new run without --resume in another --out folder");
        }
    }
}
