package dev.shears.core.cuda.sparse;

import dev.shears.core.cpu.HalfConversion;
import dev.shears.core.cuda.CudaBackend;
import dev.shears.core.cuda.EventTiming;
import dev.shears.core.sparse.BlockPattern;
import dev.shears.core.sparse.BlockedEllMatrix;
import dev.shears.core.sparse.ConvTaps;
import dev.shears.core.sparse.CsrMatrix;
import dev.shears.core.sparse.Settle;
import dev.shears.core.sparse.SparsePlanner;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.IntToDoubleFunction;
import java.util.stream.IntStream;

/**
 * The GPU twin of {@link SparsePlanner}: for one weight matrix, times every candidate on the
 * device at the batch that will be used and keeps the fastest. Candidates: cuBLAS SGEMM on the
 * layer's own dense weights (the baseline, always present), cuSPARSE CSR with each SpMM algorithm
 * that applies (and SpMV at batch 1, see {@link CudaCsrMatrix#candidates}), and cuSPARSE
 * Blocked-ELL for each configured block size that divides the matrix and stores at most
 * {@code bellMaxFill} values per nonzero, and for a block-pruned matrix ({@link BlockPattern#squareBlock},
 * as the CPU planner) with its own block size, configured or not, whatever its fill. A sparse format must beat dense by {@code margin}, the
 * CPU planner's margin by default, so a planned model is never slower than the dense one beyond
 * timing noise.
 *
 * <p>Timing: CUDA events on the backend's stream around each run, {@code warmup} untimed runs
 * first, the median of {@code repeats}. No L2 flush: a layer's weights are as warm (or cold) in
 * inference as here, unlike the benchmark's cold-cache sweep. The first time a (shape, batch,
 * candidates) is planned in this JVM, untimed passes over every candidate run until the figures
 * are stable ({@link Settle}, on its own budget {@link Settle#GPU_PLANNER}: about 2 s per shape
 * and 10 s per JVM at most) and the last of those passes is the candidates' timing: a few warm-up runs do
 * not bring an idle GPU's clocks up, nor load every library kernel, before the first layer is
 * judged ({@link Options#settle()}; the CPU planner does the same for its JIT).
 *
 * <p>cuSPARSELt 2:4 ({@link CudaStructuredMatrix}, labelled {@code 2:4-lt fp16} or
 * {@code 2:4-lt bf16}) is a candidate only under an explicit reduced-precision opt-in
 * ({@link Options#precision()} FP16 or BF16; {@code shears eval --sparse --backend cuda --precision
 * fp16}), because it multiplies 16-bit values: the layer's inputs, weights and outputs are rounded
 * to FP16/BF16 (FP32 accumulation), so its outputs differ from the FP32 model's by 16-bit rounding
 * rather than float rounding. With the opt-in it is offered for a matrix whose A is 2:4 along its
 * rows and, for FP16, whose weights fit FP16's range and whose activations, measured on a
 * calibration batch ({@link ActivationRange}), fit it with a 2x margin ({@link #FP16_ACTIVATION_LIMIT});
 * any shape, padded to cuSPARSELt's multiples.
 * That is a Dense layer's A = W^T pruned as pruning's NmLayout does (for each output, inputs
 * 4g..4g+3 hold at most two nonzeros), a 1x1 convolution's kernel, and, through
 * {@link #chooseConv}, a larger convolution pruned 2:4 along input channels at each kernel tap: its
 * A is then the tap-major kernel ({@link ConvTaps}) and the choice says {@link Choice#tapMajor()},
 * so that the layer builds its im2col rows in the same order. Building it autotunes its product
 * for the planned batch once (cusparseLtMatmulSearch, {@link CudaStructuredMatrix}); it is then
 * timed, conversions included, like every other candidate and kept only when it beats dense by
 * the margin. Where it is not
 * offered, the choice's {@code rejected} says why (not 2:4, FP16 overflow of weights or activations, the library missing).
 */
public final class CudaSparsePlanner {

