package dev.shears.core.sparse;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Chooses a storage format for a weight matrix by timing every candidate on the CPU at the batch
 * size that will be used: dense ({@link DenseMatrix}), {@link CsrMatrix}, {@link BlockedEllMatrix}
 * (for the configured block sizes, skipped when it would store more than {@code bellMaxFill}
 * values per nonzero, since it cannot win then) and {@link NmMatrix} 2:4 (only where the rows of
 * A follow the pattern in consecutive columns). Dense is always a candidate and a sparse format must beat it by
 * {@code margin} to be chosen, so a planned model is never slower than the dense one beyond
 * timing noise.
 */
public final class SparsePlanner {

    /**
     * @param warmup      at least this many untimed runs before measuring (JIT, caches)
     * @param repeats     at least this many timed runs
     * @param minMillis   and at least this much time, both warming up and timing, per candidate
     *                    (the first calls run interpreted until the JIT compiles the kernels:
     *                    a planner that timed them chose formats at random)
     * @param bellBlocks  Blocked-ELL block sizes to try
     * @param bellMaxFill skip Blocked-ELL when stored values / nonzeros exceeds this
     * @param margin      a sparse format must be at least this fraction faster than dense (0.05 = 5%)
     */
    public record Options(int warmup, int repeats, double minMillis, int[] bellBlocks, double bellMaxFill, double margin) {
        public Options {
            if (warmup < 0 || repeats < 1 || minMillis < 0 || bellMaxFill < 1 || margin < 0)
                throw new IllegalArgumentException("bad planner options: warmup=" + warmup + " repeats=" + repeats
                        + " minMillis=" + minMillis + " bellMaxFill=" + bellMaxFill + " margin=" + margin);
            bellBlocks = bellBlocks.clone();
        }

        public static Options defaults() { return new Options(3, 7, 40, new int[]{4, 16}, 2.0, 0.05); }

        /** Fewer, shorter runs: for tests. */
        public static Options quick() { return new Options(1, 3, 0, new int[]{4}, 2.0, 0.05); }
    }

    /** One candidate's median time for the product. */
    public record Timing(String format, double medianMs) {}

    /** The chosen matrix and every candidate's time (dense first). */
    public record Choice(SparseMatrix matrix, String format, List<Timing> timings) {
        public double denseMs() { return timings.getFirst().medianMs(); }

        public double chosenMs() {
            for (Timing t : timings) if (t.format().equals(format)) return t.medianMs();
            throw new IllegalStateException("no timing for " + format);
        }

        public double speedupVsDense() { return denseMs() / chosenMs(); }
    }

    private final Options options;

    public SparsePlanner(Options options) { this.options = options; }

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
        SparseMatrix.checkDense(a, rows, cols);
        if (n < 1) throw new IllegalArgumentException("the planner needs a batch of at least 1, got " + n);
        if (options.minMillis() > 0) warmUpKernels();
        float[] x = new float[n * cols];
        SplittableRandom rng = new SplittableRandom(42);
        for (int i = 0; i < x.length; i++) x[i] = (float) rng.nextDouble();
        float[] y = new float[n * rows];

