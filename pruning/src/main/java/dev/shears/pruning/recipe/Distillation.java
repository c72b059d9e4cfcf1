package dev.shears.pruning.recipe;

/**
 * Knowledge distillation during the run (Hinton, Vinyals and Dean 2015, "Distilling the Knowledge
 * in a Neural Network", arXiv:1503.02531): the training loss becomes
 * {@code (1 - weight) * CE(y, s) + weight * T^2 * KL(softmax(t/T) || softmax(s/T))}, s the
 * student's logits and t those of a frozen teacher run in inference mode on the same batch.
 * SparseML's GMP recipes distil from the dense model the pruning starts from, the default here.
 *
 * @param weight      a, the soft-target share of the loss, in (0, 1] (1: no hard labels)
 * @param temperature T, at least {@link #MIN_TEMPERATURE}: softens both distributions (T = 1: plain softmax)
 * @param teacher     which model teaches
 */
public record Distillation(double weight, double temperature, Teacher teacher) {
    public static final double DEFAULT_WEIGHT = 0.5, DEFAULT_TEMPERATURE = 2.0;

    /** The defaults: weight 0.5, temperature 2, the teacher the model the run starts from. */
    public static final Distillation DEFAULTS = new Distillation(DEFAULT_WEIGHT, DEFAULT_TEMPERATURE, new Teacher.Start());

    /**
     * The lowest temperature taken. The CUDA kernel scales logit differences by 1/T in float, so a
     * tiny T overflows there while the CPU twin (in double) stays finite, and the backends would
     * disagree; T below 1 only sharpens the teacher, and nothing useful lies below this.
     */
    public static final double MIN_TEMPERATURE = 0.05;

    public Distillation {
        if (!(weight > 0 && weight <= 1))
            throw new RecipeException("distillation.weight: " + PruningModifier.num(weight) + " is not in (0, 1]; it is the soft-target share a of the loss "
                    + "(1 - a) CE + a T^2 KL: 0.5 is usual, 1 drops the labels; leave the distillation block out to train without a teacher");
        if (!(temperature >= MIN_TEMPERATURE) || Double.isInfinite(temperature))
            throw new RecipeException("distillation.temperature: " + PruningModifier.num(temperature) + " is not a finite number >= " + PruningModifier.num(MIN_TEMPERATURE)
                    + "; 1 is the plain softmax, 2 to 4 are usual");
        if (teacher == null) throw new RecipeException("distillation.teacher is missing: 'start' or a model file");
    }

    /** Which model teaches. */
    public sealed interface Teacher {
        /** What the recipe writes: {@code start} or the file's path. */
        String recipeName();

        /** The model the run starts from, copied when the run starts (the trained weights, before any pruning of this run). */
        record Start() implements Teacher {
            public static final String NAME = "start";

            @Override public String recipeName() { return NAME; }

            @Override public String toString() { return "the model the run starts from"; }
        }

        /** A model file (a Shears model or an imported format the CLI reads); its inputs and outputs must match the student's. */
        record ModelFile(String path) implements Teacher {
            public ModelFile {
                if (path == null || path.isBlank()) throw new RecipeException("distillation.teacher: is empty; give 'start' (the model the run starts from) or a model file path");
            }

            @Override public String recipeName() { return path; }

            @Override public String toString() { return "model file " + path; }
        }

        /** {@code start} or a file path. */
        static Teacher parse(String text) {
            return text.equals(Start.NAME) ? new Start() : new ModelFile(text);
        }
    }

    /** One line for logs and reports. */
    public String describe() {
        return "knowledge distillation: weight " + PruningModifier.shortNum(weight) + ", temperature " + PruningModifier.shortNum(temperature)
                + ", teacher " + teacher;
    }
}
