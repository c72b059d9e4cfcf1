package dev.shears.core.cuda;

import dev.shears.core.backend.Activation;
import dev.shears.core.backend.Backend;
import dev.shears.core.backend.ConvGeometry;
import dev.shears.core.cpu.DropoutHash;
import dev.shears.core.tensor.DType;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import dev.shears.kernels.ActivationKernels;
import dev.shears.kernels.ArgMaxKernels;
import dev.shears.kernels.BatchNormKernels;
import dev.shears.kernels.BiasKernels;
import dev.shears.kernels.ConvKernels;
import dev.shears.kernels.DepthwiseKernels;
import dev.shears.kernels.DropoutKernels;
import dev.shears.kernels.ElementwiseKernels;
import dev.shears.kernels.HalfKernels;
import dev.shears.kernels.KernelGeometry;
import dev.shears.kernels.KernelImage;
import dev.shears.kernels.KernelRuntime;
import dev.shears.kernels.LrnKernels;
import dev.shears.kernels.MaskKernels;
import dev.shears.kernels.OptimizerKernels;
import dev.shears.kernels.PermuteKernels;
import dev.shears.kernels.PoolKernels;
import dev.shears.kernels.SoftmaxKernels;
import dev.shears.kernels.DistillationKernels;
import dev.shears.kernels.ThresholdKernels;
import dev.shears.kernels.ThresholdPlan;
import dev.shears.nativebind.Cublas;
import dev.shears.nativebind.CublasHandle;
import dev.shears.nativebind.Cuda;
import dev.shears.nativebind.CudaContext;
import dev.shears.nativebind.CudaModule;
import dev.shears.nativebind.CudaStream;

import java.lang.foreign.MemorySegment;
import java.util.List;

import static dev.shears.core.backend.ArgumentChecks.*;

/**
 * The CUDA backend: tensors in device memory from a caching allocator, one stream for all work,
 * GEMM through cuBLAS (row-major via the operand swap C^T = B^T A^T), every other op through the
 * kernels of {@code cuda-kernels}, and host copies through pinned staging buffers. The CPU
 * backend is the specification; the *IT tests compare every op against it.
 *
 * <p>Single-threaded like the rest of a training step: ops are queued on the stream and return at
 * once; methods that return a value (sums, counts, thresholds) and downloads wait for the stream.
 * If another thread calls in, the context is made current on it first.
 */
public final class CudaBackend implements Backend {
    /** What {@link #close()} does about tensors still open. */
    public enum LeakPolicy {
        /** Fail, naming the count and bytes of the blocks still allocated (tests use this to catch leaks). */
        STRICT,
        /** Free them with the context; the default for applications, whose models hold tensors to the end. */
        RELEASE
    }

    private final LeakPolicy leakPolicy;
    private final CudaContext context;
    /** major * 10 + minor of the device, e.g. 90 */
    private final int computeCapability;
    private final CudaStream stream;
    private final CudaAllocator allocator;
    private final CudaModule module;
    private final KernelRuntime rt;
    private final CublasHandle cublas;
    private final PinnedStaging staging;
    private final String name;
    private Thread owner;
    /** the training step being captured into a CUDA graph, or null: its kernels read per-step scalars from device memory */
    private CudaStepGraph capturing;
    /** cuBLAS calls issued from the host so far */
    private long gemmCalls;
    /** {@link #convScratchBudgetFloats()}, fixed when the backend opens */
    private final long convScratchBudgetFloats;
    /** the most bytes a Conv2D's per-chunk scratch (columns plus GEMM output) may take on this backend */
    static final long CONV_SCRATCH_MAX_BYTES = 128L << 20;
    /**
     * {@link #sharedScratch}: [capacity] floats, the largest request so far; null before the
     * first. One for the whole backend instead of one per Conv2D (a 53-conv ResNet-50 would
     * otherwise hold 53 buffers of up to {@link #CONV_SCRATCH_MAX_BYTES} each).
     */
    private Tensor scratch;
    /**
     * Scratch buffers replaced while a captured step graph lived: that graph writes their
     * addresses at every replay, so they stay allocated until the last graph closes.
     */
    private final java.util.List<Tensor> retiredScratch = new java.util.ArrayList<>();
    /** captured step graphs not yet closed ({@link CudaStepGraph}) */
    private int liveGraphs;

    private final ThresholdKernels threshold;
    private final MaskKernels masks;
    private final OptimizerKernels optimizers;
    private final ElementwiseKernels elementwise;
    private final BiasKernels bias;
    private final ActivationKernels activations;
    private final SoftmaxKernels softmax;
    private final ArgMaxKernels argMax;
    private final DistillationKernels distill;
    private final ConvKernels conv;
    private final DepthwiseKernels depthwise;
    private final PoolKernels pool;
    private final BatchNormKernels batchNorm;
    private final DropoutKernels dropout;
    private final PermuteKernels permutes;
    private final LrnKernels lrns;
    private final HalfKernels halves;