    /**
     * @param warmup      untimed runs per candidate
     * @param repeats     timed runs per candidate (the median is kept)
     * @param bellBlocks  Blocked-ELL block sizes to try
     * @param bellMaxFill skip Blocked-ELL when stored values / nonzeros exceeds this
     * @param margin      a sparse format must be at least this fraction faster than dense (0.05 = 5%)
     * @param force       null to choose by time; else the label prefix of the candidate to choose
     *                    whenever one applies, timed or not (tests use it to run every format)
     * @param precision   {@link Precision#FP32} (the default): float32 candidates only; FP16 or
     *                    BF16: the opt-in that adds cuSPARSELt 2:4 ("2:4-lt fp16") for 2:4 Dense and Conv2D layers
     * @param settle      settle the timings ({@link Settle}) of a (shape, batch, candidates) the first time it is
     *                    planned, and the whole-model check's ({@code CudaSparseModel#keepOnlyIfFaster}); false
     *                    only where the figures do not matter ({@link #quick}: tests, the emulator)
     */
    public record Options(int warmup, int repeats, int[] bellBlocks, double bellMaxFill, double margin, String force, Precision precision,
                          boolean settle) {
        public Options {
            if (warmup < 0 || repeats < 1 || bellMaxFill < 1 || margin < 0 || precision == null)
                throw new IllegalArgumentException("bad GPU planner options: warmup=" + warmup + " repeats=" + repeats
                        + " bellMaxFill=" + bellMaxFill + " margin=" + margin + " precision=" + precision);
            bellBlocks = bellBlocks.clone();
        }

        /** FP32 options (no reduced-precision candidate) that settle. */
        public Options(int warmup, int repeats, int[] bellBlocks, double bellMaxFill, double margin, String force) {
            this(warmup, repeats, bellBlocks, bellMaxFill, margin, force, Precision.FP32, true);
        }

        /** 3 warm-up and 15 timed runs, blocks of 16 and 32 (tensor-core tiles), the CPU planner's margin, FP32. */
        public static Options defaults() {
            return new Options(3, 15, new int[] {16, 32}, 2.0, SparsePlanner.Options.defaults().margin(), null);
        }

        /** One warm-up, three timed runs, blocks of 4, no settling: for tests (the figures do not matter). */
        public static Options quick() {
            return new Options(1, 3, new int[] {4}, 4.0, SparsePlanner.Options.defaults().margin(), null).withSettle(false);
        }

        /** The same options, always choosing the candidate whose label starts with {@code prefix} where there is one. */
        public Options forcing(String prefix) { return new Options(warmup, repeats, bellBlocks, bellMaxFill, margin, prefix, precision, settle); }

        /** The same options at {@code p}: FP16 or BF16 opt in to the cuSPARSELt 2:4 candidate. */
        public Options withPrecision(Precision p) { return new Options(warmup, repeats, bellBlocks, bellMaxFill, margin, force, p, settle); }

        /** The same options, settling ({@link #settle()}) or not. */
        public Options withSettle(boolean s) { return new Options(warmup, repeats, bellBlocks, bellMaxFill, margin, force, precision, s); }
    }

    /**
     * The chosen matrix (the others are closed) and every candidate's time, dense first.
     * {@code tapMajor}: the matrix is a convolution's A in tap-major column order ({@link ConvTaps}),
     * so its im2col rows must come in (ki, kj, c) order ({@link CudaBackend#im2colTapMajor}).
     */
    public record Choice(CudaSparseMatrix matrix, String format, List<SparsePlanner.Timing> timings, List<String> rejected, boolean tapMajor) {
        /** A choice in the layer's own column order. */
        public Choice(CudaSparseMatrix matrix, String format, List<SparsePlanner.Timing> timings, List<String> rejected) {
            this(matrix, format, timings, rejected, false);
        }
    }

    /**
     * The largest magnitudes a layer's 2:4 product must carry, measured on a dense forward of a
     * calibration batch ({@code CudaSparseModel#plan}): {@code maxAbsInput} of its input X, and
     * {@code maxAbsOutput} of its product A X before the bias (the dense output's max plus the
     * bias's, a bound). Used to refuse the FP16 candidate where a value would overflow to inf.
     */
    public record ActivationRange(double maxAbsInput, double maxAbsOutput) {}

    /**
     * The largest magnitude an FP16 candidate may meet on the calibration batch: half of FP16's
     * largest finite value (65504). The 2:4 product converts its input X and its FP32-accumulated
     * output D to FP16 (cuSPARSELt's C/D are 16-bit), so either overflows to inf at 65504; the
     * factor 2 is the headroom for inputs the calibration batch did not contain (a sample, not a
     * bound: an evaluated image brighter or a logit larger than any of the batch's) and covers the
     * 16-bit rounding of inputs and weights (2^-11 relative each) many times over.
     */
    public static final double FP16_ACTIVATION_LIMIT = HalfConversion.FP16_MAX / 2.0;

