package dev.shears.core.cuda;

import dev.shears.core.tensor.DType;
import dev.shears.core.tensor.Tensor;
import dev.shears.kernels.OptimizerKernels;
import dev.shears.nativebind.Cuda;
import dev.shears.nativebind.CudaGraph;
import dev.shears.nativebind.PinnedBuffer;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * One training step of a fixed batch shape captured as a CUDA graph and replayed with one launch.
 *
 * <p>The graph: copy the input batch and the labels from two pinned host buffers ({@link #input},
 * {@link #labels}) into the step's fixed device tensors (and, for a step given one, a third
 * per-sample float tensor from {@link #targets}: knowledge distillation's cached teacher logits), copy this step's scalars (learning rate,
 * Adam's bias corrections, the dropout step seed) from a pinned block into device memory, clear
 * the device-side loss and accuracy results, run the captured step body (forward, the loss through
 * {@link CudaBackend#softmaxCrossEntropyIntoStep}, backward, the masked optimizer update), and copy
 * the results back into the pinned block. Per step the host only fills the pinned buffers and
 * calls {@link #launch} (or {@link #submit}, then {@link #await}), which returns the step's loss
 * and correct count.
 *
 * <p>What stays valid across replays, and why: every kernel reads per-step values from the scalar
 * block (the update kernels' learning rate and bias corrections, dropout's seed), not from launch
 * arguments baked at capture; masks and weights are updated in place between steps (the pruning
 * schedule runs outside the graph), so their addresses do not change. A step whose parameters
 * gained, lost or replaced a mask tensor needs a new capture: {@link #masksMatch} tells. Blocks the
 * capture touched stay reserved for the graph until {@link #close} ({@link CudaAllocator.GraphPool}),
 * and the backend's shared scratch, if replaced meanwhile, stays allocated until then too.
 * The tensors the step uses (batch, parameters, gradients, optimizer state, layer buffers) must
 * stay open while the graph lives.
 */
public final class CudaStepGraph implements AutoCloseable {
    /** What the captured step does between the batch copies and the result copy. */
    @FunctionalInterface
    public interface Body {
        void run();
    }

    /**
     * Loss summed over the batch and rows classified correctly, read back after the replay;
     * {@code distillationLossSum} is the summed soft-target term of a step that captured
     * {@link CudaBackend#distillationIntoStep} (0 otherwise).
     */
    public record Result(double lossSum, int correct, double distillationLossSum) {}

    // the scalar block, device and pinned host alike (bytes):
    // in  (host -> device before the step): [0] f32 lr, [4] f32 bc1, [8] f32 bc2, [16] u64 step seed
    // out (device -> host after the step):  [32] f64 loss sum, [40] u32 bad labels, [44] i32 first bad row, [48] u32 correct,
    //                                       [56] f64 distillation loss sum
    static final int LR = 0, BC1 = 4, BC2 = 8, SEED = 16, IN_BYTES = 24;
    static final int LOSS = 32, BAD = 40, FIRST_BAD = 44, CORRECT = 48, DISTILL = 56, OUT = 32, OUT_BYTES = 32, BYTES = 64;

    private final CudaBackend backend;
    private final int rows;
    private final int classes;
    /** pinned host copy of the input batch, the input tensor's bytes */
    private final PinnedBuffer input;
    /** pinned host INT32 labels [rows] */
    private final PinnedBuffer labels;
    /** pinned host copy of the per-sample float targets tensor's bytes ([rows, ...]), or null for a step without one */
    private final PinnedBuffer targets;
    /** pinned host scalar block, {@link #BYTES} */
    private final PinnedBuffer scalarsHost;
    /** device scalar block, {@link #BYTES} */
    private final long scalars;
    /** the parameters' mask tensors at capture (null entries: no mask) */
    private final Tensor[] maskSnapshot;
    private CudaAllocator.GraphPool pool;
    private CudaGraph graph;
    /** Adam's betas seen during capture (NaN: no Adam update captured) */
    private float adamBeta1 = Float.NaN, adamBeta2 = Float.NaN;
    private long launches;
    /** a replay was submitted and not yet awaited */
    private boolean inFlight;
    private boolean closed;
    /** whether the backend counts this graph among the live ones (its shared scratch is kept while it lives) */
    private boolean counted;

    private CudaStepGraph(CudaBackend backend, Tensor x, Tensor y, Tensor t, int classes, Tensor[] masks) {
        this.backend = backend;
        this.rows = (int) y.size();
        this.classes = classes;
        this.maskSnapshot = masks.clone();
        PinnedBuffer in = null, lab = null, tg = null, sc = null;
        long dev = 0;
        try {
            in = PinnedBuffer.allocate(((CudaTensor) x).bytes());
            lab = PinnedBuffer.allocate(rows * 4L);
            if (t != null) tg = PinnedBuffer.allocate(((CudaTensor) t).bytes());
            sc = PinnedBuffer.allocate(BYTES);
            dev = backend.allocator().allocate(BYTES);
        } catch (RuntimeException | Error e) {
            for (PinnedBuffer b : new PinnedBuffer[] {in, lab, tg, sc}) if (b != null) b.close();
            throw e;
        }
        input = in;
        labels = lab;
        targets = tg;
        scalarsHost = sc;
        scalars = dev;
    }

    /**
     * Captures {@code body} as one step of {@code rows = y.size()} samples: {@code x} is the step's
     * input tensor, {@code y} its INT32 label tensor, {@code masks} the parameters' mask tensors at
     * capture (nulls allowed; {@link #masksMatch} compares against them later). Nothing runs
     * during the capture, and the work queued before it is not waited for. The body must issue
     * all its work through {@code backend} on its stream, allocate only what the allocator's cache
     * holds (run the step uncaptured once first), and neither wait nor read back.
     */
    public static CudaStepGraph capture(CudaBackend backend, Tensor x, Tensor y, int classes, Tensor[] masks, Body body) {
        return capture(backend, x, y, null, classes, masks, body);
    }

    /**
     * {@link #capture(CudaBackend, Tensor, Tensor, int, Tensor[], Body)} with a third per-sample
     * input: {@code targets}, a FLOAT32 tensor of {@code y.size()} rows (knowledge distillation's
     * teacher logits [rows, classes], gathered on the host from a table computed once), copied in
     * from the pinned buffer {@link #targets()} at every replay as the input and labels are; null
     * for none.
     */
    public static CudaStepGraph capture(CudaBackend backend, Tensor x, Tensor y, Tensor targets, int classes, Tensor[] masks, Body body) {
        if (y.dtype() != DType.INT32) throw new IllegalArgumentException("CudaStepGraph: labels must be INT32, got " + y);
        if (!(x instanceof CudaTensor cx) || cx.backend() != backend)
            throw new IllegalArgumentException("CudaStepGraph: input " + x + " is not a tensor of " + backend.name());
        if (targets != null && (!(targets instanceof CudaTensor ct) || ct.backend() != backend || targets.dtype() != DType.FLOAT32
                || targets.shape().rank() == 0 || targets.shape().dim(0) != y.size()))
            throw new IllegalArgumentException("CudaStepGraph: targets " + targets + " must be a FLOAT32 tensor of " + backend.name() + " with "
                    + y.size() + " rows (one per label)");
        CudaStepGraph g = new CudaStepGraph(backend, x, y, targets, classes, masks);
        try {
            g.record(cx, (CudaTensor) y, (CudaTensor) targets, body);
        } catch (RuntimeException | Error e) {
            g.close();
            throw e;
        }
        return g;
    }

    private void record(CudaTensor x, CudaTensor y, CudaTensor t, Body body) {
        var stream = backend.stream();
        var h = stream.handle();
        backend.stepGraphOpened();
        counted = true;
        pool = backend.allocator().beginCapture();
        try {
            graph = CudaGraph.capture(stream, () -> {
                Cuda.memcpyHtoDAsync(x.pointer(), input.segment(), input.bytes(), h);
                Cuda.memcpyHtoDAsync(y.pointer(), labels.segment(), labels.bytes(), h);
                if (t != null) Cuda.memcpyHtoDAsync(t.pointer(), targets.segment(), targets.bytes(), h);
                Cuda.memcpyHtoDAsync(scalars, scalarsHost.segment(), IN_BYTES, h);
                Cuda.memsetD8Async(scalars + OUT, (byte) 0, OUT_BYTES, h);
                Cuda.memsetD32Async(scalars + FIRST_BAD, Integer.MAX_VALUE, 1, h);
                backend.beginStepCapture(this);
                try {
                    body.run();
                } finally {
                    backend.endStepCapture(this);
                }
                Cuda.memcpyDtoHAsync(scalarsHost.segment().asSlice(OUT, OUT_BYTES), scalars + OUT, OUT_BYTES, h);
            });
        } finally {
            backend.allocator().endCapture(pool);
        }
    }

    // ------------------------------------------------ for CudaBackend while capturing

    long learningRateAddress() { return scalars + LR; }

    /** {lr, bc1, bc2} for the Adam kernel; checks that every captured Adam update uses the same betas. */
    long adamScalarsAddress(float beta1, float beta2) {
        if (Float.isNaN(adamBeta1)) {
            adamBeta1 = beta1;
            adamBeta2 = beta2;
        } else if (Float.compare(adamBeta1, beta1) != 0 || Float.compare(adamBeta2, beta2) != 0) {
            throw new IllegalStateException("a captured step may hold Adam updates of one (beta1, beta2) only: saw (" + adamBeta1 + ", "
                    + adamBeta2 + ") and (" + beta1 + ", " + beta2 + ")");
        }
        return scalars + LR;
    }

    long stepSeedAddress() { return scalars + SEED; }

    long lossAddress() { return scalars + LOSS; }

    long badLabelsAddress() { return scalars + BAD; }

    long firstBadRowAddress() { return scalars + FIRST_BAD; }

    long correctAddress() { return scalars + CORRECT; }

    long distillationLossAddress() { return scalars + DISTILL; }

    // ------------------------------------------------ per step

    /** Pinned host memory the graph copies the input batch from: fill it (floats, row-major) before {@link #launch}. */
    public MemorySegment input() { return input.segment(); }

    /** Pinned host memory the graph copies the labels from ({@code rows} INT32 values). */
    public MemorySegment labels() { return labels.segment(); }

    /**
     * Pinned host memory the graph copies the per-sample targets from (floats, row-major, the
     * targets tensor's size): fill it before {@link #launch}.
     *
     * @throws IllegalStateException when the step was captured without targets
     */
    public MemorySegment targets() {
        if (targets == null) throw new IllegalStateException("CudaStepGraph: this step was captured without a targets tensor");
        return targets.segment();
    }

    /** Rows of the captured batch. */
    public int rows() { return rows; }

    /** Whether every parameter still has the mask tensor (or no mask) it had at capture. */
    public boolean masksMatch(Tensor[] masks) {
        if (masks.length != maskSnapshot.length) return false;
        for (int i = 0; i < masks.length; i++) if (masks[i] != maskSnapshot[i]) return false;
        return true;
    }

    /**
     * Runs the step on the batch in {@link #input}/{@link #labels}: learning rate {@code lr},
     * {@code optimizerStep} the 1-based step count Adam's bias correction uses (ignored without
     * Adam), {@code stepSeed} the step's random seed (dropout). Waits for the step:
     * {@link #submit} then {@link #await}.
     *
     * @throws IllegalArgumentException when a label is outside [0, classes), naming the first such row
     */
    public Result launch(float lr, long optimizerStep, long stepSeed) {
        submit(lr, optimizerStep, stepSeed);
        return await();
    }

    /**
     * Queues the step and returns at once; {@link #await} waits for it and reads its results. Until
     * then the graph's pinned buffers are in use: fill another graph's meanwhile (the trainer
     * alternates two graphs so that the host gathers the next batch while the GPU runs this one).
     */
    public void submit(float lr, long optimizerStep, long stepSeed) {
        if (closed) throw new IllegalStateException("CudaStepGraph is closed");
        if (inFlight) throw new IllegalStateException("CudaStepGraph: submit while the previous replay has not been awaited");
        MemorySegment s = scalarsHost.segment();
        s.set(JAVA_FLOAT, LR, lr);
        if (!Float.isNaN(adamBeta1)) {
            if (optimizerStep < 1) throw new IllegalArgumentException("adam: step must be 1-based, got " + optimizerStep);
            s.set(JAVA_FLOAT, BC1, OptimizerKernels.biasCorrection(adamBeta1, optimizerStep));
            s.set(JAVA_FLOAT, BC2, OptimizerKernels.biasCorrection(adamBeta2, optimizerStep));
        }
        s.set(JAVA_LONG, SEED, stepSeed);
        backend.launchStepGraph(graph);
        inFlight = true;
        launches++;
    }

    /**
     * Waits for the step {@link #submit} queued (and everything queued before it) and returns its
     * loss sum and correct count.
     *
     * @throws IllegalArgumentException when a label is outside [0, classes), naming the first such row
     */
    public Result await() {
        if (!inFlight) throw new IllegalStateException("CudaStepGraph: await without a submitted replay");
        backend.synchronize();
        inFlight = false;
        MemorySegment s = scalarsHost.segment();
        int bad = s.get(JAVA_INT, BAD);
        if (bad != 0)
            throw new IllegalArgumentException("softmaxCrossEntropy: " + bad + " label(s) outside [0, " + classes + "), the first in row "
                    + s.get(JAVA_INT, FIRST_BAD));
        return new Result(s.get(JAVA_DOUBLE, LOSS), s.get(JAVA_INT, CORRECT), s.get(JAVA_DOUBLE, DISTILL));
    }

    /** Graph launches so far. */
    public long launches() { return launches; }

    /** Destroys the graph (after the work queued so far) and returns its reserved blocks to the allocator. */
    @Override public void close() {
        if (closed) return;
        closed = true;
        backend.stream().synchronize();
        if (graph != null) graph.close();
        if (pool != null) backend.allocator().releasePool(pool);
        if (counted) backend.stepGraphClosed();
        backend.allocator().free(scalars);
        scalarsHost.close();
        labels.close();
        if (targets != null) targets.close();
        input.close();
    }
}