    private CudaBackend(int device, LeakPolicy leakPolicy) {
        this.leakPolicy = leakPolicy;
        context = CudaContext.open(device);
        owner = Thread.currentThread();
        CudaStream s = null;
        CudaAllocator a = null;
        CudaModule m = null;
        KernelRuntime r = null;
        CublasHandle c = null;
        PinnedStaging p = null;
        try {
            s = CudaStream.create();
            a = new CudaAllocator(RawDeviceMemory.CUDA);
            m = KernelImage.load();
            r = new KernelRuntime(m, s, a, context.multiprocessorCount());
            // its own workspace, so that a GEMM captured in a CUDA graph (CudaStepGraph) allocates nothing
            c = new CublasHandle(s, CublasHandle.recommendedWorkspaceBytes(context.computeCapability()));
            p = new PinnedStaging(s);
        } catch (RuntimeException | Error e) {
            closeQuietly(e, p, c, r, m, a, s, context);
            throw e;
        }
        stream = s;
        allocator = a;
        module = m;
        rt = r;
        cublas = c;
        staging = p;
        threshold = new ThresholdKernels(rt);
        masks = new MaskKernels(rt);
        optimizers = new OptimizerKernels(rt);
        elementwise = new ElementwiseKernels(rt);
        bias = new BiasKernels(rt);
        activations = new ActivationKernels(rt);
        softmax = new SoftmaxKernels(rt);
        argMax = new ArgMaxKernels(rt);
        distill = new DistillationKernels(rt);
        conv = new ConvKernels(rt);
        depthwise = new DepthwiseKernels(rt);
        pool = new PoolKernels(rt);
        batchNorm = new BatchNormKernels(rt);
        dropout = new DropoutKernels(rt);
        permutes = new PermuteKernels(rt);
        lrns = new LrnKernels(rt);
        halves = new HalfKernels(rt);
        convScratchBudgetFloats = Math.max(1L << 18, Math.min(CONV_SCRATCH_MAX_BYTES, Cuda.memGetInfo()[0] / 16) / Float.BYTES);
        int cc = context.computeCapability();
        computeCapability = cc;
        name = "cuda (" + context.deviceName() + ", sm_" + cc + ", " + context.multiprocessorCount() + " SMs, "
                + CudaAllocator.mib(context.totalMemory()) + ", driver " + formatVersion(Cuda.driverVersion()) + ")";
    }

    private static void closeQuietly(Throwable primary, AutoCloseable... resources) {
        for (AutoCloseable r : resources) {
            if (r == null) continue;
            try {
                r.close();
            } catch (Exception e) {
                primary.addSuppressed(e);
            }
        }
    }

    private static String formatVersion(int v) { return (v / 1000) + "." + (v % 1000) / 10; }

    /**
     * Why this machine cannot run the CUDA backend (driver, device, kernel image or cuBLAS), or
     * null when it can. Probed once per piece.
     */
    public static String unavailabilityCause() {
        if (!Cuda.isAvailable()) return Cuda.unavailabilityCause();
        if (!KernelImage.isPresent()) return KernelImage.unavailabilityCause();
        if (!Cublas.library().isLoaded()) return Cublas.library().failure().orElseThrow().getMessage();
        return null;
    }

    public static boolean isAvailable() { return unavailabilityCause() == null; }

    /** A backend on device 0 that frees what is left on close; fails with the cause when CUDA is unavailable. */
    public static CudaBackend create() { return create(0, LeakPolicy.RELEASE); }

    public static CudaBackend create(int device, LeakPolicy leakPolicy) {
        String cause = unavailabilityCause();
        if (cause != null) throw new IllegalStateException("CUDA backend unavailable: " + cause);
        return new CudaBackend(device, leakPolicy);
    }

    @Override public String name() { return name; }

    /** The device's compute capability as major * 10 + minor, e.g. 90 for an H100 (what a library's per-architecture limits are stated in). */
    public int computeCapability() { return computeCapability; }

    @Override public String kind() { return "cuda"; }

    /** The allocator, for memory statistics. */
    public CudaAllocator allocator() { return allocator; }

    // The launchers, for tests of kernel variants the backend does not pick and for benchmarks.
    public ThresholdKernels thresholdKernels() { return threshold; }

    public OptimizerKernels optimizerKernels() { return optimizers; }

    public ElementwiseKernels elementwiseKernels() { return elementwise; }

    public SoftmaxKernels softmaxKernels() { return softmax; }

    public PermuteKernels permuteKernels() { return permutes; }

    /** FP32 to and from FP16/BF16 (the operands of cuSPARSELt's 2:4 products in sparse inference). */
    public HalfKernels halfKernels() { return halves; }

    /**
     * Kernel launches and cuBLAS calls issued from the host so far; a step replayed from a CUDA
     * graph ({@link CudaStepGraph}) adds none (its one graph launch is counted by the graph).
     */
    public long launchesIssued() { return rt.launches() + gemmCalls; }

    // ---------------------------------------------------------------- CUDA-graph step capture

    void beginStepCapture(CudaStepGraph g) {
        enter();
        if (capturing != null) throw new IllegalStateException("a training step is already being captured on " + name);
        capturing = g;
    }

    void endStepCapture(CudaStepGraph g) {
        if (capturing == g) capturing = null;
    }

    /** A step graph is about to be captured: scratch replaced from now on stays allocated while it lives. */
    void stepGraphOpened() {
        liveGraphs++;
    }

    /** A step graph was destroyed (after the stream drained); the last one frees the scratch replaced meanwhile. */
    void stepGraphClosed() {
        if (--liveGraphs > 0) return;
        liveGraphs = 0;
        for (Tensor t : retiredScratch) t.close();
        retiredScratch.clear();
    }

    /**
     * One scratch buffer for every layer of every model on this backend (see
     * {@link Backend#sharedScratch}): grown on a request larger than it, never shrunk, so a
     * smaller batch (a tail batch, an evaluation) reuses it as it is. It cannot grow during a
     * CUDA-graph capture (a capture may not allocate, and the graph must see fixed addresses):
     * run the step once uncaptured first, which sizes it. Replaced while a captured graph lives,
     * the old buffer is kept until the last graph closes, as the graph still writes it.
     */
    @Override public Tensor sharedScratch(long floats) {
        enter();
        if (floats <= 0) throw new IllegalArgumentException("sharedScratch: asked for " + floats + " floats; ask for at least one");
        if (scratch != null && scratch.size() >= floats) return scratch;
        if (capturing != null)
            throw new CudaAllocator.GraphCaptureAllocationException("the shared scratch of " + name + " must grow from "
                    + (scratch == null ? 0 : scratch.size()) + " to " + floats + " floats during a CUDA graph capture, which may "
                    + "not allocate: run the captured step once uncaptured first, so that the scratch has its size");
        Tensor grown = allocateUninitialised(Shape.of(floats), DType.FLOAT32);
        if (scratch != null) {
            if (liveGraphs > 0) retiredScratch.add(scratch);
            else scratch.close();
        }
        scratch = grown;
        return scratch;
    }

    /** Floats of the shared scratch now (0: none yet), for tests and memory reports. */
    public long sharedScratchFloats() { return scratch == null ? 0 : scratch.size(); }