    /**
     * Why the FP16 product cannot carry a layer whose activations reach {@code range}, or null
     * (also for BF16, which has FP32's exponent range, and when nothing was measured).
     */
    public static String activationsUnsuitable(ActivationRange range, Precision precision) {
        if (precision != Precision.FP16 || range == null) return null;
        String[] what = {"input", "output (before the bias)"};
        double[] max = {range.maxAbsInput(), range.maxAbsOutput()};
        for (int i = 0; i < 2; i++)
            if (!(max[i] <= FP16_ACTIVATION_LIMIT)) // NaN too
                return String.format(java.util.Locale.ROOT, "its %s reaches |%.6g| on the calibration batch, beyond FP16's range with"
                        + " a 2x margin (%.0f of +-65504): it would overflow to inf; use --precision bf16", what[i], max[i], FP16_ACTIVATION_LIMIT);
        return null;
    }

    /**
     * How one candidate is timed: the median milliseconds of one run of {@code run} (the candidate
     * labelled {@code label}) on {@code backend}'s stream; {@link #medianMillis} with the options'
     * warm-up and repeats, or a test's scripted figures.
     */
    @FunctionalInterface
    public interface Timer {
        double medianMs(CudaBackend backend, String label, Runnable run);
    }

    private final Options options;
    private final Settle settle;
    private final Timer timer;

    public CudaSparsePlanner(Options options) {
        this(options, Settle.GPU_PLANNER, (backend, label, run) -> medianMillis(backend, run, options.warmup(), options.repeats()));
    }

    /** A planner with its own settle state and timing (tests: a scripted clock and timer). */
    public CudaSparsePlanner(Options options, Settle settle, Timer timer) {
        this.options = options;
        this.settle = settle;
        this.timer = timer;
    }

    public CudaSparsePlanner() { this(Options.defaults()); }

    public Options options() { return options; }

    /**
     * Plans A [rows, cols] given as host values {@code a} (row-major) and as the layer's own
     * device tensor {@code dense} (the baseline; stored [cols, rows] when {@code kernelLayout}).
     * {@code batchMajor}: time {@link CudaSparseMatrix#multiply} on X [n, cols] (Dense layers);
     * otherwise {@link CudaSparseMatrix#multiplyT} on X [cols, n] (convolutions).
     */
    public Choice choose(CusparseRuntime cusparse, float[] a, Tensor dense, boolean kernelLayout, int rows, int cols, int n,
                         boolean batchMajor) {
        return choose(cusparse, a, dense, kernelLayout, rows, cols, n, batchMajor, null, null);
    }

    /** {@link #choose}, refusing the FP16 2:4 candidate where {@code range} (null: not measured) overflows it. */
    public Choice choose(CusparseRuntime cusparse, float[] a, Tensor dense, boolean kernelLayout, int rows, int cols, int n,
                         boolean batchMajor, ActivationRange range) {
        return choose(cusparse, a, dense, kernelLayout, rows, cols, n, batchMajor, null, range);
    }

    /**
     * Plans a single-group Conv2D from its kernel [out, in, kh, kw] (host values {@code kernel},
     * and the layer's own device tensor {@code dense}) on an im2col matrix of {@code n} output
     * pixels, as {@link #choose} with X [in*kh*kw, n]; with the precision opt-in, cuSPARSELt 2:4
     * runs the tap-major A when the kernel is 2:4 along input channels only in that order.
     */
    public Choice chooseConv(CusparseRuntime cusparse, float[] kernel, Tensor dense, int out, int in, int kh, int kw, int n) {
        return chooseConv(cusparse, kernel, dense, out, in, kh, kw, n, null);
    }

    /** {@link #chooseConv}, refusing the FP16 2:4 candidate where {@code range} (null: not measured) overflows it. */
    public Choice chooseConv(CusparseRuntime cusparse, float[] kernel, Tensor dense, int out, int in, int kh, int kw, int n,
                             ActivationRange range) {
        return choose(cusparse, kernel, dense, false, out, in * kh * kw, n, false, new int[] {in, kh, kw}, range);
    }

