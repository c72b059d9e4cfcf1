package dev.shears.cli;

import dev.shears.core.data.Dataset;
import dev.shears.core.nn.Evaluator;
import dev.shears.core.nn.Model;

import java.io.PrintStream;

/** {@code eval --sparse}: inference through the planned sparse model. (Wired to the planner when it lands.) */
final class SparseEval {
    private SparseEval() {}

    record Outcome(Evaluator.Result result, String description) {}

    static Outcome evaluate(Model model, Dataset test, int batch, PrintStream err) {
        throw new UserError("--sparse: the sparse planner is not part of this build yet");
    }
}