    void launchStepGraph(dev.shears.nativebind.CudaGraph graph) {
        enter();
        graph.launch(stream);
    }

    private CudaStepGraph requireCapture(String op) {
        if (capturing == null)
            throw new IllegalStateException(op + " writes into a captured step's device results and runs only inside CudaStepGraph.capture");
        return capturing;
    }

    /**
     * The fused softmax cross-entropy of {@link #softmaxCrossEntropy} inside a captured step: the
     * loss sum and any bad labels go to the step graph's device results, read back after each
     * replay by {@link CudaStepGraph#launch}; nothing waits.
     */
    public void softmaxCrossEntropyIntoStep(Tensor logits, Tensor labels, Tensor dLogits, float gradScale, int rows, int cols) {
        enter();
        CudaStepGraph g = requireCapture("softmaxCrossEntropyIntoStep");
        checkCrossEntropy(logits, labels, dLogits, rows, cols);
        softmax.softmaxCrossEntropyInto(f(logits, "softmaxCrossEntropyIntoStep"), t(labels, DType.INT32, "softmaxCrossEntropyIntoStep labels").pointer(),
                fOrZero(dLogits, "softmaxCrossEntropyIntoStep"), gradScale, rows, cols,
                g.lossAddress(), g.badLabelsAddress(), g.firstBadRowAddress());
    }

    /** {@link #countCorrect} inside a captured step, into the step graph's device results. */
    public void countCorrectIntoStep(Tensor logits, Tensor labels, int rows, int cols) {
        enter();
        CudaStepGraph g = requireCapture("countCorrectIntoStep");
        checkCountCorrect(logits, labels, rows, cols);
        softmax.countCorrectInto(f(logits, "countCorrectIntoStep"), t(labels, DType.INT32, "countCorrectIntoStep labels").pointer(),
                rows, cols, g.correctAddress());
    }

    /**
     * {@link #distillation} inside a captured step: the summed loss goes to the step graph's device
     * results ({@link CudaStepGraph.Result#distillationLossSum}); nothing waits.
     */
    public void distillationIntoStep(Tensor studentLogits, Tensor teacherLogits, Tensor dLogits, float weight, float temperature,
                                     float gradScale, int rows, int cols) {
        enter();
        CudaStepGraph g = requireCapture("distillationIntoStep");
        checkDistillation(studentLogits, teacherLogits, dLogits, weight, temperature, rows, cols);
        distill.distillationInto(f(studentLogits, "distillationIntoStep"), f(teacherLogits, "distillationIntoStep"),
                fOrZero(dLogits, "distillationIntoStep"), weight, temperature, gradScale, rows, cols, g.distillationLossAddress());
    }

    /** The stream every op is queued on (for CUDA-event timing and graph capture). */
    public CudaStream stream() { return stream; }

    private void enter() {
        Thread t = Thread.currentThread();
        if (t != owner) {
            context.makeCurrent();
            owner = t;
        }
    }

    /** Returns a tensor's block (from close(), or from the cleaner once the tensor is unreachable). */
    void release(long pointer, boolean fromCleaner) {
        if (!fromCleaner) enter();
        allocator.free(pointer, fromCleaner);
    }

    // ================================================================ tensors and checks

    private CudaTensor t(Tensor t, DType dtype, String op) {
        if (t instanceof CudaTensor c && c.backend() == this) {
            if (c.dtype() != dtype) throw new IllegalArgumentException(op + ": expected a " + dtype + " tensor, got " + t);
            return c;
        }
        throw new IllegalArgumentException(op + ": expected a tensor of this CUDA backend, got " + t
                + (t == null ? "" : " of " + t.backend().name()));
    }

    private long f(Tensor x, String op) { return t(x, DType.FLOAT32, op).pointer(); }

    private long fOrZero(Tensor x, String op) { return x == null ? 0 : f(x, op); }

    private static KernelGeometry geometry(ConvGeometry g) {
        return new KernelGeometry(g.channels(), g.height(), g.width(), g.kernelH(), g.kernelW(), g.strideH(), g.strideW(),
                g.padTop(), g.padLeft(), g.dilationH(), g.dilationW(), g.outH(), g.outW(), g.padBottom(), g.padRight());
    }

    // ================================================================ memory

    @Override public Tensor allocate(Shape shape, DType dtype) {
        enter();
        long bytes = shape.size() * dtype.bytes();
        long p = allocator.allocate(bytes);
        if (bytes > 0) Cuda.memsetD8Async(p, (byte) 0, bytes, stream.handle());
        return CudaTensor.owning(this, shape, dtype, p);
    }

    private CudaTensor allocateUninitialised(Shape shape, DType dtype) {
        return CudaTensor.owning(this, shape, dtype, allocator.allocate(shape.size() * dtype.bytes()));
    }

    @Override public Tensor upload(float[] host, Shape shape) {
        return upload("upload", host.length, "floats", MemorySegment.ofArray(host), shape, DType.FLOAT32);
    }

    @Override public Tensor uploadBytes(byte[] host, Shape shape) {
        return upload("uploadBytes", host.length, "bytes", MemorySegment.ofArray(host), shape, DType.UINT8);
    }

    @Override public Tensor uploadInts(int[] host, Shape shape) {
        return upload("uploadInts", host.length, "ints", MemorySegment.ofArray(host), shape, DType.INT32);
    }

    /** A new tensor holding the first shape.size() of {@code length} host elements ({@code unit} names them in errors). */
    private CudaTensor upload(String op, int length, String unit, MemorySegment host, Shape shape, DType dtype) {
        enter();
        long n = shape.size();
        if (length < n) throw new IllegalArgumentException(op + ": " + length + " " + unit + " for shape " + shape);
        CudaTensor out = allocateUninitialised(shape, dtype);
        staging.upload(host, 0, out.pointer(), n * dtype.bytes());
        return out;
    }

