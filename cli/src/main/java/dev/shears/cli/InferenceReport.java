package dev.shears.cli;

import dev.shears.cli.report.RunReport;
import dev.shears.core.data.Dataset;
import dev.shears.core.nn.Model;
import dev.shears.core.sparse.InferenceComparison;
import dev.shears.core.sparse.SparseBench;
import dev.shears.core.sparse.SparseModel;
import dev.shears.core.sparse.SparsePlanner;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The "inference" part of a pruning run's report: the final model timed dense against its planned
 * sparse form at each requested batch size (see {@link InferenceComparison}). A failure here never
 * costs the user the run: it is recorded as the section's note instead.
 */
final class InferenceReport {
    private InferenceReport() {}

    /** Test images compared for agreement: enough to catch a wrong kernel, few enough at batch 1. */
    static int agreementSamples(int batch) { return Math.max(256, 16 * batch); }

    static RunReport.Inference measure(Model cpuModel, Dataset test, int[] batches, Progress progress) {
        String device = SparseBench.cpuDevice();
        progress.line("timing dense against sparse inference of the pruned model on the CPU at batch " + Arrays.toString(batches));
        List<RunReport.InferenceBatch> rows = new ArrayList<>();
        try {
            // eval --sparse's timing: shorter rounds time a layer's first products at a new batch
            // size before the JIT has compiled them, and the plan then keeps dense where CSR wins
            SparsePlanner planner = new SparsePlanner();
            for (int b : batches) {
                InferenceComparison c = InferenceComparison.measure(cpuModel, test, b, agreementSamples(b), planner, 50);
                List<RunReport.InferenceLayer> layers = new ArrayList<>();
                for (SparseModel.LayerPlan p : c.plans())
                    layers.add(new RunReport.InferenceLayer(p.layer(), p.type(), p.rows(), p.cols(), p.sparsity(), p.format(),
                            p.denseMs(), p.chosenMs(), p.speedupVsDense()));
                rows.add(new RunReport.InferenceBatch(b, c.denseMs(), c.sparseMs(), c.speedup(), c.denseWeightBytes(),
                        c.plannedWeightBytes(), c.samples(), c.samePredictions(), c.maxAbsDifference(), layers, c.planKept()));
                progress.line(line(rows.getLast()));
            }
            return new RunReport.Inference(device, rows, null);
        } catch (RuntimeException e) {
            String why = "not measured: " + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
            progress.line("inference timing " + why);
            return new RunReport.Inference(device, rows, why);
        }
    }

    /** One batch size as a line of the summary. */
    static String line(RunReport.InferenceBatch r) {
        return String.format(Locale.ROOT, "batch %d: dense %.3f ms, sparse %.3f ms (%.2fx)%s; same predictions on %d/%d test images",
                r.batch(), r.denseMs(), r.sparseMs(), r.speedup(), r.planKept() ? "" : " (no plan beat dense as a whole: all layers dense)",
                r.samePredictions(), r.samples());
    }
}