        List<SparseMatrix> candidates = new ArrayList<>();
        DenseMatrix dense = new DenseMatrix(a, rows, cols);
        candidates.add(dense);
        if (dense.nonZeros() < (long) rows * cols) {
            candidates.add(CsrMatrix.fromDense(a, rows, cols));
            for (int b : options.bellBlocks())
                if (BlockedEllMatrix.fillRatio(a, rows, cols, b) <= options.bellMaxFill())
                    candidates.add(BlockedEllMatrix.fromDense(a, rows, cols, b));
            // A Conv2D pruned 2:4 groups input channels at each kernel position (NVIDIA's grouping, the pruning
            // module's NmLayout): in A = [out, in*kh*kw] a group strides kh*kw, so only a 1x1 kernel passes here.
            // The others keep CSR, which holds the same nonzeros (NmMatrix on the CPU is CSR with fixed-length rows),
            // and the CUDA planner has no 2:4 candidate yet; a channel-innermost im2col would be the way to add it.
            if (NmMatrix.follows(a, rows, cols, 2, 4)) candidates.add(NmMatrix.fromDense(a, rows, cols));
        }
        double[] ms = timeAll(candidates, x, y, n, batchMajor);
        List<Timing> timings = new ArrayList<>();
        SparseMatrix best = dense;
        double bestMs = ms[0];
        for (int i = 0; i < candidates.size(); i++) {
            timings.add(new Timing(label(candidates.get(i)), ms[i]));
            if (i > 0 && ms[i] < bestMs && ms[i] < ms[0] * (1 - options.margin())) {
                best = candidates.get(i);
                bestMs = ms[i];
            }
        }
        return new Choice(best, label(best), List.copyOf(timings));
    }

    /** Plans one Dense layer from its kernel W [in, out] and bias [out] (or null). */
    public SparseLinear planLinear(String name, float[] kernel, int in, int out, float[] bias, int batch) {
        return new SparseLinear(name, chooseLinear(kernel, in, out, batch).matrix(), bias);
    }

    /** The timing behind {@link #planLinear}. */
    public Choice chooseLinear(float[] kernel, int in, int out, int batch) {
        Choice c = choose(SparseMatrix.fromDenseKernel(kernel, in, out), out, in, batch, true);
        if (c.matrix() instanceof DenseMatrix) // keep W as is: the dense product runs on it without a transpose
            return new Choice(DenseMatrix.fromKernel(kernel, in, out), c.format(), c.timings());
        return c;
    }

    private static volatile boolean warmedUp;

    /**
     * Once per JVM, before the first timing: runs every format's products on a small matrix until
     * the JIT has had the chance to compile them (at most ~1.5 s). Without it the first layer
     * planned was timed on interpreted Vector API code, 100x slower, and got an arbitrary format.
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
        for (int i = 0; i < 1500 && System.nanoTime() - start < 1_500_000_000L; i++)
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
     * judged on it, and slow phases of a shared machine hit every candidate alike.
     */
    double[] timeAll(List<SparseMatrix> candidates, float[] x, float[] y, int n, boolean batchMajor) {
        double[] best = new double[candidates.size()];
        Arrays.fill(best, Double.MAX_VALUE);
        int rounds = options.minMillis() > 0 ? ROUNDS : 1;
        for (int round = 0; round < rounds; round++)
            for (int i = 0; i < candidates.size(); i++) {
                SparseMatrix m = candidates.get(i);
                Runnable run = batchMajor
                        ? () -> m.multiply(x, n, y)
                        : () -> m.multiplyT(x, 0, n, n, y, 0, n);
                best[i] = Math.min(best[i], medianMillis(run, options.warmup(), options.repeats(), options.minMillis() / rounds));
            }
        return best;
    }

    /**
     * Runs {@code r} at least {@code warmup} times and {@code minMillis} untimed, then at least
     * {@code repeats} times and {@code minMillis} timed (at most 1000 runs each); the median.
     */
    public static double medianMillis(Runnable r, int warmup, int repeats, double minMillis) {
        long start = System.nanoTime();
        for (int i = 0; i < 1000 && (i < warmup || (System.nanoTime() - start) / 1e6 < minMillis); i++) r.run();
        double[] t = new double[Math.max(repeats, 16)];
        int count = 0;
        double total = 0;
        while (count < repeats || (total < minMillis && count < 1000)) {
            long t0 = System.nanoTime();
            r.run();
            double ms = (System.nanoTime() - t0) / 1e6;
            if (count == t.length) t = Arrays.copyOf(t, 2 * t.length);
            t[count++] = ms;
            total += ms;
        }
        double[] s = Arrays.copyOf(t, count);
        Arrays.sort(s);
        return count % 2 == 1 ? s[count / 2] : (s[count / 2 - 1] + s[count / 2]) / 2;
    }
}