    @Override public void download(Tensor src, long srcOffset, float[] dst, int dstOffset, int count) {
        enter();
        long p = f(src, "download");
        checkRange("download", src, srcOffset, count);
        if (dstOffset < 0 || dstOffset + count > dst.length)
            throw new IllegalArgumentException("download: " + count + " floats at " + dstOffset + " do not fit an array of " + dst.length);
        staging.download(p + srcOffset * 4, MemorySegment.ofArray(dst), dstOffset * 4L, count * 4L);
    }

    @Override public byte[] downloadBytes(Tensor src) {
        enter();
        CudaTensor c = t(src, DType.UINT8, "downloadBytes");
        byte[] out = new byte[src.shape().intSize()];
        staging.download(c.pointer(), MemorySegment.ofArray(out), 0, out.length);
        return out;
    }

    /** Copies an INT32 tensor into host memory (for tests and checkpoints of index tensors). */
    public int[] downloadInts(Tensor src) {
        enter();
        CudaTensor c = t(src, DType.INT32, "downloadInts");
        int[] out = new int[src.shape().intSize()];
        staging.download(c.pointer(), MemorySegment.ofArray(out), 0, out.length * 4L);
        return out;
    }

    @Override public void write(float[] src, int srcOffset, Tensor dst, long dstOffset, int count) {
        enter();
        long p = f(dst, "write");
        checkRange("write", dst, dstOffset, count);
        if (srcOffset < 0 || srcOffset + count > src.length)
            throw new IllegalArgumentException("write: " + count + " floats at " + srcOffset + " exceed an array of " + src.length);
        staging.upload(MemorySegment.ofArray(src), srcOffset * 4L, p + dstOffset * 4, count * 4L);
    }

    @Override public void copy(Tensor src, long srcOffset, Tensor dst, long dstOffset, long count) {
        enter();
        if (src.dtype() != dst.dtype()) throw new IllegalArgumentException("copy " + src + " -> " + dst + ": dtypes differ");
        CudaTensor s = t(src, src.dtype(), "copy"), d = t(dst, dst.dtype(), "copy");
        checkRange("copy (source)", src, srcOffset, count);
        checkRange("copy (destination)", dst, dstOffset, count);
        if (count == 0) return;
        int eb = src.dtype().bytes();
        Cuda.memcpyDtoDAsync(d.pointer(dstOffset), s.pointer(srcOffset), count * eb, stream.handle());
    }

    @Override public void fill(Tensor t, float value) {
        enter();
        CudaTensor c = t(t, t.dtype(), "fill");
        long n = t.size();
        if (n == 0) return;
        switch (t.dtype()) {
            case FLOAT32 -> Cuda.memsetD32Async(c.pointer(), Float.floatToRawIntBits(value), n, stream.handle());
            case INT32 -> Cuda.memsetD32Async(c.pointer(), (int) value, n, stream.handle());
            case UINT8 -> Cuda.memsetD8Async(c.pointer(), (byte) (int) value, n, stream.handle());
        }
    }

    @Override public void synchronize() {
        enter();
        stream.synchronize();
    }

    // ================================================================ dense math

    @Override public void gemm(boolean transA, boolean transB, int m, int n, int k,
                               float alpha, Tensor a, long aOffset, long strideA,
                               Tensor b, long bOffset, long strideB,
                               float beta, Tensor c, long cOffset, long strideC, int batch) {
        enter();
        if (m < 0 || n < 0 || k < 0 || batch < 0)
            throw new IllegalArgumentException("gemm: negative size m=" + m + " n=" + n + " k=" + k + " batch=" + batch);
        if (m == 0 || n == 0 || batch == 0) return;
        long A = f(a, "gemm A"), B = f(b, "gemm B"), C = f(c, "gemm C");
        gemmCalls++;
        checkMatrices("gemm A", a, aOffset, strideA, (long) m * k, batch, k == 0);
        checkMatrices("gemm B", b, bOffset, strideB, (long) k * n, batch, k == 0);
        checkMatrices("gemm C", c, cOffset, strideC, (long) m * n, batch, false);
        if (k == 0) { // an empty sum: C = beta * C
            for (int i = 0; i < batch; i++) {
                long at = C + (cOffset + i * strideC) * 4;
                if (beta == 0) Cuda.memsetD32Async(at, 0, (long) m * n, stream.handle());
                else elementwise.scale(at, beta, (long) m * n);
            }
            return;
        }
        int lda = transA ? m : k, ldb = transB ? k : n;
        // Row-major C (m x n) is column-major C^T (n x m) = op(B)^T op(A)^T: swap the operands.
        cublas.sgemmStridedBatched(transB ? Cublas.CUBLAS_OP_T : Cublas.CUBLAS_OP_N,
                transA ? Cublas.CUBLAS_OP_T : Cublas.CUBLAS_OP_N, n, m, k, alpha,
                B + bOffset * 4, ldb, strideB, A + aOffset * 4, lda, strideA, beta, C + cOffset * 4, n, strideC, batch);
    }

    @Override public void axpy(float alpha, Tensor x, Tensor y) {
        enter();
        long n = sameSize("axpy", x, y);
        elementwise.axpy(alpha, f(x, "axpy"), f(y, "axpy"), n);
    }

    @Override public void scale(Tensor x, float alpha) {
        enter();
        elementwise.scale(f(x, "scale"), alpha, x.size());
    }

    @Override public void add(Tensor a, Tensor b, Tensor out) {
        enter();
        long n = sameSize("add", a, b);
        sameSize("add", a, out);
        elementwise.add(f(a, "add"), f(b, "add"), f(out, "add"), n);
    }

    @Override public void mul(Tensor a, Tensor b, Tensor out) {
        enter();
        long n = sameSize("mul", a, b);
        sameSize("mul", a, out);
        elementwise.mul(f(a, "mul"), f(b, "mul"), f(out, "mul"), n);
    }

    @Override public void addBias(Tensor x, Tensor b, int outer, int channels, int inner) {
        enter();
        checkLayout("addBias", x, outer, channels, inner);
        checkSize("addBias bias", b, channels);
        bias.addBias(f(x, "addBias"), f(b, "addBias"), outer, channels, inner);
    }

