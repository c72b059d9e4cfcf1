package dev.shears.core.sparse;

import dev.shears.core.cpu.Parallel;
import jdk.incubator.vector.FloatVector;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The sparse-vs-dense sweep behind {@code shears bench sparse --shape MxK --sparsity LIST
 * --batch LIST --backend cpu --json FILE}. Notation follows cuSPARSE SpMM: A is the sparse
 * m x k weight matrix (m outputs, k inputs, i.e. a Dense layer of k -> m), n the batch; each row
 * times y = x A^T for x [n, k] (what a Dense layer computes) with one format. {@code op} is
 * {@code spmv} for n = 1, else {@code spmm}; {@code speedupVsDense} is the dense median over this
 * one (the dense row itself is 1.0). Matrices have exactly {@code round(sparsity * m * k)} zeros at
 * seeded random positions; the 2:4 format is timed on its own 2:4-pruned matrix at sparsity 0.5.
 */
public final class SparseBench {
    private SparseBench() {}

    /** One result row: the fields of DESIGN.md's bench JSON contract (written by the cli's {@code BenchJson}). */
    public record Row(String op, String format, int m, int k, int n, double sparsity, double medianMs, double speedupVsDense) {}

    /** Parses {@code MxK}, e.g. {@code 4096x4096}. */
    public static int[] parseShape(String s) {
        String[] p = s.trim().toLowerCase(Locale.ROOT).split("x");
        try {
            if (p.length == 2) {
                int m = Integer.parseInt(p[0]), k = Integer.parseInt(p[1]);
                if (m > 0 && k > 0) return new int[]{m, k};
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new IllegalArgumentException("--shape must be MxK with positive integers (e.g. 4096x4096), got '" + s + "'");
    }

    /**
     * Times dense, CSR, Blocked-ELL (block sizes of the planner options; skipped where they would
     * store more than {@code bellMaxFill} values per nonzero) and 2:4 (at sparsity 0.5) for every
     * sparsity and batch.
     */
    public static List<Row> sweep(int m, int k, double[] sparsities, int[] batches, long seed, SparsePlanner.Options opt) {
        if (m <= 0 || k <= 0) throw new IllegalArgumentException("bench sparse: shape must be positive, got " + m + "x" + k);
        for (double s : sparsities)
            if (!(s >= 0 && s < 1)) throw new IllegalArgumentException("bench sparse: sparsity must be in [0, 1), got " + s);
        for (int b : batches)
            if (b < 1) throw new IllegalArgumentException("bench sparse: batch must be >= 1, got " + b);
        SparsePlanner planner = new SparsePlanner(opt);
        List<Row> rows = new ArrayList<>();
        boolean warm = opt.minMillis() <= 0; // quick options promise no reliable figures
        for (double sparsity : sparsities) {
            float[] a = randomSparse(m, k, sparsity, seed);
            DenseMatrix dense = new DenseMatrix(a, m, k);
            List<SparseMatrix> formats = new ArrayList<>();
            formats.add(CsrMatrix.fromDense(a, m, k));
            for (int b : opt.bellBlocks())
                if (BlockedEllMatrix.fillRatio(a, m, k, b) <= opt.bellMaxFill()) formats.add(BlockedEllMatrix.fromDense(a, m, k, b));
            SparseMatrix nm = null;
            if (Math.abs(sparsity - 0.5) < 1e-9) nm = NmMatrix.fromDense(prune24(randomSparse(m, k, 0, seed), m, k), m, k);
            for (int n : batches) {
                float[] x = randomDense(n * k, seed + n);
                float[] y = new float[n * m];
                String op = n == 1 ? "spmv" : "spmm";
                List<SparseMatrix> all = new ArrayList<>();
                all.add(dense);
                all.addAll(formats);
                if (nm != null) all.add(nm);
                if (!warm) settle(planner, all, x, y, n);
                double[] ms = planner.timeAll(all, x, y, n, true);
                for (int i = 0; i < all.size(); i++) {
                    SparseMatrix f = all.get(i);
                    rows.add(new Row(op, SparsePlanner.label(f), m, k, n, f.sparsity(), ms[i], i == 0 ? 1.0 : ms[0] / ms[i]));
                }
            }
            warm = true;
        }
        return rows;
    }

    /** How long after its first pass {@link #settle} may start another. */
    static final long SETTLE_NANOS = 3_000_000_000L;

    /**
     * Untimed passes over the candidates at the sweep's shape until every candidate's time is
     * within 25% of its previous pass (no new pass {@link #SETTLE_NANOS} after the first; {@link Settle}). A 512x512
     * sweep timed cold gave its first rows dense 0.4-13 ms at the first sparsity, 0.014 ms at the
     * next, and CSR "31x" faster than dense at 50% sparsity.
     */
    static void settle(SparsePlanner planner, List<SparseMatrix> all, float[] x, float[] y, int n) {
        Settle.untilStable(() -> planner.timeAll(all, x, y, n, true), System::nanoTime, Settle.jitActivity(), SETTLE_NANOS);
    }

    /** Rows for every candidate of every planned layer of a model ({@code --model FILE}). */
    public static List<Row> modelRows(SparseModel model) { return modelRows(model.plans()); }

    /** Rows for every candidate of every planned layer, from the plans of either backend's sparse model (the CUDA one's too). */
    public static List<Row> modelRows(List<SparseModel.LayerPlan> plans) {
        List<Row> rows = new ArrayList<>();
        for (SparseModel.LayerPlan p : plans) {
            double dense = p.denseMs();
            for (SparsePlanner.Timing t : p.timings())
                rows.add(new Row(p.layer(), t.format() + (t.format().equals(p.format()) ? " (chosen)" : ""),
                        p.rows(), p.cols(), p.n(), p.sparsity(), t.medianMs(), dense / t.medianMs()));
        }
        return rows;
    }

    /** "cpu: AMD EPYC (2 threads, 512-bit vectors)": the model name from /proc/cpuinfo where there is one. */
    public static String cpuDevice() {
        String model = System.getProperty("os.arch");
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo")))
                if (line.startsWith("model name")) {
                    model = line.substring(line.indexOf(':') + 1).trim();
                    break;
                }
        } catch (IOException | RuntimeException ignored) {
            // not Linux: keep the architecture name
        }
        return "cpu: " + model + " (" + Parallel.threads() + " threads, " + FloatVector.SPECIES_PREFERRED.vectorBitSize() + "-bit vectors)";
    }

    /** A [m, k] matrix with exactly round(sparsity*m*k) zeros at random positions, others in (-1, 1) \ {0}. */
    public static float[] randomSparse(int m, int k, double sparsity, long seed) {
        int size = m * k;
        int zeros = (int) Math.round(sparsity * size);
        SplittableRandom rng = new SplittableRandom(seed);
        float[] a = new float[size];
        int[] idx = new int[size];
        for (int i = 0; i < size; i++) {
            idx[i] = i;
            float v;
            do v = (float) (rng.nextDouble() * 2 - 1); while (v == 0f);
            a[i] = v;
        }
        for (int i = 0; i < zeros; i++) { // partial Fisher-Yates: the first `zeros` picks become zero
            int j = i + rng.nextInt(size - i);
            int t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
            a[idx[i]] = 0f;
        }
        return a;
    }

    /** Keeps the 2 largest magnitudes of every 4 consecutive values along each row. */
    public static float[] prune24(float[] a, int m, int k) {
        float[] out = a.clone();
        for (int r = 0; r < m; r++)
            for (int c0 = 0; c0 < k; c0 += 4) {
                int c1 = Math.min(k, c0 + 4);
                while (true) {
                    int nz = 0, smallest = -1;
                    for (int c = c0; c < c1; c++) {
                        float v = out[r * k + c];
                        if (v != 0f) {
                            nz++;
                            if (smallest < 0 || Math.abs(v) < Math.abs(out[r * k + smallest])) smallest = c;
                        }
                    }
                    if (nz <= 2) break;
                    out[r * k + smallest] = 0f;
                }
            }
        return out;
    }

    private static float[] randomDense(int n, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (rng.nextDouble() * 2 - 1);
        return x;
    }
}
