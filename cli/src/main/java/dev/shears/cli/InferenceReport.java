package dev.shears.cli;

import dev.shears.cli.report.RunReport;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.cuda.CudaBackend;
import dev.shears.core.cuda.sparse.CudaInferenceComparison;
import dev.shears.core.cuda.sparse.CudaSparseModel;
import dev.shears.core.cuda.sparse.CudaSparsePlanner;
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
 * sparse form at each requested batch size (see {@link InferenceComparison}), on the backend the
 * run trained on: on the CPU the model's own forward against {@link SparseModel}, on the CUDA
 * backend cuBLAS against {@link CudaSparseModel} timed with CUDA events
 * ({@link CudaInferenceComparison}). The section names the backend and device. A failure here
 * never costs the user the run: it is recorded as the section's note instead.
 */
final class InferenceReport {
    private InferenceReport() {}

    /** Test images compared for agreement: enough to catch a wrong kernel, few enough at batch 1. */
    static int agreementSamples(int batch) { return Math.max(256, 16 * batch); }

    /**
     * Whether {@link #measure} can time {@code model} where it is: on the CPU backend, or on the
     * CUDA backend when cuSPARSE loads. Otherwise the run times a CPU copy of the model.
     */
    static boolean timesInPlace(Model model) {
        return model.backend() instanceof CpuBackend
                || (model.backend() instanceof CudaBackend && CudaSparseModel.unavailabilityCause() == null);
    }

    /** How {@code batch} is compared on one backend. */
    @FunctionalInterface
    private interface Comparison {
        InferenceComparison at(int batch);
    }

    /** Times {@code model} on its own backend (CPU or CUDA, see {@link #timesInPlace}) at each of {@code batches}. */
    static RunReport.Inference measure(Model model, Dataset test, int[] batches, Progress progress) {
        String backend, device, where;
        Comparison comparison;
        PlanLine plan = new PlanLine(progress); // the planner's progress, on either backend
        if (model.backend() instanceof CudaBackend cuda) {
            backend = "cuda";
            device = cuda.name();
            where = "on the GPU (cuBLAS against cuSPARSE)";
            CudaSparsePlanner planner = new CudaSparsePlanner();
            comparison = b -> CudaInferenceComparison.measure(model, test, b, agreementSamples(b), planner, plan);
        } else {
            backend = "cpu";
            device = SparseBench.cpuDevice();
            where = "on the CPU";
            // eval --sparse's timing: shorter rounds time a layer's first products at a new batch
            // size before the JIT has compiled them, and the plan then keeps dense where CSR wins
            SparsePlanner planner = new SparsePlanner();
            comparison = b -> InferenceComparison.measure(model, test, b, agreementSamples(b), planner, 50, plan);
        }
        progress.line("timing dense against sparse inference of the pruned model " + where + " at batch " + Arrays.toString(batches));
        List<RunReport.InferenceBatch> rows = new ArrayList<>();
        TimingBudget budget = new TimingBudget(progress);
        try {
            for (int b : batches) {
                if (!budget.allows(b)) continue;
                InferenceComparison c = comparison.at(b);
                rows.add(row(c));
                budget.timed(b, c.denseMs());
                progress.line(line(rows.getLast()));
            }
            return new RunReport.Inference(backend, device, rows, null);
        } catch (RuntimeException e) {
            String why = "not measured: " + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
            progress.line("inference timing " + why);
            return new RunReport.Inference(backend, device, rows, why);
        }
    }

    /** One batch size's comparison as the report records it. */
    static RunReport.InferenceBatch row(InferenceComparison c) {
        List<RunReport.InferenceLayer> layers = new ArrayList<>();
        for (SparseModel.LayerPlan p : c.plans())
            layers.add(new RunReport.InferenceLayer(p.layer(), p.type(), p.rows(), p.cols(), p.sparsity(), p.format(),
                    p.denseMs(), p.chosenMs(), p.speedupVsDense()));
        return new RunReport.InferenceBatch(c.batch(), c.denseMs(), c.sparseMs(), c.speedup(), c.denseWeightBytes(),
                c.plannedWeightBytes(), c.samples(), c.samePredictions(), c.maxAbsDifference(), layers, c.planKept(),
                notKeptReason(c), c.slowerPlanMs());
    }

    /** What the summary, report.html and report.json say when no plan beat dense in the whole-model check. */
    static final String NOT_FASTER_IN_CHECK = "no plan of per-layer formats beat dense as a whole";