    @Override public void biasGrad(Tensor dy, Tensor dBias, int outer, int channels, int inner, boolean accumulate) {
        enter();
        checkLayout("biasGrad", dy, outer, channels, inner);
        checkSize("biasGrad dBias", dBias, channels);
        bias.biasGrad(f(dy, "biasGrad"), f(dBias, "biasGrad"), outer, channels, inner, accumulate);
    }

    @Override public double sum(Tensor x) {
        enter();
        return elementwise.sum(f(x, "sum"), x.size(), false);
    }

    @Override public double sumSquares(Tensor x) {
        enter();
        return elementwise.sum(f(x, "sumSquares"), x.size(), true);
    }

    // ================================================================ activations, losses

    @Override public void activation(Activation fn, float alpha, float beta, Tensor x, Tensor y) {
        enter();
        long n = sameSize("activation " + fn, x, y);
        activations.forward(fn.ordinal(), alpha, beta, f(x, "activation"), f(y, "activation"), n);
    }

    @Override public void activationBackward(Activation fn, float alpha, float beta, Tensor x, Tensor y, Tensor dy, Tensor dx) {
        enter();
        long n = sameSize("activationBackward " + fn, x, dy);
        sameSize("activationBackward " + fn, x, dx);
        sameSize("activationBackward " + fn, x, y);
        activations.backward(fn.ordinal(), alpha, beta, f(x, "activationBackward"), f(y, "activationBackward"),
                f(dy, "activationBackward"), f(dx, "activationBackward"), n);
    }

    @Override public void prelu(Tensor x, Tensor slope, Tensor y, int outer, int channels, int inner) {
        enter();
        checkLayout("prelu", x, outer, channels, inner);
        checkLayout("prelu", y, outer, channels, inner);
        checkSize("prelu slope", slope, channels);
        activations.prelu(f(x, "prelu"), f(slope, "prelu"), f(y, "prelu"), outer, channels, inner);
    }

    @Override public void preluBackward(Tensor x, Tensor slope, Tensor dy, Tensor dx, Tensor dSlope, int outer, int channels, int inner) {
        enter();
        checkLayout("preluBackward", x, outer, channels, inner);
        checkLayout("preluBackward", dy, outer, channels, inner);
        checkLayout("preluBackward", dx, outer, channels, inner);
        checkSize("preluBackward slope", slope, channels);
        checkSize("preluBackward dSlope", dSlope, channels);
        activations.preluBackward(f(x, "preluBackward"), f(slope, "preluBackward"), f(dy, "preluBackward"),
                f(dx, "preluBackward"), f(dSlope, "preluBackward"), outer, channels, inner);
    }

    @Override public void softmax(Tensor x, Tensor y, int rows, int cols) {
        enter();
        checkRows("softmax", rows, cols, "x", x, "y", y);
        softmax.softmax(f(x, "softmax"), f(y, "softmax"), rows, cols, false);
    }

    @Override public void logSoftmax(Tensor x, Tensor y, int rows, int cols) {
        enter();
        checkRows("logSoftmax", rows, cols, "x", x, "y", y);
        softmax.softmax(f(x, "logSoftmax"), f(y, "logSoftmax"), rows, cols, true);
    }

    @Override public void softmaxBackward(Tensor y, Tensor dy, Tensor dx, int rows, int cols) {
        enter();
        checkRows("softmaxBackward", rows, cols, "y", y, "dy", dy, "dx", dx);
        softmax.softmaxBackward(f(y, "softmaxBackward"), f(dy, "softmaxBackward"), f(dx, "softmaxBackward"), rows, cols);
    }

    /** Log-softmax backward on the device (the interface's default would round-trip through the host). */
    @Override public void logSoftmaxBackward(Tensor y, Tensor dy, Tensor dx, int rows, int cols) {
        enter();
        checkRows("logSoftmaxBackward", rows, cols, "y", y, "dy", dy, "dx", dx);
        softmax.logSoftmaxBackward(f(y, "logSoftmaxBackward"), f(dy, "logSoftmaxBackward"), f(dx, "logSoftmaxBackward"), rows, cols);
    }

    @Override public double softmaxCrossEntropy(Tensor logits, Tensor labels, Tensor dLogits, float gradScale, int rows, int cols) {
        enter();
        checkCrossEntropy(logits, labels, dLogits, rows, cols);
        return softmax.softmaxCrossEntropy(f(logits, "softmaxCrossEntropy"), t(labels, DType.INT32, "softmaxCrossEntropy labels").pointer(),
                fOrZero(dLogits, "softmaxCrossEntropy"), gradScale, rows, cols);
    }

    @Override public double distillation(Tensor studentLogits, Tensor teacherLogits, Tensor dLogits, float weight, float temperature,
                                         float gradScale, int rows, int cols) {
        enter();
        checkDistillation(studentLogits, teacherLogits, dLogits, weight, temperature, rows, cols);
        return distill.distillation(f(studentLogits, "distillation"), f(teacherLogits, "distillation"), fOrZero(dLogits, "distillation"),
                weight, temperature, gradScale, rows, cols);
    }

    @Override public int countCorrect(Tensor logits, Tensor labels, int rows, int cols) {
        enter();
        checkCountCorrect(logits, labels, rows, cols);
        return softmax.countCorrect(f(logits, "countCorrect"), t(labels, DType.INT32, "countCorrect labels").pointer(), rows, cols);
    }

    /**
     * argmax.cu (CPU twin HostKernels.argMaxRows) into a device buffer of rows ints, then only those
     * come back: 4 bytes a row instead of 4 x cols. Waits for the copy.
     */
    @Override public void argMaxRows(Tensor logits, int rows, int cols, int[] predicted) {
        enter();
        checkArgMaxRows(logits, rows, cols, predicted);
        if (rows == 0) return;
        long out = allocator.allocate(4L * rows);
        try {
            argMax.argMaxRows(f(logits, "argMaxRows"), rows, cols, out);
            staging.download(out, MemorySegment.ofArray(predicted), 0, 4L * rows);
        } finally {
            allocator.free(out);
        }
    }

