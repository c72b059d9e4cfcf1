package dev.shears.bench.gpu;

import dev.shears.core.cuda.CudaBackend;
import dev.shears.core.cuda.EventTiming;
import dev.shears.core.cuda.sparse.CudaBlockedEllMatrix;
import dev.shears.core.cuda.sparse.CudaCsrMatrix;
import dev.shears.core.cuda.sparse.CusparseRuntime;
import dev.shears.core.sparse.BlockedEllMatrix;
import dev.shears.core.sparse.CsrMatrix;
import dev.shears.nativebind.Cublas;
import dev.shears.nativebind.CublasHandle;
import dev.shears.nativebind.Cuda;
import dev.shears.nativebind.CudaStream;
import dev.shears.nativebind.CusparseLt;
import dev.shears.nativebind.CusparseLtHandle;
import dev.shears.nativebind.StructuredMatmul;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * Issue 6's GPU half: sparse inference kernels against cuBLAS on the device, through the
 * project's Panama bindings and the same cuSPARSE matrices that GPU sparse inference runs
 * ({@link CudaCsrMatrix}, {@link CudaBlockedEllMatrix} of gpu-core, on a {@link CudaBackend}'s
 * stream). For every layer shape, batch and sparsity of a {@link SparseSweepPlan}:
 * <ul>
 *   <li>{@code gemm/dense}: cuBLAS SGEMM (FP32, the default math mode, no TF32) of the same
 *   matrix stored densely, the baseline of every {@code speedupVsDense}; {@code gemm/dense-tf32}
 *   beside it (cublasGemmEx with CUBLAS_COMPUTE_32F_FAST_TF32) for reference;</li>
 *   <li>{@code spmm/csr}: cuSPARSE SpMM, CSR with unstructured (uniform random) sparsity, the
 *   faster of CUSPARSE_SPMM_ALG_DEFAULT and CUSPARSE_SPMM_CSR_ALG2; {@code spmv/csr} at batch 1;</li>
 *   <li>{@code spmm/blocked-ell}: cuSPARSE SpMM on Blocked-ELL with block sparsity (b x b blocks,
 *   the same count in every block row) at the same sparsity, where b divides the shape;</li>
 *   <li>{@code spmm/2:4-fp16|bf16}: cuSPARSELt (prune on the device, check, compress, autotune
 *   with cusparseLtMatmulSearch) against {@code gemm/dense-fp16|bf16}, cublasGemmEx in the same
 *   type with FP32 accumulation.</li>
 * </ul>
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
                   List<SparseSweepPlan.LtCase> lt) {
        static final String USAGE = "usage: SparseGpuBench --out FILE.json [--reps N] [--quick] [--sizes 1024,4096] [--batches 1,64]"
                + " [--sparsities 0.5,0.9] [--lt MxNxK,... (each in fp16 and bf16; 'none' for no 2:4 rows)]";

        static Options parse(String... args) {
            Path out = null;
            int reps = 10;
            boolean quick = false;
            List<Integer> sizes = null, batches = null;
            List<Double> sparsities = null;
            List<SparseSweepPlan.LtCase> lt = null;
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
                List<Integer> sz = sizes != null ? sizes : base.shapes().stream().filter(s -> s.name().startsWith("square-")).map(SparseSweepPlan.LayerShape::m).toList();
                base = SparseSweepPlan.standard(sz, batches != null ? batches : base.batches(), sparsities != null ? sparsities : base.sparsities(), quick);
            }
            return lt == null ? base : new SparseSweepPlan(base.shapes(), base.batches(), base.sparsities(), base.bellBlock(), lt);
        }

        /** "none", or MxNxK products, each in fp16 and bf16. */
        private static List<SparseSweepPlan.LtCase> ltCases(String s) {
            if (s.equals("none")) return List.of();
            List<SparseSweepPlan.LtCase> out = new ArrayList<>();
            for (String t : List.of("fp16", "bf16"))
                for (String mnk : s.split(",")) {
                    String[] d = mnk.trim().split("x");
                    if (d.length != 3) throw new IllegalArgumentException("--lt: '" + mnk + "' is not MxNxK (e.g. 4096x256x4096) nor 'none'");
                    List<Integer> v = ints("--lt", String.join(",", d));
                    out.add(new SparseSweepPlan.LtCase(v.get(0), v.get(1), v.get(2), t));
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

    /** 256 MiB: beyond the L2 of any current GPU (50-60 MB on H100/H200) */
    private static final long FLUSH_BYTES = 256L << 20;

    private final Options opt;
    private final SparseSweepPlan plan;
    private final CudaStream stream;
    private final CublasHandle cublas;
    private final CusparseRuntime cusparse;
    private final Arena arena = Arena.ofConfined();
    /** host {alpha = 1, beta = 0} for cuBLAS */
    private final MemorySegment blasScalars;
    private final long flush;
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
        this.stream = cusparse.backend().stream();
        this.cublas = cublas;
        this.cusparse = cusparse;
        this.blasScalars = Cublas.scalars(arena);
        blasScalars.setAtIndex(JAVA_FLOAT, 0, 1f);
        blasScalars.setAtIndex(JAVA_FLOAT, 1, 0f);
        this.flush = Cuda.memAlloc(FLUSH_BYTES);
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
    static String unavailabilityCause() {
        String cause = CudaBackend.unavailabilityCause();
        return cause != null ? cause : CusparseRuntime.unavailabilityCause();
    }

    String run(String device) {
        this.device = device;
        try {
            for (SparseSweepPlan.LayerShape s : plan.shapes()) layer(s);
            structured();
        } finally {
            Cuda.memFree(flush);
            arena.close();
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

    // ------------------------------------------------------------------ timing

    /** Median ms of {@code op} after one warm-up, the L2 flushed before each repetition. */
    double time(Runnable op) {
        return EventTiming.medianMillis(stream, 1, opt.reps(), r -> Cuda.memsetD32Async(flush, r, FLUSH_BYTES / 4, stream.handle()), op);
    }

    // ------------------------------------------------------------------ FP32 layers: dense, CSR, Blocked-ELL

    private void layer(SparseSweepPlan.LayerShape s) {
        int m = s.m(), k = s.k();
        int maxN = plan.batches().stream().mapToInt(Integer::intValue).max().orElse(1);
        long dA = 0, dB = 0, dC = 0, dRef = 0;
        try {
            dA = Cuda.memAlloc(4L * m * k);
            dB = upload(random(k * maxN, 11), 4L * k * maxN);
            dC = Cuda.memAlloc(4L * m * maxN);
            dRef = Cuda.memAlloc(4L * m * maxN);
            Map<Integer, Double> denseMs = new LinkedHashMap<>();
            boolean first = true;
            for (double sp : plan.sparsities()) {
                float[] dense = unstructured(m, k, sp, 1000 + Math.round(sp * 1000));
                uploadTo(dA, dense);
                CsrMatrix csr = CsrMatrix.fromDense(dense, m, k);
                for (int n : plan.batches()) {
                    long a = dA, b = dB, ref = dRef;
                    if (first) denseMs.put(n, dense(s, n, a, b, ref));
                    else sgemm(m, n, k, a, b, ref); // the reference result for this matrix
                    try {
                        csr(s, csr, n, sp, denseMs.get(n), dB, dC, dRef);
                    } catch (RuntimeException e) {
                        add(error("spmm", "csr", s, n, sp, e));
                    }
                }
                first = false;
                if (plan.bellApplies(s)) {
                    float[] blocked = blockSparse(m, k, sp, plan.bellBlock(), 2000 + Math.round(sp * 1000));
                    uploadTo(dA, blocked);
                    BlockedEllMatrix bell = BlockedEllMatrix.fromDense(blocked, m, k, plan.bellBlock());
                    for (int n : plan.batches()) {
                        try {
                            sgemm(m, n, k, dA, dB, dRef);
                            blockedEll(s, bell, n, sp, denseMs.get(n), dB, dC, dRef);
                        } catch (RuntimeException e) {
                            add(error("spmm", "blocked-ell", s, n, sp, e));
                        }
                    }
                }
            }
        } catch (RuntimeException e) {
            add(error("layer", "all", s, 0, 0, e));
        } finally {
            for (long p : new long[] {dA, dB, dC, dRef}) if (p != 0) Cuda.memFree(p);
        }
    }

    /** Times SGEMM and the TF32 GEMM for batch n (writing C to {@code ref}); returns the SGEMM ms. */
    private double dense(SparseSweepPlan.LayerShape s, int n, long a, long b, long ref) {
        int m = s.m(), k = s.k();
        double ms = time(() -> sgemm(m, n, k, a, b, ref));
        add(row("gemm", "dense", s, n, 0, ms, ms, null));
        try {
            double tf32 = time(() -> Cublas.gemmEx(cublas.handle(), Cublas.CUBLAS_OP_N, Cublas.CUBLAS_OP_N, n, m, k, blasScalars,
                    b, Cublas.CUDA_R_32F, n, a, Cublas.CUDA_R_32F, k, ref, Cublas.CUDA_R_32F, n,
                    Cublas.CUBLAS_COMPUTE_32F_FAST_TF32, Cublas.CUBLAS_GEMM_DEFAULT));
            add(row("gemm", "dense-tf32", s, n, 0, tf32, ms, null));
        } catch (RuntimeException e) {
            add(error("gemm", "dense-tf32", s, n, 0, e));
        }
        sgemm(m, n, k, a, b, ref); // leave the exact FP32 result as the reference
        return ms;
    }

    /** Row-major C[m, n] = A[m, k] B[k, n] as the column-major C^T = B^T A^T. */
    private void sgemm(int m, int n, int k, long a, long b, long c) {
        Cublas.sgemm(cublas.handle(), Cublas.CUBLAS_OP_N, Cublas.CUBLAS_OP_N, n, m, k, blasScalars, b, n, a, k, c, n);
    }

    /** Row-major C = A B through gpu-core's {@link CudaCsrMatrix}: SpMM with each algorithm that applies, the faster kept; SpMV at batch 1. */
    private void csr(SparseSweepPlan.LayerShape s, CsrMatrix csr, int n, double sp, double denseMs, long dB, long dC, long dRef) {
        int m = s.m(), k = s.k();
        long nnz = csr.nonZeros();
        try (CudaCsrMatrix a = new CudaCsrMatrix(cusparse, csr)) {
            double best = Double.MAX_VALUE;
            String bestKernel = null;
            RuntimeException last = null;
            for (CudaCsrMatrix.Kernel kernel : CudaCsrMatrix.candidates(false, n)) {
                try {
                    a.use(kernel);
                    double ms = time(() -> a.multiplyT(dB, n, dC));
                    if (ms < best) {
                        best = ms;
                        bestKernel = kernel.label();
                    }
                } catch (RuntimeException e) {
                    last = e;
                }
            }
            if (bestKernel == null) throw last;
            a.use(bestKernel.equals(CudaCsrMatrix.Kernel.SPMM_DEFAULT.label()) ? CudaCsrMatrix.Kernel.SPMM_DEFAULT : CudaCsrMatrix.Kernel.SPMM_ALG2);
            a.multiplyT(dB, n, dC); // the result of the kept kernel, for the check
            Map<String, Object> r = row("spmm", "csr", s, n, sp, best, denseMs, bestKernel);
            r.put("actualSparsity", round4(1 - (double) nnz / ((double) m * k)));
            r.put("maxRelErr", maxRelErr(dC, dRef, m * n));
            add(r);
            if (n == 1) {
                try {
                    a.use(CudaCsrMatrix.Kernel.SPMV);
                    double ms = time(() -> a.multiply(dB, 1, dC)); // x [1, k] and y [1, m]: B and C of batch 1
                    Map<String, Object> v = row("spmv", "csr", s, 1, sp, ms, denseMs, CudaCsrMatrix.Kernel.SPMV.label());
                    v.put("maxRelErr", maxRelErr(dC, dRef, m));
                    add(v);
                } catch (RuntimeException e) {
                    add(error("spmv", "csr", s, 1, sp, e));
                }
            }
        }
    }

    private void blockedEll(SparseSweepPlan.LayerShape s, BlockedEllMatrix bell, int n, double sp, double denseMs, long dB, long dC, long dRef) {
        int m = s.m(), k = s.k(), b = bell.blockSize();
        try (CudaBlockedEllMatrix a = new CudaBlockedEllMatrix(cusparse, bell)) {
            double ms = time(() -> a.multiplyT(dB, n, dC));
            Map<String, Object> r = row("spmm", "blocked-ell", s, n, sp, ms, denseMs, a.kernel());
            r.put("block", b);
            r.put("actualSparsity", round4(1 - (double) bell.nonZeros() / ((double) m * k)));
            r.put("maxRelErr", maxRelErr(dC, dRef, m * n));
            add(r);
        }
    }

    // ------------------------------------------------------------------ 16-bit: cuSPARSELt 2:4 vs cublasGemmEx

    private void structured() {
        if (plan.lt().isEmpty()) return;
        if (!CusparseLt.library().isLoaded()) {
            String cause = CusparseLt.library().failure().orElseThrow().getMessage();
            for (SparseSweepPlan.LtCase c : plan.lt()) add(ltError(c, "cuSPARSELt unavailable: " + cause));
            return;
        }
        try (CusparseLtHandle lt = new CusparseLtHandle()) {
            int version = lt.version();
            CusparseLt.requireModernEnums(version);
            for (SparseSweepPlan.LtCase c : plan.lt()) {
                try {
                    structured(lt, c, CusparseLt.formatVersion(version));
                } catch (RuntimeException e) {
                    add(ltError(c, e.toString()));
                }
            }
        } catch (RuntimeException e) {
            for (SparseSweepPlan.LtCase c : plan.lt()) add(ltError(c, e.toString()));
        }
    }

    private void structured(CusparseLtHandle lt, SparseSweepPlan.LtCase c, String version) {
        int m = c.m(), n = c.n(), k = c.k();
        boolean bf16 = c.dtype().equals("bf16");
        int type = bf16 ? CusparseLt.CUDA_R_16BF : CusparseLt.CUDA_R_16F;
        long dA = 0, dB = 0, dD = 0, dRef = 0, dValid = 0, dComp = 0, dScratch = 0, dWs = 0;
        try (StructuredMatmul mm = new StructuredMatmul(lt, m, n, k, type, CusparseLt.CUSPARSE_COMPUTE_32F)) {
            dA = upload16(random(m * k, 21), bf16);
            dB = upload16(random(k * n, 22), bf16);
            dD = Cuda.memAlloc(2L * m * n);
            dRef = Cuda.memAlloc(2L * m * n);
            dValid = Cuda.memAlloc(4);
            mm.prune(dA, dA, stream);
            mm.checkPruned(dA, dValid, stream);
            int[] valid = new int[1];
            Cuda.copyFromDevice(MemorySegment.ofArray(valid), dValid, 4, stream);
            if (valid[0] != 0) throw new IllegalStateException("cusparseLtSpMMAPruneCheck: A does not follow 2:4 after cusparseLtSpMMAPrune");
            long[] sizes = mm.compressedSize();
            dComp = Cuda.memAlloc(sizes[0]);
            dScratch = Cuda.memAlloc(Math.max(1, sizes[1]));
            mm.compress(dA, dComp, dScratch, stream);
            long ws0 = mm.workspaceBytes();
            long wsSearch = ws0 > 0 ? Cuda.memAlloc(ws0) : 0;
            long ws;
            try {
                ws = mm.search(dComp, dB, dD, wsSearch, stream); // the tuned plan's workspace
            } finally {
                if (wsSearch != 0) Cuda.memFree(wsSearch);
            }
            dWs = ws > 0 ? Cuda.memAlloc(ws) : 0;
            long comp = dComp, b = dB, d = dD, w = dWs, a = dA, ref = dRef;
            // dense baseline on the same (pruned) A: row-major D = A B as the column-major D^T = B^T A^T
            double denseMs = time(() -> Cublas.gemmEx(cublas.handle(), Cublas.CUBLAS_OP_N, Cublas.CUBLAS_OP_N, n, m, k, blasScalars,
                    b, type, n, a, type, k, ref, type, n, Cublas.CUBLAS_COMPUTE_32F, Cublas.CUBLAS_GEMM_DEFAULT));
            double ms = time(() -> mm.matmul(comp, b, d, w, stream));
            double flops = 2.0 * m * n * k;
            Map<String, Object> dense = ltRow("gemm", "dense-" + c.dtype(), c, denseMs, denseMs);
            dense.put("TFLOPs", flops / (denseMs * 1e9));
            add(dense);
            Map<String, Object> r = ltRow("spmm", "2:4-" + c.dtype(), c, ms, denseMs);
            r.put("TFLOPs", flops / (ms * 1e9));
            r.put("cusparseLt", version);
            r.put("compressedBytes", sizes[0]);
            r.put("algConfigId", mm.configId()); // the kernel configuration the search kept
            r.put("maxRelErr", maxRelErr16(dD, dRef, m * n, bf16));
            add(r);
        } finally {
            for (long p : new long[] {dA, dB, dD, dRef, dValid, dComp, dScratch, dWs}) if (p != 0) Cuda.memFree(p);
        }
    }

    // ------------------------------------------------------------------ rows

    private Map<String, Object> row(String op, String format, SparseSweepPlan.LayerShape s, int n, double sparsity, double ms,
                                    double denseMs, String alg) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("op", op);
        r.put("format", format);
        r.put("shape", s.name());
        r.put("m", s.m());
        r.put("k", s.k());
        r.put("n", n);
        r.put("sparsity", sparsity);
        r.put("medianMs", ms);
        r.put("speedupVsDense", denseMs / ms);
        if (alg != null) r.put("alg", alg);
        return r;
    }

    private static Map<String, Object> error(String op, String format, SparseSweepPlan.LayerShape s, int n, double sparsity, Throwable e) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("op", op);
        r.put("format", format);
        r.put("shape", s.name());
        r.put("m", s.m());
        r.put("k", s.k());
        r.put("n", n);
        r.put("sparsity", sparsity);
        r.put("error", String.valueOf(e));
        System.err.println("SparseGpuBench: " + op + "/" + format + " " + s.name() + " n=" + n + " sparsity " + sparsity + ": " + e);
        return r;
    }

    private static Map<String, Object> ltRow(String op, String format, SparseSweepPlan.LtCase c, double ms, double denseMs) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("op", op);
        r.put("format", format);
        r.put("shape", c.m() + "x" + c.k() + "x" + c.n());
        r.put("m", c.m());
        r.put("k", c.k());
        r.put("n", c.n());
        r.put("sparsity", op.equals("gemm") ? 0.0 : 0.5);
        r.put("medianMs", ms);
        r.put("speedupVsDense", denseMs / ms);
        return r;
    }

    private static Map<String, Object> ltError(SparseSweepPlan.LtCase c, String message) {
        Map<String, Object> r = ltRow("spmm", "2:4-" + c.dtype(), c, Double.NaN, Double.NaN);
        r.remove("medianMs");
        r.remove("speedupVsDense");
        r.put("error", message);
        System.err.println("SparseGpuBench: 2:4 " + c + ": " + message);
        return r;
    }

    /** One line for the log: "spmm csr square-4096 n=1 sparsity 0.95: 0.0123 ms, 2.10x dense". */
    static String summary(Map<String, Object> r) {
        String head = r.get("op") + " " + r.get("format") + " " + r.get("shape") + " n=" + r.get("n") + " sparsity " + r.get("sparsity") + ": ";
        if (r.containsKey("error")) return head + "ERROR " + r.get("error");
        return head + String.format(java.util.Locale.ROOT, "%.4f ms, %.2fx dense", (Double) r.get("medianMs"), (Double) r.get("speedupVsDense"))
                + (r.containsKey("maxRelErr") ? String.format(java.util.Locale.ROOT, ", max rel err %.1e", (Double) r.get("maxRelErr")) : "");
    }

    static double round4(double v) { return Math.round(v * 1e4) / 1e4; }

    // ------------------------------------------------------------------ host data and transfers

    /** Uniform values in [-1, 1), filled in parallel, seeded. */
    static float[] random(int count, long seed) {
        float[] v = new float[count];
        parallelChunks(count, c -> {
            SplittableRandom r = new SplittableRandom(seed * 1_000_003 + c);
            for (int i = chunkStart(count, c), e = chunkStart(count, c + 1); i < e; i++) v[i] = (float) (r.nextDouble() * 2 - 1);
        });
        return v;
    }

    /** A row-major [m, k] matrix keeping each entry with probability 1 - sparsity (values in [-1, 1), never exactly 0). */
    static float[] unstructured(int m, int k, double sparsity, long seed) {
        float[] a = new float[Math.multiplyExact(m, k)];
        parallelChunks(m, c -> {
            SplittableRandom r = new SplittableRandom(seed * 1_000_003 + c);
            for (int row = chunkStart(m, c), e = chunkStart(m, c + 1); row < e; row++)
                for (int j = 0; j < k; j++)
                    if (r.nextDouble() >= sparsity) a[row * k + j] = (float) (r.nextDouble() + 0.01) * (r.nextBoolean() ? 1 : -1);
        });
        return a;
    }

    /**
     * A row-major [m, k] matrix of b x b blocks (b divides m and k), every block row keeping the
     * same number of blocks, round((1 - sparsity) * k / b) and at least one, at random columns;
     * kept blocks are full (no zeros), so the stored and the nonzero counts agree.
     */
    static float[] blockSparse(int m, int k, double sparsity, int b, long seed) {
        int blockRows = m / b, blockCols = k / b;
        int keep = Math.max(1, (int) Math.round((1 - sparsity) * blockCols));
        float[] a = new float[Math.multiplyExact(m, k)];
        parallelChunks(blockRows, c -> {
            SplittableRandom r = new SplittableRandom(seed * 1_000_003 + c);
            int[] cols = new int[blockCols];
            for (int br = chunkStart(blockRows, c), e = chunkStart(blockRows, c + 1); br < e; br++) {
                for (int j = 0; j < blockCols; j++) cols[j] = j;
                for (int j = 0; j < keep; j++) { // partial Fisher-Yates: the first `keep` entries are a random subset
                    int t = j + r.nextInt(blockCols - j), x = cols[j];
                    cols[j] = cols[t];
                    cols[t] = x;
                }
                for (int j = 0; j < keep; j++)
                    for (int i = br * b; i < (br + 1) * b; i++)
                        for (int q = cols[j] * b; q < (cols[j] + 1) * b; q++)
                            a[i * k + q] = (float) (r.nextDouble() + 0.01) * (r.nextBoolean() ? 1 : -1);
            }
        });
        return a;
    }

    private static final int CHUNKS = 256;

    private static int chunkStart(int count, int chunk) { return (int) ((long) count * chunk / CHUNKS); }

    private static void parallelChunks(int count, IntConsumer body) {
        IntStream.range(0, CHUNKS).parallel().forEach(body);
    }

    private long upload(float[] v, long bytes) {
        long d = Cuda.memAlloc(Math.max(4, bytes));
        if (v.length > 0) uploadTo(d, v);
        return d;
    }

    private void uploadTo(long d, float[] v) {
        Cuda.copyToDevice(d, MemorySegment.ofArray(v), 4L * v.length, stream);
    }

    private long uploadInts(int[] v) {
        long d = Cuda.memAlloc(Math.max(4, 4L * v.length));
        if (v.length > 0) {
            Cuda.copyToDevice(d, MemorySegment.ofArray(v), 4L * v.length, stream);
        }
        return d;
    }

    private long upload16(float[] v, boolean bf16) {
        short[] h = new short[v.length];
        for (int i = 0; i < v.length; i++) h[i] = bf16 ? (short) (Float.floatToRawIntBits(v[i]) >>> 16) : Float.floatToFloat16(v[i]);
        long d = Cuda.memAlloc(2L * h.length);
        Cuda.copyToDevice(d, MemorySegment.ofArray(h), 2L * h.length, stream);
        return d;
    }

    /** max |x - ref| / max |ref| over {@code count} floats (both device). */
    private double maxRelErr(long x, long ref, int count) {
        float[] a = new float[count], b = new float[count];
        Cuda.copyFromDevice(MemorySegment.ofArray(a), x, 4L * count, stream);
        Cuda.copyFromDevice(MemorySegment.ofArray(b), ref, 4L * count, stream);
        return relErr(a, b);
    }

    private double maxRelErr16(long x, long ref, int count, boolean bf16) {
        short[] a = new short[count], b = new short[count];
        Cuda.copyFromDevice(MemorySegment.ofArray(a), x, 2L * count, stream);
        Cuda.copyFromDevice(MemorySegment.ofArray(b), ref, 2L * count, stream);
        float[] fa = new float[count], fb = new float[count];
        for (int i = 0; i < count; i++) {
            fa[i] = bf16 ? Float.intBitsToFloat(a[i] << 16) : Float.float16ToFloat(a[i]);
            fb[i] = bf16 ? Float.intBitsToFloat(b[i] << 16) : Float.float16ToFloat(b[i]);
        }
        return relErr(fa, fb);
    }

    static double relErr(float[] x, float[] ref) {
        double diff = 0, scale = 0;
        for (int i = 0; i < x.length; i++) {
            diff = Math.max(diff, Math.abs((double) x[i] - ref[i]));
            scale = Math.max(scale, Math.abs(ref[i]));
        }
        return scale == 0 ? diff : diff / scale;
    }
}
