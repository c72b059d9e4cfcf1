package dev.shears.core.sparse;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Chooses a storage format for a weight matrix by timing every candidate on the CPU at the batch
 * size that will be used: dense ({@link DenseMatrix}), {@link CsrMatrix}, {@link BlockedEllMatrix}
 * (for the configured block sizes, skipped when it would store more than {@code bellMaxFill}
 * values per nonzero, since it cannot win then; and for a block-pruned matrix, with the block it was
 * pruned in, see {@link BlockPattern#squareBlock}) and {@link NmMatrix} 2:4 (only where the rows of
 * A follow the pattern in consecutive columns; for a Conv2D pruned 2:4 along input channels with a
 * kernel larger than 1x1, on its tap-major A, see {@link #chooseConv} and {@link ConvTaps}).
 * Dense is always a candidate and a sparse format must beat it by
 * {@code margin} to be chosen, so a planned model is never slower than the dense one beyond
 * timing noise. The first time a kernel code path is timed in this JVM ({@link #codePaths}: a
 * format's product of one kind), untimed passes run until the figures are stable
 * ({@link Settle#warmTimed}: about 2 s each and 10 s per JVM at most), so that a layer is not judged
 * on code the JIT is still compiling; a later shape on warm paths is timed again only while the JIT
 * was compiling the timed code around its pass, or a candidate ran far slower than its path's
 * rate predicts for its multiply-adds (code the JIT threw away for the new shape).
 */
public final class SparsePlanner {

    /**
     * @param warmup      at least this many untimed runs before measuring (JIT, caches)
     * @param repeats     at least this many timed runs
     * @param minMillis   and this much time, both warming up and timing, per candidate and pass
     *                    (split over the rounds), unless 100 runs come first ({@link CandidateTiming});
     *                    0: no settling either (the first calls run interpreted until the JIT
     *                    compiles the kernels: a planner that timed them chose formats at random)
     * @param bellBlocks  Blocked-ELL block sizes to try
     * @param bellMaxFill skip Blocked-ELL when stored values / nonzeros exceeds this
     * @param margin      a sparse format must be at least this fraction faster than dense (0.05 = 5%)
     * @param force       null to choose by time; else the label of the candidate to choose whenever
     *                    it is one, timed or not (tests use it to run a format on every layer)
     */
    public record Options(int warmup, int repeats, double minMillis, int[] bellBlocks, double bellMaxFill, double margin, String force) {
        public Options {
            if (warmup < 0 || repeats < 1 || minMillis < 0 || bellMaxFill < 1 || margin < 0)
                throw new IllegalArgumentException("bad planner options: warmup=" + warmup + " repeats=" + repeats
                        + " minMillis=" + minMillis + " bellMaxFill=" + bellMaxFill + " margin=" + margin);
            bellBlocks = bellBlocks.clone();
        }

        /** Options that choose by time. */
        public Options(int warmup, int repeats, double minMillis, int[] bellBlocks, double bellMaxFill, double margin) {
            this(warmup, repeats, minMillis, bellBlocks, bellMaxFill, margin, null);
        }

        /** The same options, always choosing the candidate labelled {@code label} (e.g. "2:4") where there is one. */
        public Options forcing(String label) { return new Options(warmup, repeats, minMillis, bellBlocks, bellMaxFill, margin, label); }

        public static Options defaults() { return new Options(3, 7, 40, new int[]{4, 16}, 2.0, 0.05); }

        /** Fewer, shorter runs: for tests. */
        public static Options quick() { return new Options(1, 3, 0, new int[]{4}, 2.0, 0.05); }
    }

    /** One candidate's median time for the product. */
    public record Timing(String format, double medianMs) {}

    /**
     * The chosen matrix and every candidate's time (dense first). {@code tapMajor}: the matrix is a
     * convolution's A in tap-major column order ({@link ConvTaps}), so its im2col rows must come in
     * (ki, kj, c) order; false for every matrix in the layer's own order.
     */
    public record Choice(SparseMatrix matrix, String format, List<Timing> timings, boolean tapMajor) {
        /** A choice in the layer's own column order. */
        public Choice(SparseMatrix matrix, String format, List<Timing> timings) { this(matrix, format, timings, false); }

        public double denseMs() { return timings.getFirst().medianMs(); }

        public double chosenMs() {
            for (Timing t : timings) if (t.format().equals(format)) return t.medianMs();
            throw new IllegalStateException("no timing for " + format);
        }

        public double speedupVsDense() { return denseMs() / chosenMs(); }
    }

    /** One timing of every candidate (ms each, candidate order): {@link #timeAll}, or a test's. */
    @FunctionalInterface
    interface Timer {
        double[] time(List<SparseMatrix> candidates, float[] x, float[] y, int n, boolean batchMajor);
    }

    private final Options options;
    private final Settle settle;
    private final Timer timer;

    public SparsePlanner(Options options) {
        this.options = options;
        this.settle = Settle.PLANNER;
        this.timer = this::timeAll;
    }

    /** A planner with its own settle state and timing (tests: a scripted timer and clock). */
    SparsePlanner(Options options, Settle settle, Timer timer) {
        this.options = options;
        this.settle = settle;
        this.timer = timer;
    }

    public SparsePlanner() { this(Options.defaults()); }

    public Options options() { return options; }

    /** The label a matrix carries in timings and reports, e.g. {@code blocked-ell-16}, {@code 2:4}. */
    public static String label(SparseMatrix m) {
        return switch (m) {
            case BlockedEllMatrix b -> "blocked-ell-" + b.blockSize();
            case NmMatrix nm -> nm.n() + ":" + nm.m();
            default -> m.format().id();
        };
    }

    /**
     * Times the candidates for A [rows, cols] (row-major) on a random input of {@code n} vectors
     * and returns the fastest. {@code batchMajor}: time {@link SparseMatrix#multiply} (Dense
     * layers: x [n, cols]); otherwise {@link SparseMatrix#multiplyT} (convolutions: X [cols, n]).
     */
    public Choice choose(float[] a, int rows, int cols, int n, boolean batchMajor) {
        return choose(a, rows, cols, n, batchMajor, null, null);
    }

    /**
     * Times the candidates for a single-group Conv2D with kernel [out, in, kh, kw] (row-major,
     * A = [out, in*kh*kw]) on an im2col matrix of {@code n} output pixels. As {@link #choose}, and
     * when the kernel is 2:4 along input channels only in tap-major order
     * ({@link ConvTaps#onlyTapMajorIsTwoOfFour}: a kernel larger than 1x1 pruned as Shears
     * prunes), {@link NmMatrix} on the tap-major A is a candidate too; if chosen, the choice says
     * {@link Choice#tapMajor()}.
     */
    public Choice chooseConv(float[] kernel, int out, int in, int kh, int kw, int n) {
        return chooseConv(kernel, out, in, kh, kw, n, null);
    }

    /**
     * {@link #chooseConv(float[], int, int, int, int, int)} timed on {@code cols}, the layer's real
     * im2col matrix X [in*kh*kw, n] (one image's; null: uniform random), every candidate on it (the
     * tap-major one too: the same values in another row order, and a sparse product's work does
     * not depend on them).
     */
    public Choice chooseConv(float[] kernel, int out, int in, int kh, int kw, int n, float[] cols) {
        int k = in * kh * kw;
        SparseMatrix.checkDense(kernel, out, k);
        float[] taps = ConvTaps.twoOfFourTapMajor(kernel, out, in, kh, kw);
        return choose(kernel, out, k, n, false, taps, cols);
    }

    /**
     * {@link #choose(float[], int, int, int, boolean)} with, when {@code tapMajorA} is given,
     * NmMatrix on it (a 2:4 convolution's A in tap-major order), timed on {@code input} (x [n, cols]
     * for batch-major products, X [cols, n] for the others; null: uniform random in [0, 1)).
     * Random inputs have no zeros, where real ones have many (ReLU outputs, blank pixels) that the
     * dense batch-1 GEMM skips ({@code Sgemm}'s small-M path): timed on them, dense does more work
     * than it does on real data, which favours the sparse formats. {@link SparseModel#plan(dev.shears.core.nn.Model, int,
     * SparsePlanner, dev.shears.core.tensor.Tensor)} gives each Dense layer its real input and each
     * Conv2D the im2col matrix of its real input.
     */
    private Choice choose(float[] a, int rows, int cols, int n, boolean batchMajor, float[] tapMajorA, float[] input) {
        SparseMatrix.checkDense(a, rows, cols);
        if (n < 1) throw new IllegalArgumentException("the planner needs a batch of at least 1, got " + n);
        float[] x;
        if (input != null) {
            if (input.length != (long) n * cols)
                throw new IllegalArgumentException("the planner's input for a " + rows + "x" + cols + " layer at batch " + n + " must hold "
                        + (long) n * cols + " values, got " + input.length);
            x = input;
        } else {
            x = new float[n * cols];
            SplittableRandom rng = new SplittableRandom(42);
            for (int i = 0; i < x.length; i++) x[i] = (float) rng.nextDouble();
        }
        float[] y = new float[n * rows];

        List<SparseMatrix> candidates = new ArrayList<>();
        int tapMajorIndex = -1; // the candidate built on tapMajorA, if any
        DenseMatrix dense = new DenseMatrix(a, rows, cols);
        candidates.add(dense);
        if (dense.nonZeros() < (long) rows * cols) {
            candidates.add(CsrMatrix.fromDense(a, rows, cols));
            // A block-pruned matrix (every zero in an all-zero b x b block) also gets Blocked-ELL with its own block b:
            // it stores exactly the kept blocks, and only ELL padding (block-rows keeping fewer blocks than the fullest),
            // so the fill limit, meant to skip hopeless scattered candidates, does not apply to it.
            int pruned = BlockPattern.squareBlock(a, rows, cols);
            for (int b : BlockPattern.withSquareBlock(options.bellBlocks(), pruned))
                if (b == pruned || BlockedEllMatrix.fillRatio(a, rows, cols, b) <= options.bellMaxFill())
                    candidates.add(BlockedEllMatrix.fromDense(a, rows, cols, b));
            // A Conv2D pruned 2:4 groups input channels at each kernel position (NVIDIA's grouping, the pruning
            // module's NmLayout): in A = [out, in*kh*kw] a group strides kh*kw, so only a 1x1 kernel passes here;
            // chooseConv passes the larger ones' tap-major A, in which the groups are consecutive (ConvTaps).
            if (NmMatrix.follows(a, rows, cols, 2, 4)) candidates.add(NmMatrix.fromDense(a, rows, cols));
            else if (tapMajorA != null) {
                tapMajorIndex = candidates.size();
                candidates.add(NmMatrix.fromDense(tapMajorA, rows, cols));
            }
        }
        // quick options (minMillis 0) promise no reliable figures: they are not settled either;
        // otherwise the settle's last pass is the timing
        Settle.Pass timing = () -> timer.time(candidates, x, y, n, batchMajor);
        // each candidate's multiply-adds: the settle's measure of deoptimised code on a warm path (Settle.DEOPTIMISED)
        double[] work = candidates.stream().mapToDouble(m -> (m instanceof DenseMatrix ? (double) rows * cols : (double) m.nonZeros()) * n).toArray();
        double[] ms = options.minMillis() <= 0 ? timing.run()
                : settle.warmTimed(codePaths(candidates.stream().map(SparsePlanner::label).toList(), n, batchMajor), work, timing);
        List<Timing> timings = new ArrayList<>();
        int best = 0;
        String force = options.force();
        for (int i = 0; i < candidates.size(); i++) {
            String label = label(candidates.get(i));
            timings.add(new Timing(label, ms[i]));
            boolean forced = force != null && label.equals(force) && !label(candidates.get(best)).equals(force);
            boolean faster = force == null && i > 0 && ms[i] < ms[best] && ms[i] < ms[0] * (1 - options.margin());
            if (forced || faster) best = i;
        }
        SparseMatrix chosen = candidates.get(best);
        return new Choice(chosen, label(chosen), List.copyOf(timings), best == tapMajorIndex);
    }

    /**
     * The compiled code the candidates {@code labels} run for a product of {@code n} columns, one
     * path each, as {@link Settle#warmTimed} settles them: the format (with its block or N:M), the
     * product ({@link SparseMatrix#multiply} for a batch-major one, {@link SparseMatrix#multiplyT}
     * otherwise: different loops) and the branch {@code n} takes: 1 (the GEMV/SpMV loops of
     * DenseMatrix, CsrMatrix, BlockedEllMatrix), 2-4 (Sgemm's small-row path for a batch-major
     * dense product, {@code Sgemm.SMALL_M}) or more. Shapes within a path run the same code:
     * their loop tails are warmed up for every path ({@link #warmUpKernels}).
     */
    static List<String> codePaths(List<String> labels, int n, boolean batchMajor) {
        String product = (batchMajor ? "multiply" : "multiplyT") + (n == 1 ? " n=1" : n <= 4 ? " n<=4" : " n>4");
        return labels.stream().map(l -> l + " " + product).toList();
    }

    /** Plans one Dense layer from its kernel W [in, out] and bias [out] (or null). */
    public SparseLinear planLinear(String name, float[] kernel, int in, int out, float[] bias, int batch) {
        return new SparseLinear(name, chooseLinear(kernel, in, out, batch).matrix(), bias);
    }

    /** The timing behind {@link #planLinear}, on a random input. */
    public Choice chooseLinear(float[] kernel, int in, int out, int batch) { return chooseLinear(kernel, in, out, batch, null); }

    /** {@link #chooseLinear(float[], int, int, int)} timed on the layer's input x [batch, in] (null: random). */
    public Choice chooseLinear(float[] kernel, int in, int out, int batch, float[] x) {
        Choice c = choose(SparseMatrix.fromDenseKernel(kernel, in, out), out, in, batch, true, null, x);
        if (c.matrix() instanceof DenseMatrix) // keep W as is: the dense product runs on it without a transpose
            return new Choice(DenseMatrix.fromKernel(kernel, in, out), c.format(), c.timings());
        return c;
    }

    private static volatile boolean warmedUp;

    /**
     * Rounds of every product in {@link #warmUpKernels} (fewer where 1.5 s run out first): the
     * first may run interpreted, the later ones in profiling C1 code, each taking every branch.
     */
    static final int WARM_UP_ROUNDS = 3;

    /**
     * Once per JVM, before the first timing: runs every format's products on a small matrix
     * {@link #WARM_UP_ROUNDS} times (at most 1.5 s), so that every vector loop and scalar tail is
     * in the profile the JIT compiles the kernels from. Written before the settle loop, it ran
     * for its whole 1.5 s (about 10 rounds on the shared 2-core box: the first, interpreted,
     * takes ~0.6 s) to get the kernels compiled before the first layer was timed; the settle loop
     * ({@link Settle#warmTimed}) now waits for exactly the compilations a layer's timing needs,
     * and the extra rounds only queued C2 compilations of paths the model may never run (N:M,
     * both products, four batch widths) ahead of the ones it does on the one C2 thread.
     */
    static synchronized void warmUpKernels() {
        if (warmedUp) return;
        // 97 x 101: neither is a multiple of 4, 8 or 16, so every vector loop AND its scalar tail
        // runs here. A tail first met on a real layer (e.g. 300 columns) is a branch the JIT never
        // saw: it deoptimises to the interpreter there and that layer's timing is 10-25x too slow.
        int rows = 97, cols = 101;
        float[] a = SparseBench.prune24(SparseBench.randomSparse(rows, cols, 0.0, 11), rows, cols);
        List<SparseMatrix> all = List.of(new DenseMatrix(a, rows, cols), CsrMatrix.fromDense(a, rows, cols),
                BlockedEllMatrix.fromDense(a, rows, cols, 4), NmMatrix.fromDense(a, rows, cols));
        int maxN = 85, size = Math.max(rows, cols);
        float[] x = SparseBench.randomSparse(maxN, size, 0.0, 12);
        float[] y = new float[maxN * size];
        long start = System.nanoTime();
        for (int i = 0; i < WARM_UP_ROUNDS && System.nanoTime() - start < 1_500_000_000L; i++)
            for (SparseMatrix m : all)
                for (int n : new int[]{1, 5, 64, 85}) { // 85 = 64 + 16 + 5: every vector loop and tail
                    m.multiply(x, n, y);
                    m.multiplyT(x, 0, n, n, y, 0, n);
                }
        warmedUp = true;
    }

    /** Rounds of timing in {@link #timeAll}: each candidate's time is its best round's median. */
    static final int ROUNDS = 3;

    /**
     * Median milliseconds of one product for every candidate, measured in {@link #ROUNDS}
     * interleaved rounds (each {@code minMillis / ROUNDS} long) keeping each candidate's fastest
     * round: a kernel that the JIT compiles, or deoptimises and recompiles, during one round is not
     * judged on it, and slow phases of a shared machine hit every candidate alike. Each round of a
     * candidate runs up to {@code minMillis / ROUNDS} untimed and as much timed, but no more than
     * about 100 runs each, and a candidate clearly slower than the best skips the later rounds
     * ({@link CandidateTiming}: a small layer's pass costs what its products cost). Warms the
     * kernels up first ({@link #warmUpKernels}) unless {@code minMillis} is 0.
     */
    double[] timeAll(List<SparseMatrix> candidates, float[] x, float[] y, int n, boolean batchMajor) {
        if (options.minMillis() > 0) warmUpKernels();
        int rounds = options.minMillis() > 0 ? ROUNDS : 1;
        double[] best = CandidateTiming.bestOfRounds(candidates.size(), rounds, (i, round) -> {
            SparseMatrix m = candidates.get(i);
            Runnable run = batchMajor
                    ? () -> m.multiply(x, n, y)
                    : () -> m.multiplyT(x, 0, n, n, y, 0, n);
            return CandidateTiming.medianMillis(run, options.warmup(), options.repeats(), options.minMillis() / rounds, System::nanoTime);
        });
        return best;
    }

    /**
     * Runs {@code r} at least {@code warmup} times and {@code minMillis} untimed, then at least
     * {@code repeats} times and {@code minMillis} timed (beyond those minimum counts, at most 1000 runs each); the median.
     */
    public static double medianMillis(Runnable r, int warmup, int repeats, double minMillis) {
        return CandidateTiming.medianMillis(r, warmup, repeats, minMillis, CandidateTiming.MAX_RUNS, System::nanoTime);
    }
}