    // ================================================================ convolution and pooling

    @Override public void im2col(Tensor x, long xOffset, ConvGeometry g, Tensor cols, long colsOffset) {
        enter();
        checkRange("im2col x", x, xOffset, g.imageElements(1));
        checkRange("im2col cols", cols, colsOffset, g.columnElements(1));
        conv.im2col(f(x, "im2col") + xOffset * 4, geometry(g), f(cols, "im2col") + colsOffset * 4);
    }

    /**
     * {@link #im2col} with the rows in (ki, kj, c) order, row (ki*kw + kj)*C + c (shears_im2col_tap_major;
     * CPU twin {@code CpuBackend.im2colTapMajor}): what a Conv2D pruned 2:4 along input channels
     * runs on in sparse inference (dev.shears.core.sparse.ConvTaps). Not part of the Backend contract.
     */
    public void im2colTapMajor(Tensor x, long xOffset, ConvGeometry g, Tensor cols, long colsOffset) {
        enter();
        checkRange("im2col x", x, xOffset, g.imageElements(1));
        checkRange("im2col cols", cols, colsOffset, g.columnElements(1));
        conv.im2colTapMajor(f(x, "im2col") + xOffset * 4, geometry(g), f(cols, "im2col") + colsOffset * 4);
    }

    @Override public void col2im(Tensor cols, long colsOffset, ConvGeometry g, Tensor dx, long dxOffset) {
        enter();
        checkRange("col2im cols", cols, colsOffset, g.columnElements(1));
        checkRange("col2im dx", dx, dxOffset, g.imageElements(1));
        conv.col2im(f(cols, "col2im") + colsOffset * 4, geometry(g), f(dx, "col2im") + dxOffset * 4);
    }

    /** shears_im2col_batch; CPU twin CpuBackend.im2colBatch. */
    @Override public void im2colBatch(Tensor x, long xOffset, int images, ConvGeometry g, Tensor cols, long colsOffset) {
        enter();
        checkImages("im2colBatch", images);
        checkRange("im2colBatch x", x, xOffset, g.imageElements(images));
        checkRange("im2colBatch cols", cols, colsOffset, g.columnElements(images));
        conv.im2colBatch(f(x, "im2colBatch") + xOffset * 4, geometry(g), images, f(cols, "im2colBatch") + colsOffset * 4);
    }

    /** shears_col2im_batch; CPU twin CpuBackend.col2imBatch. */
    @Override public void col2imBatch(Tensor cols, long colsOffset, int images, ConvGeometry g, Tensor dx, long dxOffset) {
        enter();
        checkImages("col2imBatch", images);
        checkRange("col2imBatch cols", cols, colsOffset, g.columnElements(images));
        checkRange("col2imBatch dx", dx, dxOffset, g.imageElements(images));
        conv.col2imBatch(f(cols, "col2imBatch") + colsOffset * 4, geometry(g), images, f(dx, "col2imBatch") + dxOffset * 4);
    }

    /** A launch costs microseconds of host time here: a Conv2D unfolds a chunk of images at once. */
    @Override public boolean convUnfoldsImagesTogether() { return true; }

    /**
     * 128 MiB of floats, or a sixteenth of the device memory free when the backend opened if
     * that is less: the bound of the one {@link #sharedScratch} the Conv2D layers borrow (columns
     * and GEMM output of a chunk of images, sized for the largest layer; see Conv2D), whatever the
     * batch, unless one image alone needs more. The chunks that sizes are a few GEMMs and a few
     * launches each, instead of per-image work: an imported ResNet-50 at 224x224 fills it from
     * batch 64 (ConvScratchBudgetTest), mnist-cnn at 28x28 and batch 128 takes 104 MB in one chunk.
     */
    @Override public long convScratchBudgetFloats() { return convScratchBudgetFloats; }

    /**
     * depthwise.cu: one launch for the forward, two or three for the backward, instead of a GEMM per
     * group (per channel) and an im2col. CPU twin CpuDepthwise. Grouped convolutions that are not
     * depthwise keep Conv2D's grouped GEMMs.
     */
    @Override public boolean directDepthwise() { return true; }

    @Override public void depthwiseConv(Tensor x, Tensor kernel, Tensor y, ConvGeometry g, int n, int multiplier) {
        enter();
        checkDepthwise(x, kernel, y, g, n, multiplier);
        depthwise.forward(f(x, "depthwiseConv x"), f(kernel, "depthwiseConv kernel"), f(y, "depthwiseConv y"), geometry(g), n, multiplier);
    }

    @Override public void depthwiseConvBackward(Tensor x, Tensor kernel, Tensor dy, Tensor dx, Tensor dW, ConvGeometry g, int n, int multiplier) {
        enter();
        checkDepthwiseBackward(x, kernel, dy, dx, dW, g, n, multiplier);
        KernelGeometry kg = geometry(g);
        // the kernel gradient first: it reads x, which a caller may pass again as dx
        if (dW != null)
            depthwise.kernelGrad(f(x, "depthwiseConvBackward x"), f(dy, "depthwiseConvBackward dy"), f(dW, "depthwiseConvBackward dW"), kg, n, multiplier);
        if (dx != null)
            depthwise.inputGrad(f(kernel, "depthwiseConvBackward kernel"), f(dy, "depthwiseConvBackward dy"), f(dx, "depthwiseConvBackward dx"), kg, n, multiplier);
    }

    @Override public void maxPool(Tensor x, Tensor y, Tensor argmax, ConvGeometry g, int n) {
        enter();
        checkSize("maxPool x", x, g.imageElements(n));
        checkSize("maxPool y", y, g.pooledElements(n));
        if (argmax != null) checkSize("maxPool argmax", argmax, y.size());
        pool.maxPool(f(x, "maxPool"), f(y, "maxPool"), argmax == null ? 0 : t(argmax, DType.INT32, "maxPool argmax").pointer(),
                geometry(g), n);
    }