    /**
     * Why every layer of {@code c} went back to dense, or null when its plan runs: the whole-model
     * check found no plan faster, or the comparison (the figures the report prints) timed the plan
     * the check had kept slower than dense; then it names that time, so the user sees that the
     * plan lost in the very timing shown and that dense is what runs.
     */
    static String notKeptReason(InferenceComparison c) {
        return switch (c.outcome()) {
            case KEPT -> null;
            case NOT_FASTER_IN_CHECK -> NOT_FASTER_IN_CHECK;
            case SLOWER_IN_COMPARISON -> String.format(Locale.ROOT,
                    "the plan the whole-model check kept was timed slower than dense in this comparison (sparse %.3f ms, %.2fx)",
                    c.slowerPlanMs(), c.denseMs() / c.slowerPlanMs());
        };
    }

    /** Where the figures of {@code inf} were taken, for the summary: "on the CPU" or "on the GPU (...)". */
    static String where(RunReport.Inference inf) {
        return "cuda".equals(inf.backend()) ? "on the GPU, cuBLAS dense against cuSPARSE," : "on the CPU,";
    }

    /**
     * The summary's line above the batch lines, worded by what the whole-model check kept: every
     * layer in its fastest format, every layer dense (no plan beat dense as a whole at any batch
     * size), or the plan at some batch sizes only.
     */
    static String header(RunReport.Inference inf) {
        RunReport.InferenceBatch first = inf.batches().getFirst();
        long kept = inf.batches().stream().filter(RunReport.InferenceBatch::planKept).count();
        if (kept == inf.batches().size()) {
            // each batch size has its own plan: the first one's weights alone read as the plan of all
            // (a plan dense at batch 1 and CSR at 64 showed "2.67 MB dense, 2.67 MB as planned")
            if (inf.batches().stream().mapToLong(RunReport.InferenceBatch::plannedWeightBytes).distinct().count() > 1) {
                StringBuilder planned = new StringBuilder();
                for (RunReport.InferenceBatch b : inf.batches())
                    planned.append(planned.isEmpty() ? "" : ", ").append(String.format(Locale.ROOT, "%.2f MB at batch %d", b.plannedWeightBytes() / 1e6, b.batch()));
                return String.format(Locale.ROOT, "inference %s each layer in its fastest measured format (weights %.2f MB dense; as planned %s):",
                        where(inf), first.denseWeightBytes() / 1e6, planned);
            }
            return String.format(Locale.ROOT, "inference %s each layer in its fastest measured format (weights %.2f MB dense, %.2f MB as planned):",
                    where(inf), first.denseWeightBytes() / 1e6, first.plannedWeightBytes() / 1e6);
        }
        if (kept == 0)
            return String.format(Locale.ROOT, "inference %s all layers dense: %s (weights %.2f MB):",
                    where(inf), NOT_FASTER_IN_CHECK, first.denseWeightBytes() / 1e6);
        RunReport.InferenceBatch planned = inf.batches().stream().filter(RunReport.InferenceBatch::planKept).findFirst().orElseThrow();
        return String.format(Locale.ROOT, "inference %s each layer in its fastest measured format where that plan beat dense as a whole,"
                        + " else all dense (weights %.2f MB dense, %.2f MB as planned at batch %d):",
                where(inf), first.denseWeightBytes() / 1e6, planned.plannedWeightBytes() / 1e6, planned.batch());
    }

    /** One batch size as a line of the summary. */
    static String line(RunReport.InferenceBatch r) {
        // every layer dense: both paths are the same products, timed once (InferenceComparison), so there is no ratio to show
        boolean allDense = !r.planKept() || (!r.layers().isEmpty() && r.layers().stream().allMatch(l -> "dense".equals(l.format())));
        if (allDense)
            return String.format(Locale.ROOT, "batch %d: dense %.3f ms; %s, so the planned model is the dense one; same predictions on %d/%d test images",
                    r.batch(), r.denseMs(), r.planKept() ? "every layer's fastest format was dense at this batch size"
                            : r.planNotKeptReason(), r.samePredictions(), r.samples());
        return String.format(Locale.ROOT, "batch %d: dense %.3f ms, sparse %.3f ms (%.2fx); same predictions on %d/%d test images",
                r.batch(), r.denseMs(), r.sparseMs(), r.speedup(), r.samePredictions(), r.samples());
    }
}
