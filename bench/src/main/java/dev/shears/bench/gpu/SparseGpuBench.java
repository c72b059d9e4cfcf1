package dev.shears.bench.gpu;

import dev.shears.core.cuda.CudaBackend;
import dev.shears.core.cuda.sparse.CudaShapeSweep;
import dev.shears.core.cuda.sparse.CusparseRuntime;
import dev.shears.nativebind.CublasHandle;
import dev.shears.nativebind.Cuda;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Issue 6's GPU half: sparse inference kernels against cuBLAS on the device, for every layer
 * shape, batch and sparsity of a {@link SparseSweepPlan}, each shape swept by gpu-core's
 * {@link CudaShapeSweep} (which {@code shears bench sparse --shape MxK --backend cuda} runs too):
 * {@code gemm/dense} (cuBLAS SGEMM, the baseline) and {@code gemm/dense-tf32}, {@code spmm/csr}
 * and {@code spmv/csr} (cuSPARSE), {@code spmm/blocked-ell}, and the cuSPARSELt products
 * {@code spmm/2:4-fp16|bf16} against {@code gemm/dense-fp16|bf16}; see CudaShapeSweep for what
 * each row times and checks.
 *
 * Timing as GpuBench: CUDA events on the one stream, one warm-up, L2 flushed (a 256 MiB memset)
 * before each of {@code --reps} repetitions, the median. Every sparse result is checked against
 * cuBLAS on the same matrix ({@code maxRelErr}, relative to the largest |C|). Row-major
 * throughout: C[m, n] = A[m, k] B[k, n]. A case that fails leaves a row with its {@code error}
 * and the sweep goes on.
 *
 * <pre>
 *   SparseGpuBench --out sparse.json [--reps 10] [--quick] [--sizes 1024,4096] [--batches 1,64] [--sparsities 0.5,0.9] [--lt 8192x8192x8192|none]
 * </pre>
 * Output: DESIGN.md's bench JSON, {@code {"device":..., "results":[{"op","format","m","k","n","sparsity",
 * "medianMs","speedupVsDense", ...}]}}. Written in a session without a GPU: not yet run on one.
 */
public final class SparseGpuBench {
    /** Parsed command line. */
    record Options(Path out, int reps, boolean quick, List<Integer> sizes, List<Integer> batches, List<Double> sparsities,
                   List<CudaShapeSweep.LtCase> lt) {
        static final String USAGE = "usage: SparseGpuBench --out FILE.json [--reps N] [--quick] [--sizes 1024,4096] [--batches 1,64]"
                + " [--sparsities 0.5,0.9] [--lt MxNxK,... (each in fp16 and bf16; 'none' for no 2:4 rows)]";

        static Options parse(String... args) {
            Path out = null;
            int reps = 10;
            boolean quick = false;
            List<Integer> sizes = null, batches = null;
            List<Double> sparsities = null;
            List<CudaShapeSweep.LtCase> lt = null;
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                switch (a) {
                    case "--out" -> out = Path.of(value(args, ++i));
                    case "--reps" -> reps = ints(a, value(args, ++i)).getFirst();
                    case "--quick" -> quick = true;
                    case "--sizes" -> sizes = ints(a, value(args, ++i));
                    case "--batches" -> batches = ints(a, value(args, ++i));
                    case "--sparsities" -> sparsities = doubles(a, value(args, ++i));
                    case "--lt" -> lt = ltCases(value(args, ++i));
                    default -> throw new IllegalArgumentException("unknown argument " + a + "; " + USAGE);
                }
            }
            if (out == null) throw new IllegalArgumentException("--out FILE.json is required; " + USAGE);
            if (reps < 1) throw new IllegalArgumentException("--reps must be at least 1, got " + reps);
            return new Options(out, reps, quick, sizes, batches, sparsities, lt);
        }

        /** The plan: the standard (or quick) one with any of sizes, batches, sparsities and 2:4 products replaced. */
        SparseSweepPlan plan() {
            SparseSweepPlan base = SparseSweepPlan.standard(quick);
            if (sizes != null || batches != null || sparsities != null) {
                List<Integer> sz = sizes != null ? sizes : base.shapes().stream().filter(s -> s.name().startsWith("square-")).map(CudaShapeSweep.WeightShape::m).toList();
                base = SparseSweepPlan.standard(sz, batches != null ? batches : base.batches(), sparsities != null ? sparsities : base.sparsities(), quick);
            }
            return lt == null ? base : new SparseSweepPlan(base.shapes(), base.batches(), base.sparsities(), base.bellBlock(), lt);
        }

