package dev.shears.core.cuda.sparse;

import dev.shears.core.backend.Backend;
import dev.shears.core.backend.ConvGeometry;
import dev.shears.core.cuda.CudaBackend;
import dev.shears.core.data.Dataset;
import dev.shears.core.nn.Evaluator;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Layer;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.Parameter;
import dev.shears.core.nn.layers.Conv2D;
import dev.shears.core.nn.layers.Dense;
import dev.shears.core.nn.layers.Layers;
import dev.shears.core.sparse.ConvTaps;
import dev.shears.core.sparse.PlanProgress;
import dev.shears.core.sparse.SparseFormat;
import dev.shears.core.sparse.Settle;
import dev.shears.core.sparse.SparseModel;
import dev.shears.core.sparse.WholeModelCheck;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * Sparse inference for a model bound to a {@link CudaBackend} ({@code shears eval --sparse
 * --backend cuda}), the GPU twin of {@link SparseModel}: every Dense layer, and every Conv2D with
 * one group (per image, on its im2col matrix), gets the format the {@link CudaSparsePlanner}
 * measured fastest on the device at the planned batch size; every other layer, and every planned
 * layer that stays dense, runs its own forward (cuBLAS). The model is not changed: plan after
 * pruning, from the current weights. Close it to free the sparse copies of the weights.
 *
 * <p>With a planner opted in to FP16/BF16 ({@link CudaSparsePlanner.Options#precision()}), a 2:4
 * Dense layer or convolution may run cuSPARSELt ({@link CudaStructuredMatrix}): its output is then
 * within 16-bit rounding of dense, and the bias is added in FP32 as for every other format. A
 * convolution larger than 1x1, pruned 2:4 along input channels, runs it on its tap-major kernel
 * ({@link ConvTaps}) and builds its im2col rows in the same (ki, kj, c) order
 * ({@link CudaBackend#im2colTapMajor}).
 */
public final class CudaSparseModel implements AutoCloseable {

    /**
     * A planned layer running a sparse format: the matrix and the bias [out] (the layer's own
     * tensor, or null); {@code tapMajor}: a convolution whose matrix and im2col rows are in (ki, kj, c) order.
     */
    private record Planned(Layer layer, CudaSparseMatrix weights, Tensor bias, boolean tapMajor) {}

    private final Model model;
    private final CudaBackend backend;
    private final CusparseRuntime cusparse;
    private final int batch;
    /** layers that run a sparse format, by name (dense choices are absent: the layer's own forward runs) */
    private final Map<String, Planned> planned = new HashMap<>();
    private final List<SparseModel.LayerPlan> plans = new ArrayList<>();
    private final Map<String, List<String>> rejected = new HashMap<>();
    /** output buffers of planned nodes, [N, ...], reused while the shape stays the same */
    private final Map<String, Tensor> outputs = new HashMap<>();
    /** im2col scratch, [C*kh*kw, outH*outW] of the largest planned convolution */
    private Tensor cols;
    private boolean closed;

    private CudaSparseModel(Model model, CudaBackend backend, int batch) {
        this.model = model;
        this.backend = backend;
        this.batch = batch;
        this.cusparse = new CusparseRuntime(backend);
    }

    /** Why GPU sparse inference cannot run here, or null. */
    public static String unavailabilityCause() {
        String cause = CudaBackend.unavailabilityCause();
        return cause != null ? cause : CusparseRuntime.unavailabilityCause();
    }

    /**
     * Plans every Dense and single-group Conv2D layer of {@code model} (bound to a CudaBackend) at
     * batch size {@code batch}; with an FP16 planner, the activation ranges come from a random
     * batch (uniform in [0, 1), {@link WholeModelCheck#randomBatch}): give a calibration batch of
     * real inputs where there is one ({@link #plan(Model, int, CudaSparsePlanner, Tensor)}).
     */
    public static CudaSparseModel plan(Model model, int batch, CudaSparsePlanner planner) {
        return plan(model, batch, planner, null);
    }

    /**
     * {@link #plan(Model, int, CudaSparsePlanner)} with {@code calibration} [N, ...] (on the
     * model's backend; null for a random batch): when the planner opted in to FP16, the batch
     * runs through the dense model first and each planned layer's largest |input| and |output|
     * ({@link CudaSparsePlanner.ActivationRange}) decide whether its FP16 2:4 candidate could
     * overflow; a layer refused so says why in {@link #rejected}. BF16 has FP32's exponent
     * range: nothing is measured for it.
     */
    public static CudaSparseModel plan(Model model, int batch, CudaSparsePlanner planner, Tensor calibration) {
        return plan(model, batch, planner, calibration, PlanProgress.NONE);
    }

    /**
     * {@link #plan(Model, int, CudaSparsePlanner, Tensor)}, telling {@code progress} as each layer is
     * planned (its index among the planned Dense and single-group Conv2D layers, 1 for the first, and
     * the format chosen for it, before the whole-model check), as the CPU {@link SparseModel#plan} does.
     */
    public static CudaSparseModel plan(Model model, int batch, CudaSparsePlanner planner, Tensor calibration, PlanProgress progress) {
        if (!(model.backend() instanceof CudaBackend cuda))
            throw new IllegalStateException("GPU sparse inference needs a model bound to the CUDA backend (it is bound to "
                    + (model.backend() == null ? "nothing" : model.backend().name()) + "); use SparseModel on the CPU");
        if (batch < 1) throw new IllegalArgumentException("batch must be at least 1, got " + batch);
        requireSingleInput(model); // before the FP16 calibration runs the model on one input
        if (calibration != null) checkCalibration(model, calibration);
        Map<String, CudaSparsePlanner.ActivationRange> ranges = Map.of();
        if (planner.options().precision() == Precision.FP16) {
            if (calibration != null) ranges = activationRanges(model, calibration);
            else try (Tensor x = WholeModelCheck.randomBatch(cuda, model, batch)) {
                ranges = activationRanges(model, x);
            }
        }
        int total = 0, done = 0;
        for (Model.Node node : model.nodes()) if (SparseModel.isPlanned(node.layer())) total++;
        CudaSparseModel sm = new CudaSparseModel(model, cuda, batch);
        try {
            for (Model.Node node : model.nodes()) {
                Layer layer = node.layer();
                if (layer instanceof Dense d) {
                    float[] w = cuda.download(d.kernel().value()); // [in, out]
                    float[] a = transpose(w, d.inFeatures(), d.outFeatures()); // A = W^T [out, in]
                    CudaSparsePlanner.Choice c = planner.choose(sm.cusparse, a, d.kernel().value(), true, d.outFeatures(),
                            d.inFeatures(), batch, true, ranges.get(d.name()));
                    sm.record(d, c, d.outFeatures(), d.inFeatures(), batch, a, d.bias() == null ? null : d.bias().value());
                    progress.planned(++done, total, d.name(), c.format());
                } else if (layer instanceof Conv2D conv && conv.groups() == 1) {
                    Shape in = model.shapeOf(node.inputs().getFirst());
                    ConvGeometry g = conv.geometry(in.dim(1), in.dim(2));
                    int rows = conv.outChannels(), k = g.colRows(), hw = g.colCols();
                    float[] a = cuda.download(conv.kernel().value()); // [out, in, kh, kw] = [out, in*kh*kw]
                    CudaSparsePlanner.Choice c = planner.chooseConv(sm.cusparse, a, conv.kernel().value(), rows, conv.inChannels(),
                            g.kernelH(), g.kernelW(), hw, ranges.get(conv.name()));
                    sm.record(conv, c, rows, k, hw, a, conv.bias() == null ? null : conv.bias().value());
                    progress.planned(++done, total, conv.name(), c.format());
                }
            }
        } catch (RuntimeException | Error e) {
            sm.close();
            throw e;
        }
        return sm;
    }

    public static CudaSparseModel plan(Model model, int batch) { return plan(model, batch, new CudaSparsePlanner()); }

    /**
     * A calibration batch must be [N, ...] of the model's input shape (N >= 1): a batch of other
     * samples would run the model on misread inputs, and its ranges would decide at random.
     */
    static void checkCalibration(Model model, Tensor calibration) {
        Shape in = model.inputs().getFirst().shape(), got = calibration.shape();
        int n = got.rank() > 0 ? got.dim(0) : 0;
        if (n < 1 || !in.withBatch(n).equals(got))
            throw new IllegalArgumentException("the FP16 calibration batch has shape " + got + " but model input '" + model.inputs().getFirst().name()
                    + "' expects " + in.withBatch(Math.max(1, n)) + " (a batch of samples of shape " + in
                    + "): calibrate with samples of the data the model was built for");
    }

    /**
     * Runs {@code x} through the model's own (dense) forward and returns, for every layer
     * {@link #plan} plans (Dense, single-group Conv2D), the largest |input| and a bound on the
     * largest |product before the bias| (the largest |output| plus the largest |bias|): what a
     * 16-bit product of that layer would have to hold. On the host after each layer: plan time only.
     */
    static Map<String, CudaSparsePlanner.ActivationRange> activationRanges(Model model, Tensor x) {
        Backend be = model.backend();
        return activationRanges(model, x, t -> maxAbs(be.download(t)));
    }

    /**
     * {@link #activationRanges(Model, Tensor)} measuring each tensor with {@code maxAbsOf} (the
     * largest |value| after a download; tests count the calls). Every node's output is measured
     * once: a planned layer's input that another planned layer produced (two layers in a row, a
     * layer feeding two) reuses that layer's measured output instead of downloading it again.
     */
    static Map<String, CudaSparsePlanner.ActivationRange> activationRanges(Model model, Tensor x, ToDoubleFunction<Tensor> maxAbsOf) {
        Backend be = model.backend();
        ExecContext ctx = ExecContext.inference(be);
        Map<String, CudaSparsePlanner.ActivationRange> ranges = new HashMap<>();
        Map<String, Double> measured = new HashMap<>(); // the largest |value| of each node's output (or model input) measured so far
        model.forwardUntil(ctx, List.of(x), model.outputName(), (node, ins) -> {
            Layer layer = node.layer();
            if (!(layer instanceof Dense || layer instanceof Conv2D c && c.groups() == 1)) return null;
            Parameter bias = layer instanceof Dense d ? d.bias() : ((Conv2D) layer).bias();
            Tensor y = layer.forward(ctx, ins);
            double maxBias = bias == null ? 0 : maxAbs(be.download(bias.value()));
            Tensor input = ins.getFirst();
            double maxIn = measured.computeIfAbsent(node.inputs().getFirst(), src -> maxAbsOf.applyAsDouble(input));
            double maxOut = maxAbsOf.applyAsDouble(y);
            measured.put(node.name(), maxOut);
            ranges.put(node.name(), new CudaSparsePlanner.ActivationRange(maxIn, maxOut + maxBias));
            return y;
        });
        return ranges;
    }

    /** The largest |v| (NaN if any value is NaN, so that it is never taken for in range). */
    private static double maxAbs(float[] v) {
        double max = 0;
        for (float f : v) {
            if (Float.isNaN(f)) return Double.NaN;
            max = Math.max(max, Math.abs(f));
        }
        return max;
    }

    private void record(Layer layer, CudaSparsePlanner.Choice c, int rows, int cols, int n, float[] a, Tensor bias) {
        long nz = 0;
        for (float v : a) if (v != 0f) nz++;
        plans.add(new SparseModel.LayerPlan(layer.name(), layer.type(), rows, cols, n, 1.0 - (double) nz / ((double) rows * cols),
                c.format(), c.timings()));
        rejected.put(layer.name(), c.rejected());
        if (c.matrix() instanceof CudaDenseMatrix) c.matrix().close();
        else planned.put(layer.name(), new Planned(layer, c.matrix(), bias, c.tapMajor()));
    }

    /**
     * The whole-model check behind "never slower than dense" ({@link WholeModelCheck}, the CPU
     * {@link SparseModel}'s rule): times the model's own forward (cuBLAS) against this plan on a
     * random batch of the planned size (the fallback where no real inputs are at hand; see
     * {@link #keepOnlyIfFaster(CudaSparsePlanner, Tensor)}) with CUDA events on the backend's stream
     * ({@link CudaSparsePlanner#medianMillis}, the planner's warm-up and repeats), in
     * {@link #CHECK_ROUNDS} interleaved rounds, after untimed rounds until both paths' times are
     * stable ({@link Settle#WHOLE_MODEL}, when the planner's options settle); when the plan is not
     * faster by the planner's margin, every layer goes back to dense: the sparse copies of the
     * weights are freed, the plans keep their timings and read "dense". Returns what was measured.
     */
    public WholeModelCheck keepOnlyIfFaster(CudaSparsePlanner planner) { return keepOnlyIfFaster(planner, null); }

    /**
     * {@link #keepOnlyIfFaster(CudaSparsePlanner)} timed on {@code x}, [planned batch, ...] of the
     * model's input shape on this model's backend (the caller keeps and closes it; null: the
     * random fallback batch, {@link WholeModelCheck#randomBatch}). Give real inputs where there
     * are any (the first test images, as the run report times on): a check timed on inputs unlike
     * the real ones decides on work the real forward does not do. (On the GPU neither cuBLAS nor
     * cuSPARSE skips zero inputs, so random inputs bias neither path as they did the CPU's dense
     * batch-1 GEMM; the per-layer CUDA planner therefore still times on random inputs, and the
     * check takes real ones so that it decides on what the report then times.)
     */
    public WholeModelCheck keepOnlyIfFaster(CudaSparsePlanner planner, Tensor x) {
        CudaSparsePlanner.Options o = planner.options();
        return keepOnlyIfFaster(o.margin(), o.settle() ? Settle.WHOLE_MODEL : null,
                (path, forward) -> CudaSparsePlanner.medianMillis(backend, forward, o.warmup(), o.repeats()), x);
    }

    /** Rounds of the whole-model check (as the CPU check: each path's best round counts). */
    static final int CHECK_ROUNDS = 3;

    /**
     * {@link #keepOnlyIfFaster(CudaSparsePlanner)} with the settling ({@code null}: none) and the
     * timing of one forward pass given (tests decide with them).
     */
    public WholeModelCheck keepOnlyIfFaster(double margin, Settle settle, WholeModelCheck.Timer timer) {
        return keepOnlyIfFaster(margin, settle, timer, null);
    }

    /** {@link #keepOnlyIfFaster(CudaSparsePlanner, Tensor)} with the settling and the timing given. */
    public WholeModelCheck keepOnlyIfFaster(double margin, Settle settle, WholeModelCheck.Timer timer, Tensor x) {
        if (closed) throw new IllegalStateException("this CUDA sparse model is closed");
        if (planned.isEmpty()) return WholeModelCheck.nothingSparse();
        if (x != null) WholeModelCheck.checkBatch(model, x, batch);
        WholeModelCheck check;
        try (Tensor random = x == null ? WholeModelCheck.randomBatch(backend, model, batch) : null) {
            Tensor in = x == null ? random : x;
            ExecContext ctx = ExecContext.inference(backend);
            check = WholeModelCheck.measure(() -> model.forward(ctx, in), () -> forward(in), timer, CHECK_ROUNDS, margin, settle);
        }
        if (!check.kept()) revertToDense();
        return check;
    }

    /**
     * Every layer back to its own (cuBLAS) forward: frees the sparse weights and their output
     * buffers. The whole-model check's send-back, and the run report's comparison's when it times a
     * kept plan slower than dense ({@link dev.shears.core.sparse.InferenceComparison#compare} through {@link CudaInferenceComparison}).
     */
    void revertToDense() {
        try {
            freeSparse();
        } finally {
            plans.replaceAll(p -> new SparseModel.LayerPlan(p.layer(), p.type(), p.rows(), p.cols(), p.n(), p.sparsity(),
                    SparseFormat.DENSE.id(), p.timings()));
        }
    }

    /** Frees the sparse weights, their output buffers and the column buffer; forgets them even when a free fails. */
    private void freeSparse() {
        try {
            for (Planned p : planned.values()) p.weights().close();
            for (Tensor t : outputs.values()) t.close();
            if (cols != null) cols.close();
        } finally {
            planned.clear();
            outputs.clear();
            cols = null;
        }
    }

    private static float[] transpose(float[] w, int in, int out) {
        float[] a = new float[w.length];
        for (int i = 0; i < in; i++)
            for (int o = 0; o < out; o++) a[o * in + i] = w[i * out + o];
        return a;
    }

    public Model model() { return model; }
    /** Every planned layer's decision, in graph order (the CPU planner's record, so reports print both alike). */
    public List<SparseModel.LayerPlan> plans() { return List.copyOf(plans); }
    /** The candidates a layer's planning left out, with why (a block size that does not divide, a kernel the library refused). */
    public List<String> rejected(String layer) { return rejected.getOrDefault(layer, List.of()); }
    /** Whether a planned convolution runs on tap-major columns ({@link ConvTaps}); false for every other layer. */
    public boolean tapMajor(String layer) {
        Planned p = planned.get(layer);
        return p != null && p.tapMajor();
    }

    /**
     * The device matrix a planned layer runs, or null when it runs dense (its own forward) or was
     * not planned; for a layer that runs {@link #tapMajor}, A with its columns in (ki, kj, c) order.
     */
    public CudaSparseMatrix weights(String layer) {
        Planned p = planned.get(layer);
        return p == null ? null : p.weights();
    }

    /** Runs the whole graph on a batch [N, ...] on the device; the result may be reused by the next call. */
    public Tensor forward(Tensor x) { return forwardUntil(x, model.outputName()); }

    /** Runs the graph up to and including node {@code last}. */
    public Tensor forwardUntil(Tensor x, String last) {
        if (closed) throw new IllegalStateException("this CUDA sparse model is closed");
        requireSingleInput(model);
        return model.forwardUntil(ExecContext.inference(backend), List.of(x), last, (node, ins) -> {
            Planned p = planned.get(node.name());
            if (p == null) return null;
            return p.layer() instanceof Dense d ? dense(d, p, ins.getFirst()) : conv((Conv2D) p.layer(), p, ins.getFirst());
        });
    }

    private static void requireSingleInput(Model model) {
        if (model.inputs().size() != 1) throw new IllegalArgumentException("sparse inference takes single-input models, this one has " + model.inputs().size());
    }

    private Tensor dense(Dense d, Planned p, Tensor x) {
        int n = x.shape().dim(0);
        if (x.size() != (long) n * d.inFeatures())
            throw new IllegalArgumentException("layer '" + d.name() + "' expects [N, " + d.inFeatures() + "] inputs, got " + x.shape());
        Tensor y = output(d.name(), Shape.of(n, d.outFeatures()));
        p.weights().multiply(x, n, y);
        if (p.bias() != null) backend.addBias(y, p.bias(), n, d.outFeatures(), 1);
        return y;
    }

    private Tensor conv(Conv2D conv, Planned p, Tensor x) {
        Shape s = x.shape();
        ConvGeometry g = conv.geometryOf(x);
        int n = s.dim(0);
        int k = g.colRows(), hw = g.colCols(), outC = conv.outChannels();
        Tensor y = output(conv.name(), Shape.of(n, outC, g.outH(), g.outW()));
        cols = Layers.atLeast(backend, cols, Shape.of(k, hw));
        long image = g.imageElements(1);
        for (int i = 0; i < n; i++) {
            if (p.tapMajor()) backend.im2colTapMajor(x, i * image, g, cols, 0);
            else backend.im2col(x, i * image, g, cols, 0);
            p.weights().multiplyT(cols, 0, hw, y, (long) i * outC * hw);
        }
        if (p.bias() != null) backend.addBias(y, p.bias(), n, outC, hw);
        return y;
    }

    /** The output buffer of layer {@code name}, reused while its shape stays (a new one replaces and frees it). */
    private Tensor output(String name, Shape shape) {
        return outputs.compute(name, (k, t) -> Layers.ensure(backend, t, shape));
    }

    /** Test-set loss and accuracy through the sparse path (same scoring as {@link Evaluator}). */
    public Evaluator.Result evaluate(Dataset data, int batchSize) {
        return Evaluator.evaluateUntil(model, data, batchSize, this::forwardUntil);
    }

    /** Frees the sparse weights, buffers and the cuSPARSE handle (the model and its dense weights stay). */
    @Override public void close() {
        if (closed) return;
        closed = true;
        try {
            freeSparse();
        } finally {
            cusparse.close();
        }
    }
}
