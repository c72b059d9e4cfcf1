package dev.shears.cli;

import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.cuda.CudaBackend;
import dev.shears.core.cuda.sparse.CudaSparseModel;
import dev.shears.core.cuda.sparse.CudaSparsePlanner;
import dev.shears.core.cuda.sparse.Precision;
import dev.shears.core.data.Dataset;
import dev.shears.core.nn.Evaluator;
import dev.shears.core.nn.Model;
import dev.shears.core.sparse.InferenceComparison;
import dev.shears.core.sparse.SparseModel;
import dev.shears.core.sparse.SparsePlanner;
import dev.shears.core.sparse.WholeModelCheck;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;

import java.io.PrintStream;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * {@code eval --sparse}: plans every Dense and Conv2D layer into the storage format measured
 * fastest at the evaluation batch size (dense stays where sparse is not faster), prints the plan,
 * and evaluates through it: on the CPU through {@link SparseModel}, on the CUDA backend through
 * {@link CudaSparseModel} (cuBLAS dense, cuSPARSE CSR and Blocked-ELL, and with {@code --precision fp16|bf16}
 * cuSPARSELt 2:4 for 2:4 Dense and Conv2D layers; timed with CUDA events). On both, a Conv2D pruned
 * 2:4 along input channels runs the 2:4 formats on its tap-major kernel (dev.shears.core.sparse.ConvTaps),
 * and a plan that does not make the whole model faster goes back to dense ({@link WholeModelCheck}).
 */
final class SparseEval {
    private SparseEval() {}

    /**
     * @param planSeconds seconds spent choosing the formats (timing candidates, the whole-model
     *                    check) before the test set ran; 0 where nothing was planned
     */
    record Outcome(Evaluator.Result result, String description, double planSeconds) {}

    /** {@code --precision}'s value (eval --sparse, bench sparse): fp32, fp16 or bf16; anything else a usage error. */
    static Precision precision(String given) {
        try {
            return Precision.parse(given);
        } catch (IllegalArgumentException e) {
            throw new UserError("--precision: " + e.getMessage());
        }
    }

    /**
     * The batch an evaluation of {@code test} runs at: {@code requested}, but never more than the test set
     * (--batch 5000 on 1,000 images planned, timed and allocated for 5,000 rows). Dense and sparse eval both use it.
     */
    static int evalBatch(int requested, Dataset test) {
        return test.count() > 0 ? Math.min(requested, test.count()) : requested;
    }

    static Outcome evaluate(Model model, Dataset test, int batch, PrintStream err) {
        return evaluate(model, test, batch, Precision.FP32, err, EvalProgress.NONE);
    }

    /**
     * {@code precision} FP16 or BF16 (CUDA only) adds cuSPARSELt 2:4 to the GPU planner's
     * candidates; where a layer cannot take it the plan says why on stderr. {@code progress}
     * counts the test batches as they run through the planned model.
     */
    static Outcome evaluate(Model model, Dataset test, int requestedBatch, Precision precision, PrintStream err, EvalProgress progress) {
        int batch = evalBatch(requestedBatch, test);
        if (precision != Precision.FP32 && !(model.backend() instanceof CudaBackend))
            throw new UserError("--precision " + precision.id() + " needs the cuda backend; " + model.backend().name() + " runs fp32 only");
        List<String> planned = model.nodes().stream().filter(n -> model.layer(n.name()) instanceof dev.shears.core.nn.layers.Dense
                || model.layer(n.name()) instanceof dev.shears.core.nn.layers.Conv2D).map(n -> n.name()).toList();
        if (!hasPrunedWeights(model)) {
            // every format is timed against dense only to end all dense (12 s for LeNet-300-100 on two cores): say so and skip it;
            // the mode names each layer's format as a plan that ended all dense does, for whoever parses it
            err.println("sparse plan: no pruned weights (no prunable weight is zero): the sparse model is the dense one; evaluating it dense, without planning");
            String formats = String.join(", ", planned.stream().map(n -> n + "=dense").toList());
            return new Outcome(progress.evaluateDense(model, test, batch),
                    (model.backend() instanceof CudaBackend ? "sparse on the GPU (" : "sparse (") + formats + ")", 0);
        }
        if (model.backend() instanceof CudaBackend) {
            String cause = CudaSparseModel.unavailabilityCause();
            if (cause != null) throw new UserError("--sparse on the CUDA backend needs cuSPARSE: " + cause + "; or add --backend cpu");
        }
        // planning times every candidate format of every layer, then the whole model: seconds with nothing on the screen
        long t0 = System.nanoTime();
        err.printf(Locale.ROOT, "sparse plan: timing each format for %s at batch %d, then the whole model (up to a few seconds a layer) ...%n",
                Plural.of(planned.size(), "Dense/Conv2D layer"), batch);
        if (model.backend() instanceof CpuBackend) {
            SparsePlanner planner = new SparsePlanner();
            // each layer's formats, then the whole model, timed on the first test images (one batch for both)
            SparseModel sm = onTestImages(model, test, batch, x -> {
                SparseModel plan = SparseModel.plan(model, batch, planner, x, progress.planning());
                report(plan.keepOnlyIfFaster(planner, x), batch, err);
                return plan;
            });
            String formats = print(sm.plans(), err);
            double planSeconds = (System.nanoTime() - t0) / 1e9;
            return new Outcome(Evaluator.evaluateUntil(model, test, batch, progress.counting(sm::forwardUntil)), "sparse (" + formats + ")", planSeconds);
        }
        if (model.backend() instanceof CudaBackend) {
            CudaSparsePlanner planner = new CudaSparsePlanner(CudaSparsePlanner.Options.defaults().withPrecision(precision));
            // one batch of the first test images, uploaded once: FP16 calibrates each layer's activation range on it (a layer that
            // would overflow is refused), and the whole-model check times on it
            if (precision == Precision.FP16) requireCalibrationBatch(model, test, batch);
            return onTestImages(model, test, batch, x -> {
                try (CudaSparseModel sm = CudaSparseModel.plan(model, batch, planner, precision == Precision.FP16 ? x : null,
                        progress.planning())) {
                    if (precision != Precision.FP32)
                        for (SparseModel.LayerPlan p : sm.plans())
                            for (String r : sm.rejected(p.layer()))
                                if (r.startsWith("2:4-lt")) err.printf(Locale.ROOT, "sparse plan: %-14s not offered %s%n", p.layer(), r);
                    report(sm.keepOnlyIfFaster(planner, x), batch, err);
                    String formats = print(sm.plans(), err);
                    double planSeconds = (System.nanoTime() - t0) / 1e9;
                    return new Outcome(Evaluator.evaluateUntil(model, test, batch, progress.counting(sm::forwardUntil)), "sparse on the GPU (" + formats + ")",
                            planSeconds);
                }
            });
        }
        throw new UserError("--sparse runs on the cpu and cuda backends, not on " + model.backend().name());
    }