        /** "none", or MxNxK products, each in fp16 and bf16. */
        private static List<CudaShapeSweep.LtCase> ltCases(String s) {
            if (s.equals("none")) return List.of();
            List<CudaShapeSweep.LtCase> out = new ArrayList<>();
            for (String t : List.of("fp16", "bf16"))
                for (String mnk : s.split(",")) {
                    String[] d = mnk.trim().split("x");
                    if (d.length != 3) throw new IllegalArgumentException("--lt: '" + mnk + "' is not MxNxK (e.g. 4096x256x4096) nor 'none'");
                    List<Integer> v = ints("--lt", String.join(",", d));
                    out.add(new CudaShapeSweep.LtCase(v.get(0), v.get(1), v.get(2), t));
                }
            return out;
        }

        private static String value(String[] args, int i) {
            if (i >= args.length) throw new IllegalArgumentException(args[i - 1] + " needs a value");
            return args[i];
        }

        private static List<Integer> ints(String flag, String s) {
            try {
                return Arrays.stream(s.split(",")).map(String::trim).map(Integer::parseInt).toList();
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(flag + ": '" + s + "' is not a comma-separated list of integers");
            }
        }

        private static List<Double> doubles(String flag, String s) {
            try {
                return Arrays.stream(s.split(",")).map(String::trim).map(Double::parseDouble).toList();
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(flag + ": '" + s + "' is not a comma-separated list of numbers");
            }
        }
    }

    private final Options opt;
    private final SparseSweepPlan plan;
    /** gpu-core's sweep of one shape, which the CLI's bench sparse --shape --backend cuda runs too */
    private final CudaShapeSweep sweep;
    /** The rows, checkpointed after each; main sends them to --out. */
    final Checkpoint output = new Checkpoint(this::document);
    private String device = "?";

    SparseGpuBench(Options opt, CublasHandle cublas, CusparseRuntime cusparse) {
        this(opt, opt.plan(), cublas, cusparse);
    }

    /** With an explicit plan (tests run a tiny one); all work on the stream of {@code cusparse}'s backend, where {@code cublas} must be bound too. */
    SparseGpuBench(Options opt, SparseSweepPlan plan, CublasHandle cublas, CusparseRuntime cusparse) {
        this.opt = opt;
        this.plan = plan;
        this.sweep = new CudaShapeSweep(cublas, cusparse, opt.reps(), CudaShapeSweep.FLUSH_BYTES);
    }

    public static void main(String[] args) throws IOException {
        Options opt;
        try {
            opt = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("SparseGpuBench: " + e.getMessage());
            System.exit(2);
            return;
        }
        String cause = unavailabilityCause();
        if (cause != null) {
            System.err.println("SparseGpuBench: CUDA unavailable: " + cause);
            System.exit(3);
        }
        try (CudaBackend be = CudaBackend.create(); CublasHandle b = new CublasHandle(be.stream()); CusparseRuntime sp = new CusparseRuntime(be)) {
            SparseGpuBench bench = new SparseGpuBench(opt, b, sp);
            System.err.println("SparseGpuBench: " + be.name() + ", " + bench.plan.timings() + " timings planned");
            bench.output.sendTo(Checkpoint.file(opt.out()));
            bench.run(be.name());
        }
    }

    /** Why the sweep cannot run here (driver, kernels, cuBLAS or cuSPARSE), or null. cuSPARSELt is optional: its rows record the cause. */
    static String unavailabilityCause() { return CudaShapeSweep.unavailabilityCause(); }

    String run(String device) {
        this.device = device;
        try {
            for (CudaShapeSweep.WeightShape s : plan.shapes()) sweep.layer(s, plan.sparsities(), plan.batches(), plan.bellBlock(), this::add);
            sweep.structured(plan.lt(), this::add);
        } finally {
            sweep.close();
        }
        return output.finish();
    }

    /** Prints the row's summary line (so a run stopped at its time limit still logs what it did) and checkpoints the document. */
    private void add(Map<String, Object> row) {
        System.out.println(summary(row));
        output.add(row);
    }

    private Map<String, Object> document(List<Map<String, Object>> rows) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("device", device);
        out.put("driver", Cuda.driverVersion());
        out.put("date", Instant.now().toString());
        out.put("timing", "CUDA events, median of " + opt.reps() + " after 1 warm-up, L2 flushed before each");
        out.put("layout", "row-major C[m,n] = A[m,k] B[k,n]; m = layer outputs, k = inputs, n = batch");
        out.put("results", rows);
        return out;
    }

    /** One line for the log: "spmm csr square-4096 n=1 sparsity 0.95: 0.0123 ms, 2.10x dense". */
    static String summary(Map<String, Object> r) {
        String head = r.get("op") + " " + r.get("format") + " " + r.get("shape") + " n=" + r.get("n") + " sparsity " + r.get("sparsity") + ": ";
        if (r.containsKey("error")) return head + "ERROR " + r.get("error");
        return head + String.format(java.util.Locale.ROOT, "%.4f ms, %.2fx dense", (Double) r.get("medianMs"), (Double) r.get("speedupVsDense"))
                + (r.containsKey("maxRelErr") ? String.format(java.util.Locale.ROOT, ", max rel err %.1e", (Double) r.get("maxRelErr")) : "");
    }
}