    @Override public void maxPoolBackward(Tensor dy, Tensor argmax, Tensor dx, ConvGeometry g, int n) {
        enter();
        checkSize("maxPoolBackward dy", dy, g.pooledElements(n));
        checkSize("maxPoolBackward argmax", argmax, dy.size());
        checkSize("maxPoolBackward dx", dx, g.imageElements(n));
        pool.maxPoolBackward(f(dy, "maxPoolBackward"), t(argmax, DType.INT32, "maxPoolBackward argmax").pointer(),
                f(dx, "maxPoolBackward"), geometry(g), n);
    }

    @Override public void avgPool(Tensor x, Tensor y, ConvGeometry g, int n, boolean countIncludePad) {
        enter();
        checkSize("avgPool x", x, g.imageElements(n));
        checkSize("avgPool y", y, g.pooledElements(n));
        pool.avgPool(f(x, "avgPool"), f(y, "avgPool"), geometry(g), n, countIncludePad);
    }

    @Override public void avgPoolBackward(Tensor dy, Tensor dx, ConvGeometry g, int n, boolean countIncludePad) {
        enter();
        checkSize("avgPoolBackward dy", dy, g.pooledElements(n));
        checkSize("avgPoolBackward dx", dx, g.imageElements(n));
        pool.avgPoolBackward(f(dy, "avgPoolBackward"), f(dx, "avgPoolBackward"), geometry(g), n, countIncludePad);
    }

    // ================================================================ normalisation, dropout

    @Override public void batchNormTrain(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                                         float momentum, float eps, Tensor y, Tensor saveMean, Tensor saveInvStd,
                                         int outer, int channels, int inner) {
        enter();
        checkLayout("batchNormTrain x", x, outer, channels, inner);
        checkLayout("batchNormTrain y", y, outer, channels, inner);
        for (Tensor p : new Tensor[] {gamma, beta, runningMean, runningVar, saveMean, saveInvStd})
            checkSize("batchNormTrain per-channel tensor", p, channels);
        String op = "batchNormTrain";
        batchNorm.train(f(x, op), f(gamma, op), f(beta, op), f(runningMean, op), f(runningVar, op), momentum, eps,
                f(y, op), f(saveMean, op), f(saveInvStd, op), outer, channels, inner);
    }

    @Override public void batchNormInference(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                                             float eps, Tensor y, int outer, int channels, int inner) {
        enter();
        checkLayout("batchNormInference x", x, outer, channels, inner);
        checkLayout("batchNormInference y", y, outer, channels, inner);
        for (Tensor p : new Tensor[] {gamma, beta, runningMean, runningVar})
            checkSize("batchNormInference per-channel tensor", p, channels);
        String op = "batchNormInference";
        batchNorm.inference(f(x, op), f(gamma, op), f(beta, op), f(runningMean, op), f(runningVar, op), eps, f(y, op),
                outer, channels, inner);
    }