    /**
     * {@code use} applied to the first {@code batch} test images ({@link InferenceComparison#timingBatch}; null without test
     * samples): the whole-model check (and the CPU planner) times on them, the batch the run report times on, not on random
     * inputs: those have no zeros for the dense GEMM to skip, so the dense forward did more work than on real data and the
     * check kept plans slower than dense.
     */
    static <T> T onTestImages(Model model, Dataset test, int batch, Function<Tensor, T> use) {
        if (test.count() == 0) return use.apply(null); // nothing real to time on: the random fallback
        try (Tensor x = InferenceComparison.timingBatch(model.backend(), model.inputs().getFirst().shape(), test, batch)) {
            return use.apply(x);
        }
    }

    /** Whether any prunable weight (a Dense or Conv2D kernel, as ModelSummary counts them) is zero: a sparse format could gain. */
    static boolean hasPrunedWeights(Model model) {
        for (var l : model.layers())
            for (var p : l.parameters())
                if (p.prunableByDefault())
                    for (float v : model.backend().download(p.value())) if (v == 0f) return true;
        return false;
    }

    /**
     * Refuses an FP16 plan that {@link #onTestImages} could give no calibration batch of the model's
     * input shape: no test samples, or samples of another size (eval's {@link ModelSource#load} has
     * checked that the model fits the data, so this is the last guard, naming both shapes).
     * {@code batch} is {@link #evalBatch}'s, so the batch is the first min(batch, count) samples.
     */
    static void requireCalibrationBatch(Model model, Dataset test, int batch) {
        Dataset head = test.head(batch);
        if (head.count() == 0) throw new UserError(test.name() + " has no samples to calibrate the fp16 plan with");
        Shape in = model.inputs().getFirst().shape();
        if (test.sampleSize() != in.size())
            throw new UserError("the fp16 calibration batch (the first " + Plural.of(head.count(), "sample") + " of " + test.name() + ") has shape "
                    + test.sampleShape().withBatch(head.count()) + " but the model expects " + in.withBatch(head.count())
                    + ": evaluate on the data the model was built for");
    }

    /** Says on stderr when the whole-model check sent the plan back to dense. */
    static void report(WholeModelCheck check, int batch, PrintStream err) {
        if (!check.kept())
            err.printf(Locale.ROOT, "sparse plan: the whole model ran no faster planned (%.3f ms) than dense (%.3f ms) at batch %d; every layer stays dense%n",
                    check.plannedMs(), check.denseMs(), batch);
    }

    /** One line per planned layer on stderr; returns "layer=format, ..." for the summary. */
    static String print(List<SparseModel.LayerPlan> plans, PrintStream err) {
        StringBuilder formats = new StringBuilder();
        for (SparseModel.LayerPlan p : plans) {
            StringBuilder candidates = new StringBuilder();
            for (var t : p.timings()) candidates.append(String.format(Locale.ROOT, " %s %.3f", t.format(), t.medianMs()));
            err.printf(Locale.ROOT, "sparse plan: %-14s %-7s %5dx%-5d sparsity %5.1f%% -> %-16s dense %.3f ms, chosen %.3f ms (%.2fx); candidates (ms):%s%n",
                    p.layer(), p.type(), p.rows(), p.cols(), 100 * p.sparsity(), p.format(), p.denseMs(), p.chosenMs(), p.speedupVsDense(), candidates);
            formats.append(formats.isEmpty() ? "" : ", ").append(p.layer()).append('=').append(p.format());
        }
        return formats.toString();
    }
}
