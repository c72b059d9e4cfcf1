package dev.shears.core.sparse;

import dev.shears.core.backend.ConvGeometry;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.cpu.CpuTensor;
import dev.shears.core.data.Dataset;
import dev.shears.core.nn.Evaluator;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Layer;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.layers.Conv2D;
import dev.shears.core.nn.layers.Dense;
import dev.shears.core.nn.layers.Layers;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Sparse inference for a bound model on the CPU ({@code shears eval --sparse}): every Dense layer,
 * and every Conv2D with one group (as a GEMM on its im2col matrix), gets the storage format the
 * {@link SparsePlanner} measured fastest at the planned batch size; every other layer runs its own
 * forward. A Conv2D's A is its kernel [out, in*kh*kw] (im2col order: kw fastest), in which a 2:4
 * pattern along input channels (NVIDIA's, what Shears' N:M pruning makes) is NmMatrix-shaped only
 * for 1x1 kernels; for a larger kernel the planner also offers NmMatrix on the tap-major A
 * ({@link ConvTaps}, {@link SparsePlanner#chooseConv}), and a layer planned that way builds its
 * im2col matrix in the same (ki, kj, c) row order ({@link CpuBackend#im2colTapMajor}), so it runs
 * 2:4 too. The model itself is not changed: build this after pruning, from its current weights
 * (masked weights are zero by the pruning invariant).
 */
public final class SparseModel {

    /** What the planner decided for one layer. */
    public record LayerPlan(String layer, String type, int rows, int cols, int n, double sparsity,
                            String format, List<SparsePlanner.Timing> timings) {
        public double denseMs() { return timings.getFirst().medianMs(); }

        public double chosenMs() {
            for (SparsePlanner.Timing t : timings) if (t.format().equals(format)) return t.medianMs();
            return Double.NaN;
        }

        public double speedupVsDense() { return denseMs() / chosenMs(); }

        /** Whether the layer runs dense: its own forward, the same products as the dense model. */
        public boolean isDense() { return format.equals(SparseFormat.DENSE.id()); }
    }

    /**
     * A planned Conv2D: A = kernel [out, in*kh*kw] with its bias [out] (or null); {@code tapMajor}:
     * A's columns, and so the im2col rows, are in (ki, kj, c) order ({@link ConvTaps}).
     */
    private record ConvPlan(Conv2D layer, SparseMatrix weights, float[] bias, boolean tapMajor) {}

    private final Model model;
    private final CpuBackend backend;
    private final int batch;
    private final Map<String, SparseLinear> linear = new HashMap<>();
    private final Map<String, ConvPlan> convs = new HashMap<>();
    private final List<LayerPlan> plans = new ArrayList<>();
    /** output buffers of planned nodes, [N, ...], reused while the batch size stays the same */
    private final Map<String, Tensor> outputs = new HashMap<>();
    /** im2col scratch, [C*kh*kw, outH*outW] of the largest planned convolution */
    private Tensor cols;

    private SparseModel(Model model, CpuBackend backend, int batch) {
        this.model = model;
        this.backend = backend;
        this.batch = batch;
    }

    /** Plans every Dense and single-group Conv2D layer of {@code model} at batch size {@code batch}, timed on random inputs. */
    public static SparseModel plan(Model model, int batch, SparsePlanner planner) { return plan(model, batch, planner, null); }

    /**
     * {@link #plan(Model, int, SparsePlanner)} with each layer's formats timed on its real input:
     * what it receives when {@code x} ([batch, ...] of the model's input shape, e.g. the first test
     * images; null: random inputs) runs through the dense model once. A Dense layer times on its
     * input [batch, in]; a Conv2D, whose sparse path multiplies one image's im2col matrix at a time,
     * on the im2col matrix [in*kh*kw, outH*outW] of the first image's input. Real inputs have zeros
     * (blank pixels, ReLU outputs) that the dense GEMM skips, so on random ones dense looked slower
     * than it is.
     */
    public static SparseModel plan(Model model, int batch, SparsePlanner planner, Tensor x) {
        return plan(model, batch, planner, x, PlanProgress.NONE);
    }

    /** {@link #plan(Model, int, SparsePlanner, Tensor)}, telling {@code progress} as each layer is planned. */
    public static SparseModel plan(Model model, int batch, SparsePlanner planner, Tensor x, PlanProgress progress) {
        if (!(model.backend() instanceof CpuBackend cpu))
            throw new IllegalStateException("sparse inference runs on the CPU: bind the model to a CpuBackend first (it is bound to "
                    + (model.backend() == null ? "nothing" : model.backend().name()) + ")");
        if (batch < 1) throw new IllegalArgumentException("batch must be at least 1, got " + batch);
        // each planned layer's input on x: a Dense layer's [batch, in], a Conv2D's first image [C, H, W] (its im2col is built when it is planned)
        Map<String, float[]> realInputs = new HashMap<>();
        if (x != null) WholeModelCheck.checkBatch(model, x, batch);
        // the dense forward on x runs only as far as the last planned layer (none: not at all): nothing after it is planned on it
        String lastPlanned = null;
        int total = 0, done = 0;
        for (Model.Node node : model.nodes())
            if (isPlanned(node.layer())) {
                lastPlanned = node.name();
                total++;
            }
        if (x != null && lastPlanned != null) {
            model.forwardUntil(ExecContext.inference(cpu), List.of(x), lastPlanned, (node, ins) -> {
                Tensor in = ins.getFirst();
                if (node.layer() instanceof Dense) realInputs.put(node.name(), cpu.download(in));
                else if (isPlanned(node.layer())) realInputs.put(node.name(), Arrays.copyOf(CpuTensor.f(in), (int) (in.size() / in.shape().dim(0))));
                return null; // the layer's own forward
            });
        }
        SparseModel sm = new SparseModel(model, cpu, batch);
        for (Model.Node node : model.nodes()) {
            Layer layer = node.layer();
            if (layer instanceof Dense d) {
                float[] w = cpu.download(d.kernel().value());
                float[] b = d.bias() == null ? null : cpu.download(d.bias().value());
                SparsePlanner.Choice c = planner.chooseLinear(w, d.inFeatures(), d.outFeatures(), batch, realInputs.get(d.name()));
                sm.linear.put(d.name(), new SparseLinear(d.name(), c.matrix(), b));
                sm.plans.add(new LayerPlan(d.name(), d.type(), d.outFeatures(), d.inFeatures(), batch,
                        c.matrix().sparsity(), c.format(), c.timings()));
                progress.planned(++done, total, d.name(), c.format());
            } else if (layer instanceof Conv2D conv && isPlanned(conv)) {
                Shape in = model.shapeOf(node.inputs().getFirst());
                ConvGeometry g = conv.geometry(in.dim(1), in.dim(2));
                int rows = conv.outChannels(), k = g.colRows(), hw = g.colCols();
                float[] a = cpu.download(conv.kernel().value()); // [out, in, kh, kw] = [out, in*kh*kw]
                float[] b = conv.bias() == null ? null : cpu.download(conv.bias().value());
                float[] image = realInputs.remove(conv.name());
                SparsePlanner.Choice c = planner.chooseConv(a, rows, conv.inChannels(), g.kernelH(), g.kernelW(), hw,
                        image == null ? null : im2col(cpu, image, in, g));
                sm.convs.put(conv.name(), new ConvPlan(conv, c.matrix(), b, c.tapMajor()));
                sm.plans.add(new LayerPlan(conv.name(), conv.type(), rows, k, hw, c.matrix().sparsity(), c.format(), c.timings()));
                progress.planned(++done, total, conv.name(), c.format());
            }
        }
        return sm;
    }

    /**
     * Whether {@link #plan} plans {@code layer}: a Dense, or a Conv2D with one group (the CUDA
     * planner's {@code CudaSparseModel} plans the same layers).
     */
    public static boolean isPlanned(Layer layer) {
        return layer instanceof Dense || layer instanceof Conv2D conv && conv.groups() == 1;
    }

    /**
     * The im2col matrix [C*kh*kw, outH*outW] (rows in (c, ki, kj) order) of one image [C, H, W] of
     * shape {@code in}: what a planned Conv2D multiplies. A tap-major candidate is timed on it too:
     * its rows are the same values in another order, and the sparse products do the same work
     * whatever the values.
     */
    private static float[] im2col(CpuBackend cpu, float[] image, Shape in, ConvGeometry g) {
        try (Tensor x = cpu.upload(image, in.withBatch(1)); Tensor cols = cpu.zeros(g.colRows(), g.colCols())) {
            cpu.im2col(x, 0, g, cols, 0);
            return cpu.download(cols);
        }
    }

    public static SparseModel plan(Model model, int batch) { return plan(model, batch, new SparsePlanner()); }

    /**
     * The whole-model check behind "never slower than dense" ({@link WholeModelCheck}) on a random
     * batch of the planned size ({@link WholeModelCheck#randomBatch}): the fallback where no real
     * inputs are at hand. Where they are, use {@link #keepOnlyIfFaster(SparsePlanner, Tensor)}.
     */
    public WholeModelCheck keepOnlyIfFaster(SparsePlanner planner) { return keepOnlyIfFaster(planner, null); }

    /**
     * The whole-model check behind "never slower than dense" ({@link WholeModelCheck}): times the
     * model's own (dense) forward against this plan on {@code x}, [planned batch, ...] of the
     * model's input shape (the caller keeps and closes it; null: a random batch, see
     * {@link WholeModelCheck#randomBatch}), with the planner's repeats and margin, after untimed
     * rounds until both are stable ({@link Settle#WHOLE_MODEL}; not with quick options, which
     * promise no reliable figures); when the plan is not faster by that margin, every layer goes
     * back to dense (the timings stay in {@link #plans()}, the formats read "dense"). Returns what
     * was measured.
     *
     * <p>Give real inputs where there are any (the first test images, as the run report times on):
     * the dense batch-1 GEMM skips the rows of B whose input is zero ({@code Sgemm}'s small-M
     * path), and real inputs have many (ReLU outputs, blank pixels) where uniform random ones have
     * none, so on random inputs the dense forward did about twice the work it does on real ones and
     * the check kept plans that the report then showed slower than dense (0.91x, LeNet-300-100).
     */
    public WholeModelCheck keepOnlyIfFaster(SparsePlanner planner, Tensor x) {
        SparsePlanner.Options o = planner.options();
        // At most one untimed forward a round (the planner's warmup, capped at 1): the settle loop's passes warm the code, and
        // one forward brings the path's weights and buffers back into cache after the other path's; three cost a pruned
        // LeNet-5's check at batch 256 (15-40 ms a forward on the shared 2-core machine) ~0.5 s over its 5-6 rounds.
        return keepOnlyIfFaster(o.margin(), o.minMillis() > 0 ? Settle.WHOLE_MODEL : null, (path, forward) ->
                SparsePlanner.medianMillis(forward, Math.min(o.warmup(), 1), o.repeats(), o.minMillis() / SparsePlanner.ROUNDS), x);
    }

    /**
     * {@link #keepOnlyIfFaster(SparsePlanner)} with the settling ({@code null}: none) and the
     * timing of one forward pass given (tests decide with them), on a random batch.
     */
    public WholeModelCheck keepOnlyIfFaster(double margin, Settle settle, WholeModelCheck.Timer timer) {
        return keepOnlyIfFaster(margin, settle, timer, null);
    }

    /** {@link #keepOnlyIfFaster(SparsePlanner, Tensor)} with the settling and the timing given. */
    public WholeModelCheck keepOnlyIfFaster(double margin, Settle settle, WholeModelCheck.Timer timer, Tensor x) {
        boolean anySparse = !plans.stream().allMatch(LayerPlan::isDense);
        if (!anySparse || (linear.isEmpty() && convs.isEmpty())) return WholeModelCheck.nothingSparse();
        if (x != null) WholeModelCheck.checkBatch(model, x, batch);
        try (Tensor random = x == null ? WholeModelCheck.randomBatch(backend, model, batch) : null) {
            Tensor in = x == null ? random : x;
            ExecContext ctx = ExecContext.inference(backend);
            WholeModelCheck check = WholeModelCheck.measure(() -> model.forward(ctx, in), () -> forward(in), timer,
                    SparsePlanner.ROUNDS, margin, settle);
            if (!check.kept()) revertToDense();
            return check;
        }
    }

    /**
     * Every layer back to its own (dense) forward; the plans keep their timings and read "dense".
     * The whole-model check's send-back, and the run report's comparison's when it times a kept
     * plan slower than dense ({@link InferenceComparison#compare}).
     */
    void revertToDense() {
        linear.clear();
        convs.clear();
        outputs.clear();
        plans.replaceAll(p -> new LayerPlan(p.layer(), p.type(), p.rows(), p.cols(), p.n(), p.sparsity(),
                SparseFormat.DENSE.id(), p.timings()));
    }

    public Model model() { return model; }
    public List<LayerPlan> plans() { return List.copyOf(plans); }

    /**
     * The weights of a planned Dense or Conv2D layer in the chosen format (null if the layer was
     * not planned); for a layer that runs {@link #tapMajor}, A with its columns in (ki, kj, c) order.
     */
    public SparseMatrix weights(String layer) {
        SparseLinear l = linear.get(layer);
        if (l != null) return l.weights();
        ConvPlan c = convs.get(layer);
        return c == null ? null : c.weights();
    }

    /** Whether a planned Conv2D runs on tap-major columns ({@link ConvTaps}); false for every other layer. */
    public boolean tapMajor(String layer) {
        ConvPlan c = convs.get(layer);
        return c != null && c.tapMajor();
    }

    /** Runs the whole graph on a batch [N, ...]; the result may be reused by the next call. */
    public Tensor forward(Tensor x) { return forwardUntil(x, model.outputName()); }

    /** Runs the graph up to and including node {@code last}. */
    public Tensor forwardUntil(Tensor x, String last) {
        if (model.inputs().size() != 1) throw new IllegalArgumentException("sparse inference takes single-input models, this one has " + model.inputs().size());
        return model.forwardUntil(ExecContext.inference(backend), List.of(x), last, (node, ins) -> {
            SparseLinear sl = linear.get(node.name());
            if (sl != null) return dense(node.name(), sl, ins.getFirst());
            ConvPlan cp = convs.get(node.name());
            return cp == null ? null : conv(cp, ins.getFirst());
        });
    }

    private Tensor dense(String name, SparseLinear sl, Tensor x) {
        int n = x.shape().dim(0);
        if (x.size() != (long) n * sl.inFeatures())
            throw new IllegalArgumentException("layer '" + name + "' expects [N, " + sl.inFeatures() + "] inputs, got " + x.shape());
        Tensor y = output(name, Shape.of(n, sl.outFeatures()));
        sl.forward(CpuTensor.f(x), n, CpuTensor.f(y));
        return y;
    }

    private Tensor conv(ConvPlan cp, Tensor x) {
        Conv2D conv = cp.layer();
        Shape s = x.shape();
        ConvGeometry g = conv.geometryOf(x);
        int n = s.dim(0);
        int k = g.colRows(), hw = g.colCols(), outC = conv.outChannels();
        Tensor y = output(conv.name(), Shape.of(n, outC, g.outH(), g.outW()));
        cols = Layers.atLeast(backend, cols, Shape.of(k, hw));
        float[] yf = CpuTensor.f(y), cf = CpuTensor.f(cols);
        long image = g.imageElements(1);
        for (int i = 0; i < n; i++) {
            if (cp.tapMajor()) backend.im2colTapMajor(x, i * image, g, cols, 0);
            else backend.im2col(x, i * image, g, cols, 0);
            int yo = i * outC * hw;
            cp.weights().multiplyT(cf, 0, hw, hw, yf, yo, hw);
            if (cp.bias() != null)
                for (int o = 0; o < outC; o++) {
                    float b = cp.bias()[o];
                    for (int j = 0, base = yo + o * hw; j < hw; j++) yf[base + j] += b;
                }
        }
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
}