    @Override public void batchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd,
                                            Tensor dx, Tensor dGamma, Tensor dBeta, int outer, int channels, int inner) {
        enter();
        checkLayout("batchNormBackward x", x, outer, channels, inner);
        checkLayout("batchNormBackward dy", dy, outer, channels, inner);
        checkLayout("batchNormBackward dx", dx, outer, channels, inner);
        for (Tensor p : new Tensor[] {gamma, saveMean, saveInvStd, dGamma, dBeta})
            checkSize("batchNormBackward per-channel tensor", p, channels);
        String op = "batchNormBackward";
        batchNorm.backward(f(x, op), f(dy, op), f(gamma, op), f(saveMean, op), f(saveInvStd, op), f(dx, op),
                f(dGamma, op), f(dBeta, op), outer, channels, inner);
    }

    @Override public void dropout(Tensor x, Tensor y, Tensor keepMask, float rate, long seed) {
        enter();
        long n = sameSize("dropout", x, y);
        checkSize("dropout keepMask", keepMask, n);
        if (capturing != null)
            throw new IllegalStateException("dropout with a host seed inside a captured training step would replay that seed every step; "
                    + "call dropout(x, y, keepMask, rate, stepSeed, salt), which reads the step seed from device memory");
        dropout.dropout(f(x, "dropout"), f(y, "dropout"), t(keepMask, DType.UINT8, "dropout keepMask").pointer(), n, seed,
                DropoutHash.threshold(rate), DropoutHash.scale(rate));
    }

    /** Inside a captured step the kernel derives the layer seed from the step seed in device memory (written before each replay). */
    @Override public void dropout(Tensor x, Tensor y, Tensor keepMask, float rate, long stepSeed, long salt) {
        enter();
        long n = sameSize("dropout", x, y);
        checkSize("dropout keepMask", keepMask, n);
        long onDevice = capturing == null ? 0 : capturing.stepSeedAddress();
        dropout.dropout(f(x, "dropout"), f(y, "dropout"), t(keepMask, DType.UINT8, "dropout keepMask").pointer(), n,
                DropoutHash.mix(stepSeed, salt), onDevice, salt, DropoutHash.threshold(rate), DropoutHash.scale(rate));
    }

    @Override public void dropoutBackward(Tensor dy, Tensor keepMask, Tensor dx, float rate) {
        enter();
        long n = sameSize("dropoutBackward", dy, dx);
        checkSize("dropoutBackward keepMask", keepMask, n);
        dropout.dropoutBackward(f(dy, "dropoutBackward"), t(keepMask, DType.UINT8, "dropoutBackward keepMask").pointer(),
                f(dx, "dropoutBackward"), n, DropoutHash.scale(rate));
    }

    // ================================================================ permute, LRN (on the device: Backend's defaults would round-trip through the host)

    @Override public void permute(Tensor x, Tensor y, int[] dims, int[] perm) {
        enter();
        long n = checkPermutation("permute", dims, perm);
        checkSize("permute x", x, n);
        checkSize("permute y", y, n);
        checkNotSame("permute", "y", y, "x", x);
        permutes.permute(f(x, "permute"), f(y, "permute"), dims, perm);
    }

    @Override public void permute(Tensor x, long xOffset, Tensor y, long yOffset, int[] dims, int[] perm) {
        enter();
        long n = checkPermutation("permute", dims, perm);
        checkRange("permute x", x, xOffset, n);
        checkRange("permute y", y, yOffset, n);
        checkDisjoint("permute", x, xOffset, y, yOffset, n);
        permutes.permute(f(x, "permute") + xOffset * 4, f(y, "permute") + yOffset * 4, dims, perm);
    }

    @Override public void lrn(Tensor x, Tensor y, int outer, int channels, int inner, int size, float alpha, float beta, float bias) {
        enter();
        checkLrn(x, y, outer, channels, inner, size);
        lrns.lrn(f(x, "lrn"), f(y, "lrn"), outer, channels, inner, size, alpha, beta, bias);
    }

    @Override public void lrnBackward(Tensor x, Tensor dy, Tensor dx, int outer, int channels, int inner,
                                      int size, float alpha, float beta, float bias) {
        enter();
        checkLrnBackward(x, dy, dx, outer, channels, inner, size);
        String op = "lrnBackward";
        lrns.lrnBackward(f(x, op), f(dy, op), f(dx, op), outer, channels, inner, size, alpha, beta, bias);
    }

    // ================================================================ pruning

    @Override public void magnitudeThresholds(List<Tensor> weights, long[] k, boolean global,
                                              float[] thresholds, long[] below, long[] equal) {
        enter();
        int n = weights.size();
        if (n == 0) throw new IllegalArgumentException("magnitudeThresholds: no tensors given");
        if (thresholds.length < n || below.length < n || equal.length < n)
            throw new IllegalArgumentException("magnitudeThresholds: output arrays shorter than the " + n + " tensors");
        long[] pointers = new long[n], sizes = new long[n];
        for (int i = 0; i < n; i++) {
            pointers[i] = f(weights.get(i), "magnitudeThresholds tensor " + i);
            sizes[i] = weights.get(i).size();
        }
        ThresholdPlan plan = new ThresholdPlan(sizes, k, global, ThresholdPlan.Variant.TILED);
        threshold.select(pointers, plan, thresholds, below, equal);
    }

    @Override public long updateMask(Tensor weights, Tensor mask, float threshold, long tiesToPrune) {
        enter();
        long n = sameSize("updateMask", weights, mask);
        return masks.updateMask(f(weights, "updateMask"), t(mask, DType.UINT8, "updateMask mask").pointer(), n, threshold, tiesToPrune);
    }

    @Override public long updateMaskNm(Tensor weights, Tensor mask, long outer, long k, long inner, int keep, int m) {
        enter();
        long n = sameSize("updateMaskNm", weights, mask);
        Backend.checkNmLayout(n, outer, k, inner, keep, m);
        return masks.updateMaskNm(f(weights, "updateMaskNm"), t(mask, DType.UINT8, "updateMaskNm mask").pointer(), outer, k, inner, keep, m);
    }

    @Override public long applyMask(Tensor weights, Tensor mask) {
        enter();
        long n = sameSize("applyMask", weights, mask);
        return masks.applyMask(f(weights, "applyMask"), t(mask, DType.UINT8, "applyMask mask").pointer(), n);
    }

    @Override public void sgdUpdate(Tensor w, Tensor g, Tensor velocity, Tensor mask,
                                    float lr, float momentum, float weightDecay, boolean nesterov) {
        enter();
        long n = sameSize("sgdUpdate (weights, gradient)", w, g);
        if (velocity != null) sameSize("sgdUpdate (weights, velocity)", w, velocity);
        if (mask != null) sameSize("sgdUpdate (weights, mask)", w, mask);
        optimizers.sgd(f(w, "sgdUpdate"), f(g, "sgdUpdate"), fOrZero(velocity, "sgdUpdate"),
                mask == null ? 0 : t(mask, DType.UINT8, "sgdUpdate mask").pointer(), n, lr,
                capturing == null ? 0 : capturing.learningRateAddress(), momentum, weightDecay, nesterov,
                OptimizerKernels.Variant.AUTO);
    }

    @Override public void adamUpdate(Tensor w, Tensor g, Tensor m, Tensor v, Tensor mask,
                                     float lr, float beta1, float beta2, float eps, float weightDecay, boolean decoupled, long step) {
        enter();
        long n = sameSize("adamUpdate (weights, gradient)", w, g);
        sameSize("adamUpdate (weights, m)", w, m);
        sameSize("adamUpdate (weights, v)", w, v);
        if (mask != null) sameSize("adamUpdate (weights, mask)", w, mask);
        optimizers.adam(f(w, "adamUpdate"), f(g, "adamUpdate"), f(m, "adamUpdate"), f(v, "adamUpdate"),
                mask == null ? 0 : t(mask, DType.UINT8, "adamUpdate mask").pointer(), n,
                lr, beta1, beta2, eps, weightDecay, decoupled, step,
                capturing == null ? 0 : capturing.adamScalarsAddress(beta1, beta2), OptimizerKernels.Variant.AUTO);
    }

    // ================================================================ lifecycle

    /**
     * Waits for queued work, then releases everything. Under {@link LeakPolicy#STRICT} it fails
     * (after releasing the CUDA objects) if tensors of this backend are still open, naming how many
     * and their bytes; under {@link LeakPolicy#RELEASE} their memory goes with the context.
     */
    @Override public void close() {
        enter();
        RuntimeException failure = null;
        try {
            stream.synchronize();
        } catch (RuntimeException e) {
            failure = e;
        }
        // the backend's own tensors go first, so that a STRICT close counts only the caller's
        if (scratch != null) scratch.close();
        for (Tensor t : retiredScratch) t.close();
        scratch = null;
        retiredScratch.clear();
        AutoCloseable memory = leakPolicy == LeakPolicy.STRICT ? allocator : allocator::closeReleasingLive;
        for (AutoCloseable r : new AutoCloseable[] {staging, cublas, rt, memory, module, stream, context}) {
            try {
                r.close();
            } catch (Exception e) {
                if (failure == null) failure = e instanceof RuntimeException re ? re : new IllegalStateException(e);
                else failure.addSuppressed(e);
            }
        }
        if (failure != null) throw failure;
    }
}