    /** {@code conv}: {in, kh, kw} of a convolution's kernel (A = [out, in*kh*kw]), else null; {@code range}: null when not measured. */
    private Choice choose(CusparseRuntime cusparse, float[] a, Tensor dense, boolean kernelLayout, int rows, int cols, int n,
                          boolean batchMajor, int[] conv, ActivationRange range) {
        if (n < 1) throw new IllegalArgumentException("the planner needs a batch of at least 1, got " + n);
        if (a.length != rows * cols) throw new IllegalArgumentException(a.length + " weights for a " + rows + " x " + cols + " matrix");
        CudaBackend backend = cusparse.backend();
        List<CudaSparseMatrix> matrices = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        List<Runnable> setups = new ArrayList<>();
        List<String> rejected = new ArrayList<>();
        int tapMajorIndex = -1; // the candidate running the tap-major A, if any
        CudaDenseMatrix denseMatrix = new CudaDenseMatrix(backend, dense, rows, cols, kernelLayout);
        add(matrices, labels, setups, denseMatrix, "dense", () -> {});
        long nonZeros = 0;
        for (float v : a) if (v != 0f) nonZeros++;
        if (nonZeros > 0 && nonZeros < (long) rows * cols) {
            CudaCsrMatrix csr = new CudaCsrMatrix(cusparse, CsrMatrix.fromDense(a, rows, cols));
            for (CudaCsrMatrix.Kernel k : CudaCsrMatrix.candidates(batchMajor, n))
                add(matrices, labels, setups, csr, "csr/" + k.label(), () -> csr.use(k));
            String bellUnsupported = CudaBlockedEllMatrix.supportedOn(backend.computeCapability());
            // A block-pruned matrix (every zero in an all-zero b x b block, BlockPattern: the CPU planner's detection)
            // also gets Blocked-ELL with its own block b, configured or not, and exempt from the fill limit: it stores
            // exactly the kept blocks plus ELL padding, so the limit (meant to skip hopeless scattered candidates) does
            // not apply. cuSPARSE's limits still do: compute capability 8.0+ for FP32 and, here, a block dividing both
            // dimensions (fits); a detected block that fails them is skipped with the reason in rejected.
            int pruned = BlockPattern.squareBlock(a, rows, cols);
            for (int b : BlockPattern.withSquareBlock(options.bellBlocks(), pruned)) {
                String detected = b == pruned ? " (the layer's detected " + b + "x" + b + " block pattern)" : "";
                if (bellUnsupported != null) {
                    rejected.add("blocked-ell-" + b + detected + ": " + bellUnsupported);
                    continue;
                }
                if (!CudaBlockedEllMatrix.fits(rows, cols, b)) {
                    rejected.add("blocked-ell-" + b + detected + ": " + b + " does not divide " + rows + " x " + cols
                            + " (cuSPARSE's Blocked-ELL here needs whole blocks)");
                    continue;
                }
                double fill = BlockedEllMatrix.fillRatio(a, rows, cols, b);
                if (b != pruned && fill > options.bellMaxFill()) {
                    rejected.add(String.format(java.util.Locale.ROOT, "blocked-ell-%d: stores %.1f values per nonzero (limit %.1f)", b, fill, options.bellMaxFill()));
                    continue;
                }
                CudaBlockedEllMatrix bell = new CudaBlockedEllMatrix(cusparse, BlockedEllMatrix.fromDense(a, rows, cols, b));
                add(matrices, labels, setups, bell, bell.format(), () -> {});
            }
            Precision precision = options.precision();
            if (precision != Precision.FP32) {
                String label = "2:4-lt " + precision.id();
                float[] ltA = a;
                boolean tapMajor = false;
                String ltCause = CusparseRuntime.ltUnavailabilityCause();
                String why = ltCause != null ? "cuSPARSELt unavailable: " + ltCause : CudaStructuredMatrix.unsuitable(a, rows, cols, precision);
                if (why != null && ltCause == null && conv != null && conv[1] * conv[2] > 1) {
                    // a convolution pruned 2:4 along input channels: its groups stride kh*kw columns in A, but are
                    // consecutive in the tap-major A (ConvTaps)
                    float[] taps = ConvTaps.tapMajor(a, rows, conv[0], conv[1], conv[2]);
                    why = ConvTaps.whyTapMajorNotTwoOfFour(taps, rows, conv[0], conv[1], conv[2]);
                    if (why == null) {
                        ltA = taps;
                        tapMajor = true;
                        why = CudaStructuredMatrix.unsuitable(ltA, rows, cols, precision); // FP16's range
                    }
                }
                if (why == null) why = activationsUnsuitable(range, precision);
                if (why != null) rejected.add(label + ": " + why);
                else {
                    try {
                        if (tapMajor) tapMajorIndex = matrices.size();
                        add(matrices, labels, setups, new CudaStructuredMatrix(cusparse, ltA, rows, cols, precision, n), label, () -> {});
                    } catch (RuntimeException e) {
                        rejected.add(label + ": " + e.getMessage());
                    }
                }
            }
        }
        Tensor x = null, y = null;
        try {
            float[] xs = new float[Math.multiplyExact(n, cols)];
            SplittableRandom rng = new SplittableRandom(42);
            for (int i = 0; i < xs.length; i++) xs[i] = (float) rng.nextDouble();
            x = backend.upload(xs, Shape.of(xs.length));
            y = backend.allocate(Shape.of((long) n * rows), dev.shears.core.tensor.DType.FLOAT32);
            Tensor xx = x, yy = y;
            IntToDoubleFunction time = i -> { // one candidate's timing: its setup (untimed), then its product
                setups.get(i).run();
                CudaSparseMatrix m = matrices.get(i);
                Runnable run = batchMajor ? () -> m.multiply(xx, n, yy) : () -> m.multiplyT(xx, 0, n, yy, 0);
                return timer.medianMs(backend, labels.get(i), run);
            };
            double[] ms = new double[matrices.size()];
            Arrays.fill(ms, Double.NaN);
            for (int i = 0; i < matrices.size(); i++) {
                try {
                    ms[i] = time.applyAsDouble(i);
                } catch (RuntimeException e) {
                    if (i == 0) throw e; // the dense baseline must run
                    rejected.add(labels.get(i) + ": " + e.getMessage());
                }
            }
            if (options.settle()) {
                // the candidates that ran, settled together (a candidate that ran once and fails later is a fault:
                // it propagates); the settle loop's last pass is their timing. A (shape, batch, candidates) settled
                // before keeps the pass above
                int[] ran = IntStream.range(0, ms.length).filter(i -> !Double.isNaN(ms[i])).toArray();
                Settle.Key key = new Settle.Key(rows, cols, n, batchMajor, Arrays.stream(ran).mapToObj(labels::get).toList());
                double[] settled = settle.onceTimed(key, () -> Arrays.stream(ran).mapToDouble(time).toArray());
                if (settled != null) for (int j = 0; j < ran.length; j++) ms[ran[j]] = settled[j];
            }
            int best = 0;
            String force = options.force();
            for (int i = 1; i < ms.length; i++) {
                if (Double.isNaN(ms[i])) continue;
                boolean forced = force != null && labels.get(i).startsWith(force) && (best == 0 || !labels.get(best).startsWith(force));
                boolean faster = force == null && ms[i] < ms[best] && ms[i] < ms[0] * (1 - options.margin());
                if (forced || faster) best = i;
            }
            List<SparsePlanner.Timing> timings = new ArrayList<>();
            for (int i = 0; i < ms.length; i++) if (!Double.isNaN(ms[i])) timings.add(new SparsePlanner.Timing(labels.get(i), ms[i]));
            setups.get(best).run();
            CudaSparseMatrix chosen = matrices.get(best);
            for (CudaSparseMatrix m : matrices) if (m != chosen) m.close(); // a CSR matrix appears once per kernel: close is idempotent
            return new Choice(chosen, labels.get(best), List.copyOf(timings), List.copyOf(rejected), best == tapMajorIndex);
        } catch (RuntimeException e) {
            for (CudaSparseMatrix m : matrices) m.close();
            throw e;
        } finally {
            if (x != null) x.close();
            if (y != null) y.close();
        }
    }

    private static void add(List<CudaSparseMatrix> matrices, List<String> labels, List<Runnable> setups, CudaSparseMatrix m,
                            String label, Runnable setup) {
        matrices.add(m);
        labels.add(label);
        setups.add(setup);
    }

    /**
     * Median milliseconds of {@code op} between two CUDA events on the backend's stream, after {@code warmup} untimed runs:
     * {@link EventTiming}'s loop, without an L2 flush (why: see there).
     */
    public static double medianMillis(CudaBackend backend, Runnable op, int warmup, int repeats) {
        return EventTiming.medianMillis(backend.stream(), warmup, repeats, null, op);
    }
}
