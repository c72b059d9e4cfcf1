package dev.shears.cli;

import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.data.Dataset;
import dev.shears.core.nn.Evaluator;
import dev.shears.core.nn.Model;
import dev.shears.core.sparse.SparseModel;
import dev.shears.core.sparse.SparsePlanner;

import java.io.PrintStream;
import java.util.Locale;

/**
 * {@code eval --sparse}: plans every Dense and Conv2D layer into the storage format measured
 * fastest at the evaluation batch size (dense stays where sparse is not faster), prints the plan,
 * and evaluates through it.
 */
final class SparseEval {
    private SparseEval() {}

    record Outcome(Evaluator.Result result, String description) {}

    static Outcome evaluate(Model model, Dataset test, int batch, PrintStream err) {
        if (!(model.backend() instanceof CpuBackend))
            throw new UserError("--sparse runs on the CPU backend in this version (cuSPARSE inference is not wired yet); add --backend cpu");
        SparsePlanner planner = new SparsePlanner();
        SparseModel sm = SparseModel.plan(model, batch, planner);
        SparseModel.WholeModelCheck check = sm.keepOnlyIfFaster(planner);
        if (!check.kept())
            err.printf(Locale.ROOT, "sparse plan: the whole model ran no faster planned (%.3f ms) than dense (%.3f ms) at batch %d; every layer stays dense%n",
                    check.plannedMs(), check.denseMs(), batch);
        StringBuilder formats = new StringBuilder();
        for (SparseModel.LayerPlan p : sm.plans()) {
            StringBuilder candidates = new StringBuilder();
            for (var t : p.timings()) candidates.append(String.format(Locale.ROOT, " %s %.3f", t.format(), t.medianMs()));
            err.printf(Locale.ROOT, "sparse plan: %-14s %-7s %5dx%-5d sparsity %5.1f%% -> %-12s dense %.3f ms, chosen %.3f ms (%.2fx); candidates (ms):%s%n",
                    p.layer(), p.type(), p.rows(), p.cols(), 100 * p.sparsity(), p.format(), p.denseMs(), p.chosenMs(), p.speedupVsDense(), candidates);
            formats.append(formats.isEmpty() ? "" : ", ").append(p.layer()).append('=').append(p.format());
        }
        return new Outcome(sm.evaluate(test, batch), "sparse (" + formats + ")");
    }
}
