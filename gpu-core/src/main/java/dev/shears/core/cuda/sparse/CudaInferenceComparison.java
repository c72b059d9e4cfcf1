package dev.shears.core.cuda.sparse;

import dev.shears.core.cuda.CudaBackend;
import dev.shears.core.data.Dataset;
import dev.shears.core.nn.Model;
import dev.shears.core.sparse.InferenceComparison;
import dev.shears.core.sparse.PlanProgress;
import dev.shears.core.sparse.Settle;
import dev.shears.core.sparse.SparseModel;
import dev.shears.core.sparse.WholeModelCheck;
import dev.shears.core.tensor.Tensor;

import java.util.List;

/**
 * {@link InferenceComparison} on the CUDA backend: the model's own forward (cuBLAS) against its
 * {@link CudaSparseModel} (cuSPARSE CSR / Blocked-ELL where they won), both timed with CUDA
 * events on the backend's stream ({@link CudaSparsePlanner#medianMillis}: 3 untimed and 15 timed
 * runs per path and round, after untimed rounds until both are stable: {@link Settle#COMPARISON}),
 * after the plan has passed the whole-model check (or been sent back to
 * dense by it). Latency, storage and agreement are computed by {@link InferenceComparison#compare},
 * as on the CPU, which also sends a kept plan back to dense when its own timing finds it slower.
 */
public final class CudaInferenceComparison {
    private CudaInferenceComparison() {}

    /** Untimed and timed runs of each path per round (the CPU comparison's counts). */
    static final int WARMUP = 3, REPEATS = 15;

    /**
     * The comparison's timer: CUDA events on {@code cuda}'s stream, {@link #WARMUP} untimed and
     * {@link #REPEATS} timed runs per path and round (shared with other comparisons on CUDA, such
     * as a masked model against its thinned copy, so that they time alike).
     */
    public static WholeModelCheck.Timer timer(CudaBackend cuda) {
        return (path, forward) -> CudaSparsePlanner.medianMillis(cuda, forward, WARMUP, REPEATS);
    }

    /**
     * The CUDA sparse model as {@link InferenceComparison#compare} sees it (the CPU's is
     * {@code InferenceComparison.planned}): a layer without sparse weights counts dense, and the
     * comparison's send-back to dense is the whole-model check's ({@link CudaSparseModel#revertToDense}).
     */
    static InferenceComparison.Planned planned(CudaSparseModel sparse) {
        return new InferenceComparison.Planned() {
            @Override public Tensor forward(Tensor x) { return sparse.forward(x); }
            @Override public List<SparseModel.LayerPlan> plans() { return sparse.plans(); }
            @Override public long plannedBytes(SparseModel.LayerPlan p) {
                CudaSparseMatrix w = sparse.weights(p.layer());
                return w == null ? InferenceComparison.denseBytes(p) : w.storageBytes();
            }
            @Override public void revertToDense() { sparse.revertToDense(); }
        };
    }

    /**
     * Plans {@code model} (bound to a CUDA backend) at {@code batch} with {@code planner}, runs the
     * whole-model check on the first test images (skipped when the planner forces a format or its
     * options are quick: {@link InferenceComparison#wholeModelCheck}), times both paths on the first test images and compares
     * their outputs on up to {@code agreementSamples} images. Frees the sparse model's device
     * memory before returning.
     */
    public static InferenceComparison measure(Model model, Dataset test, int batch, int agreementSamples, CudaSparsePlanner planner) {
        return measure(model, test, batch, agreementSamples, planner, PlanProgress.NONE);
    }

    /** {@link #measure(Model, Dataset, int, int, CudaSparsePlanner)}, telling {@code progress} as each layer is planned. */
    public static InferenceComparison measure(Model model, Dataset test, int batch, int agreementSamples, CudaSparsePlanner planner,
                                              PlanProgress progress) {
        return measure(model, test, batch, agreementSamples, planner, Settle.COMPARISON, progress);
    }

    /**
     * {@link #measure} settling both paths' timing on {@code settle} (tests: a scripted clock)
     * when the planner's options settle ({@link CudaSparsePlanner.Options#settle()}).
     */
    static InferenceComparison measure(Model model, Dataset test, int batch, int agreementSamples, CudaSparsePlanner planner,
                                       Settle settle) {
        return measure(model, test, batch, agreementSamples, planner, settle, PlanProgress.NONE);
    }

    /** {@link #measure(Model, Dataset, int, int, CudaSparsePlanner, Settle)}, telling {@code progress} as each layer is planned. */
    static InferenceComparison measure(Model model, Dataset test, int batch, int agreementSamples, CudaSparsePlanner planner,
                                       Settle settle, PlanProgress progress) {
        if (!(model.backend() instanceof CudaBackend cuda))
            throw new IllegalStateException("the CUDA inference comparison needs a model bound to the CUDA backend; it is bound to "
                    + (model.backend() == null ? "nothing" : model.backend().name()));
        InferenceComparison.checkInputs(model, test, batch);
        try (CudaSparseModel sparse = CudaSparseModel.plan(model, batch, planner, null, progress);
             Tensor x = InferenceComparison.timingBatch(cuda, model.inputs().getFirst().shape(), test, batch)) {
            // the whole-model check runs on the images the comparison then times on (the first test images), unless the
            // plan is forced or the options quick (no settling): then it is compared as it is
            CudaSparsePlanner.Options o = planner.options();
            WholeModelCheck check = InferenceComparison.wholeModelCheck(o.force() != null, !o.settle(), () -> sparse.keepOnlyIfFaster(planner, x));
            WholeModelCheck.Timer timer = timer(cuda);
            // settled as on the CPU: the event timer's 3 untimed runs neither bring an idle GPU's clocks up nor let the
            // JIT compile the host side of each launch at this batch size
            return InferenceComparison.compare(model, test, x, agreementSamples, planned(sparse), check, timer,
                    planner.options().settle() ? settle : null);
        }
    }
}
