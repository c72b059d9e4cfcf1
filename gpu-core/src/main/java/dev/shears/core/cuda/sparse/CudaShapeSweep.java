package dev.shears.core.cuda.sparse;

import dev.shears.core.cuda.EventTiming;
import dev.shears.core.sparse.BlockedEllMatrix;
import dev.shears.core.sparse.CsrMatrix;
import dev.shears.nativebind.Cublas;
import dev.shears.nativebind.CublasHandle;
import dev.shears.nativebind.Cuda;
import dev.shears.nativebind.CudaStream;
import dev.shears.nativebind.CusparseLt;
import dev.shears.nativebind.CusparseLtHandle;
import dev.shears.nativebind.StructuredMatmul;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * The GPU sweep of one layer shape (issue 6, GPU half), shared by bench's SparseGpuBench and
 * {@code shears bench sparse --shape MxK --backend cuda}: sparse inference kernels against cuBLAS
 * on the device, through the project's Panama bindings and the same cuSPARSE matrices that GPU
 * sparse inference runs ({@link CudaCsrMatrix}, {@link CudaBlockedEllMatrix}, on the stream of
 * a {@link CusparseRuntime}'s backend). For every batch and sparsity:
 * <ul>
 *   <li>{@code gemm/dense}: cuBLAS SGEMM (FP32, the default math mode, no TF32) of the same
 *   matrix stored densely, the baseline of every {@code speedupVsDense}; {@code gemm/dense-tf32}
 *   beside it (cublasGemmEx with CUBLAS_COMPUTE_32F_FAST_TF32) for reference; both timed once a
 *   batch (at the first sparsity: cuBLAS does not look at the values);</li>
 *   <li>{@code spmm/csr}: cuSPARSE SpMM, CSR with unstructured (uniform random) sparsity, the
 *   faster of CUSPARSE_SPMM_ALG_DEFAULT and CUSPARSE_SPMM_CSR_ALG2; {@code spmv/csr} at batch 1;</li>
 *   <li>{@code spmm/blocked-ell}: cuSPARSE SpMM on Blocked-ELL with block sparsity (b x b blocks,
 *   the same count in every block row) at the same sparsity, where b divides the shape;</li>
 *   <li>{@code spmm/2:4-fp16|bf16} ({@link #structured}): cuSPARSELt (prune on the device, check,
 *   compress, autotune with cusparseLtMatmulSearch) against {@code gemm/dense-fp16|bf16},
 *   cublasGemmEx in the same type with FP32 accumulation.</li>
 * </ul>
 * Timing: CUDA events on the one stream, one warm-up, L2 flushed (a memset of {@code flushBytes})
 * before each of {@code reps} repetitions, the median. Every sparse result is checked against
 * cuBLAS on the same matrix ({@code maxRelErr}, relative to the largest |C|). Row-major
 * throughout: C[m, n] = A[m, k] B[k, n]. A case that fails gives a row with its {@code error}
 * and the sweep goes on. Rows are DESIGN.md's bench JSON rows ({@code op, format, shape, m, k, n,
 * sparsity, medianMs, speedupVsDense}, then the kernel ({@code alg}) and the check), handed to a
 * sink as they are measured, so that a caller can checkpoint or print each.
 */
public final class CudaShapeSweep implements AutoCloseable {
    /** One weight matrix: {@code name} (e.g. square-4096, vgg19.classifier.0), m outputs, k inputs. */
    public record WeightShape(String name, int m, int k) {
        public WeightShape {
            if (m < 1 || k < 1) throw new IllegalArgumentException(name + ": m and k must be >= 1, got " + m + "x" + k);
        }
        public long size() { return (long) m * k; }
        /** Whether Blocked-ELL rows are measured: cuSPARSE's Blocked-ELL tiles the whole matrix in b x b blocks. */
        public boolean bellApplies(int bellBlock) { return m % bellBlock == 0 && k % bellBlock == 0; }
    }

    /** One cuSPARSELt product D[m, n] = A[m, k] (2:4) B[k, n] in {@code dtype} (fp16 or bf16). */
    public record LtCase(int m, int n, int k, String dtype) {
        public LtCase {
            if (!dtype.equals("fp16") && !dtype.equals("bf16")) throw new IllegalArgumentException("2:4 dtype " + dtype + ": expected fp16 or bf16");
        }
    }

    /** 256 MiB: beyond the L2 of any current GPU (50-60 MB on H100/H200) */
    public static final long FLUSH_BYTES = 256L << 20;

    private final CudaStream stream;
    private final CublasHandle cublas;
    private final CusparseRuntime cusparse;
    private final int reps;
    private final long flushBytes;
    private final Arena arena = Arena.ofConfined();
    /** host {alpha = 1, beta = 0} for cuBLAS */
    private final MemorySegment blasScalars;
    private final long flush;

    /** All work on the stream of {@code cusparse}'s backend, where {@code cublas} must be bound too. */
    public CudaShapeSweep(CublasHandle cublas, CusparseRuntime cusparse, int reps, long flushBytes) {
        if (reps < 1) throw new IllegalArgumentException("reps " + reps + " < 1");
        if (flushBytes < 4) throw new IllegalArgumentException("flushBytes " + flushBytes + " < 4");
        this.stream = cusparse.backend().stream();
        this.cublas = cublas;
        this.cusparse = cusparse;
        this.reps = reps;
        this.flushBytes = flushBytes;
        this.blasScalars = Cublas.scalars(arena);
        blasScalars.setAtIndex(JAVA_FLOAT, 0, 1f);
        blasScalars.setAtIndex(JAVA_FLOAT, 1, 0f);
        this.flush = Cuda.memAlloc(flushBytes);
    }

    /** Why the sweep cannot run here (driver, kernels, cuBLAS or cuSPARSE), or null. cuSPARSELt is optional: its rows record the cause. */
    public static String unavailabilityCause() {
        return CudaSparseModel.unavailabilityCause(); // the same needs as sparse inference
    }

    /**
     * Device bytes {@link #layer} holds at once for an m x k matrix and batches up to {@code maxN}
     * at the lowest sparsity {@code minSparsity}: the dense A, B, C and the reference C, and the
     * larger of the CSR (values, column indices, row offsets) and the Blocked-ELL matrix (kept
     * blocks' values and column indices, at least one block a block row); the flush buffer is not
     * counted. An estimate for a clear error before allocating, not an account of cuSPARSE's own
     * workspaces.
     */
    public static long layerBytes(int m, int k, int maxN, double minSparsity, int bellBlock) {
        long mk = (long) m * k;
        long dense = 4 * mk + 4L * k * maxN + 2 * 4L * m * maxN;
        long nnz = (long) Math.ceil((1 - minSparsity) * mk);
        long csr = 8 * nnz + 4L * (m + 1);
        long bell = 0;
        if (m % bellBlock == 0 && k % bellBlock == 0) {
            long blockCols = Math.max(1, Math.round((1 - minSparsity) * (k / bellBlock)));
            bell = (long) (m / bellBlock) * blockCols * ((long) bellBlock * bellBlock * 4 + 4);
        }
        return dense + Math.max(csr, bell);
    }

    /** Bytes {@link #structured} holds for one 2:4 product: A, B, D, the reference D in 16 bits, and A compressed (at most A again). */
    public static long structuredBytes(LtCase c) {
        return 2L * c.m() * c.k() * 2 + 2L * c.k() * c.n() + 2 * 2L * c.m() * c.n();
    }

    @Override public void close() {
        Cuda.memFree(flush);
        arena.close();
    }

    // ------------------------------------------------------------------ timing

    /** Median ms of {@code op} after one warm-up, the L2 flushed before each repetition. */
    public double time(Runnable op) {
        return EventTiming.medianMillis(stream, 1, reps, r -> Cuda.memsetD32Async(flush, r, flushBytes / 4, stream.handle()), op);
    }

    // ------------------------------------------------------------------ FP32 layers: dense, CSR, Blocked-ELL

    /**
     * Every FP32 row of shape {@code s}: dense and TF32 once a batch, CSR (and SpMV at batch 1) at
     * every sparsity and batch, Blocked-ELL with {@code bellBlock} blocks where they tile the shape.
     */
    public void layer(WeightShape s, List<Double> sparsities, List<Integer> batches, int bellBlock, Consumer<Map<String, Object>> sink) {
        int m = s.m(), k = s.k();
        int maxN = batches.stream().mapToInt(Integer::intValue).max().orElse(1);
        long dA = 0, dB = 0, dC = 0, dRef = 0;
        try {
            dA = Cuda.memAlloc(4L * m * k);
            dB = upload(random(k * maxN, 11), 4L * k * maxN);
            dC = Cuda.memAlloc(4L * m * maxN);
            dRef = Cuda.memAlloc(4L * m * maxN);
            Map<Integer, Double> denseMs = new LinkedHashMap<>();
            boolean first = true;
            for (double sp : sparsities) {
                float[] dense = unstructured(m, k, sp, 1000 + Math.round(sp * 1000));
                uploadTo(dA, dense);
                CsrMatrix csr = CsrMatrix.fromDense(dense, m, k);
                for (int n : batches) {
                    long a = dA, b = dB, ref = dRef;
                    if (first) denseMs.put(n, dense(s, n, a, b, ref, sink));
                    else sgemm(m, n, k, a, b, ref); // the reference result for this matrix
                    try {
                        csr(s, csr, n, sp, denseMs.get(n), dB, dC, dRef, sink);
                    } catch (RuntimeException e) {
                        sink.accept(error("spmm", "csr", s, n, sp, e));
                    }
                }
                first = false;
                if (s.bellApplies(bellBlock)) {
                    float[] blocked = blockSparse(m, k, sp, bellBlock, 2000 + Math.round(sp * 1000));
                    uploadTo(dA, blocked);
                    BlockedEllMatrix bell = BlockedEllMatrix.fromDense(blocked, m, k, bellBlock);
                    for (int n : batches) {
                        try {
                            sgemm(m, n, k, dA, dB, dRef);
                            blockedEll(s, bell, n, sp, denseMs.get(n), dB, dC, dRef, sink);
                        } catch (RuntimeException e) {
                            sink.accept(error("spmm", "blocked-ell", s, n, sp, e));
                        }
                    }
                }
            }
        } catch (RuntimeException e) {
            sink.accept(error("layer", "all", s, 0, 0, e));
        } finally {
            for (long p : new long[] {dA, dB, dC, dRef}) if (p != 0) Cuda.memFree(p);
        }
    }

    /** Times SGEMM and the TF32 GEMM for batch n (writing C to {@code ref}); returns the SGEMM ms. */
    private double dense(WeightShape s, int n, long a, long b, long ref, Consumer<Map<String, Object>> sink) {
        int m = s.m(), k = s.k();
        double ms = time(() -> sgemm(m, n, k, a, b, ref));
        sink.accept(row("gemm", "dense", s, n, 0, ms, ms, null));
        try {
            double tf32 = time(() -> Cublas.gemmEx(cublas.handle(), Cublas.CUBLAS_OP_N, Cublas.CUBLAS_OP_N, n, m, k, blasScalars,
                    b, Cublas.CUDA_R_32F, n, a, Cublas.CUDA_R_32F, k, ref, Cublas.CUDA_R_32F, n,
                    Cublas.CUBLAS_COMPUTE_32F_FAST_TF32, Cublas.CUBLAS_GEMM_DEFAULT));
            sink.accept(row("gemm", "dense-tf32", s, n, 0, tf32, ms, null));
        } catch (RuntimeException e) {
            sink.accept(error("gemm", "dense-tf32", s, n, 0, e));
        }
        sgemm(m, n, k, a, b, ref); // leave the exact FP32 result as the reference
        return ms;
    }

    /** Row-major C[m, n] = A[m, k] B[k, n] as the column-major C^T = B^T A^T. */
    private void sgemm(int m, int n, int k, long a, long b, long c) {
        Cublas.sgemm(cublas.handle(), Cublas.CUBLAS_OP_N, Cublas.CUBLAS_OP_N, n, m, k, blasScalars, b, n, a, k, c, n);
    }

    /** Row-major C = A B through gpu-core's {@link CudaCsrMatrix}: SpMM with each algorithm that applies, the faster kept; SpMV at batch 1. */
    private void csr(WeightShape s, CsrMatrix csr, int n, double sp, double denseMs, long dB, long dC, long dRef, Consumer<Map<String, Object>> sink) {
        int m = s.m(), k = s.k();
        long nnz = csr.nonZeros();
        try (CudaCsrMatrix a = new CudaCsrMatrix(cusparse, csr)) {
            double best = Double.MAX_VALUE;
            CudaCsrMatrix.Kernel bestKernel = null;
            RuntimeException last = null;
            for (CudaCsrMatrix.Kernel kernel : CudaCsrMatrix.candidates(false, n)) {
                try {
                    a.use(kernel);
                    double ms = time(() -> a.multiplyT(dB, n, dC));
                    if (ms < best) {
                        best = ms;
                        bestKernel = kernel;
                    }
                } catch (RuntimeException e) {
                    last = e;
                }
            }
            if (bestKernel == null) throw last;
            a.use(bestKernel);
            a.multiplyT(dB, n, dC); // the result of the kept kernel, for the check
            Map<String, Object> r = row("spmm", "csr", s, n, sp, best, denseMs, bestKernel.label());
            r.put("actualSparsity", round4(1 - (double) nnz / ((double) m * k)));
            r.put("maxRelErr", maxRelErr(dC, dRef, m * n));
            sink.accept(r);
            if (n == 1) {
                try {
                    a.use(CudaCsrMatrix.Kernel.SPMV);
                    double ms = time(() -> a.multiply(dB, 1, dC)); // x [1, k] and y [1, m]: B and C of batch 1
                    Map<String, Object> v = row("spmv", "csr", s, 1, sp, ms, denseMs, CudaCsrMatrix.Kernel.SPMV.label());
                    v.put("maxRelErr", maxRelErr(dC, dRef, m));
                    sink.accept(v);
                } catch (RuntimeException e) {
                    sink.accept(error("spmv", "csr", s, 1, sp, e));
                }
            }
        }
    }

    private void blockedEll(WeightShape s, BlockedEllMatrix bell, int n, double sp, double denseMs, long dB, long dC, long dRef, Consumer<Map<String, Object>> sink) {
        int m = s.m(), k = s.k(), b = bell.blockSize();
        try (CudaBlockedEllMatrix a = new CudaBlockedEllMatrix(cusparse, bell)) {
            double ms = time(() -> a.multiplyT(dB, n, dC));
            Map<String, Object> r = row("spmm", "blocked-ell", s, n, sp, ms, denseMs, a.kernel());
            r.put("block", b);
            r.put("actualSparsity", round4(1 - (double) bell.nonZeros() / ((double) m * k)));
            r.put("maxRelErr", maxRelErr(dC, dRef, m * n));
            sink.accept(r);
        }
    }

    // ------------------------------------------------------------------ 16-bit: cuSPARSELt 2:4 vs cublasGemmEx

    /**
     * The 2:4 rows of {@code cases}, two a case (the 16-bit cuBLAS product and cuSPARSELt's), on
     * random matrices pruned 2:4 on the device. Without cuSPARSELt every case gives an error row
     * naming the cause.
     */
    public void structured(List<LtCase> cases, Consumer<Map<String, Object>> sink) {
        if (cases.isEmpty()) return;
        if (!CusparseLt.library().isLoaded()) {
            String cause = CusparseLt.library().failure().orElseThrow().getMessage();
            for (LtCase c : cases) sink.accept(ltError(c, "cuSPARSELt unavailable: " + cause));
            return;
        }
        try (CusparseLtHandle lt = new CusparseLtHandle()) {
            int version = lt.version();
            CusparseLt.requireModernEnums(version);
            for (LtCase c : cases) {
                try {
                    structured(lt, c, CusparseLt.formatVersion(version), sink);
                } catch (RuntimeException e) {
                    sink.accept(ltError(c, e.toString()));
                }
            }
        } catch (RuntimeException e) {
            for (LtCase c : cases) sink.accept(ltError(c, e.toString()));
        }
    }

    private void structured(CusparseLtHandle lt, LtCase c, String version, Consumer<Map<String, Object>> sink) {
        int m = c.m(), n = c.n(), k = c.k();
        boolean bf16 = c.dtype().equals("bf16");
        int type = bf16 ? CusparseLt.CUDA_R_16BF : CusparseLt.CUDA_R_16F;
        long dA = 0, dB = 0, dD = 0, dRef = 0;
        try (StructuredMatmul mm = new StructuredMatmul(lt, m, n, k, type, CusparseLt.CUSPARSE_COMPUTE_32F,
                CudaStructuredMatrix.SEARCH_ITERATIONS)) { // search as eval --sparse's plans do
            dA = upload16(random(m * k, 21), bf16);
            dB = upload16(random(k * n, 22), bf16);
            dD = Cuda.memAlloc(2L * m * n);
            dRef = Cuda.memAlloc(2L * m * n);
            mm.prune(dA, dA, stream);
            // check, compress and autotune exactly as eval --sparse's CudaStructuredMatrix plans do
            try (StructuredOperand op = StructuredOperand.prepare(cusparse.backend(), mm, dA, dB, dD,
                    () -> "cusparseLtSpMMAPruneCheck: A does not follow 2:4 after cusparseLtSpMMAPrune")) {
                measureStructured(mm, op, c, version, dA, dB, dD, dRef, sink);
            }
        } finally {
            for (long p : new long[] {dA, dB, dD, dRef}) if (p != 0) Cuda.memFree(p);
        }
    }

    /** Times the 16-bit cuBLAS product and cuSPARSELt's on the prepared {@code op} and hands their rows to {@code sink}. */
    private void measureStructured(StructuredMatmul mm, StructuredOperand op, LtCase c, String version, long dA, long dB, long dD, long dRef,
                                   Consumer<Map<String, Object>> sink) {
        int m = c.m(), n = c.n(), k = c.k();
        boolean bf16 = c.dtype().equals("bf16");
        int type = bf16 ? CusparseLt.CUDA_R_16BF : CusparseLt.CUDA_R_16F;
        long comp = op.compressed().pointer(), b = dB, d = dD, w = op.workspace().pointer(), a = dA, ref = dRef;
        // dense baseline on the same (pruned) A: row-major D = A B as the column-major D^T = B^T A^T
        double denseMs = time(() -> Cublas.gemmEx(cublas.handle(), Cublas.CUBLAS_OP_N, Cublas.CUBLAS_OP_N, n, m, k, blasScalars,
                b, type, n, a, type, k, ref, type, n, Cublas.CUBLAS_COMPUTE_32F, Cublas.CUBLAS_GEMM_DEFAULT));
        double ms = time(() -> mm.matmul(comp, b, d, w, stream));
        double flops = 2.0 * m * n * k;
        Map<String, Object> dense = ltRow("gemm", "dense-" + c.dtype(), c, denseMs, denseMs);
        dense.put("TFLOPs", flops / (denseMs * 1e9));
        sink.accept(dense);
        Map<String, Object> r = ltRow("spmm", "2:4-" + c.dtype(), c, ms, denseMs);
        r.put("TFLOPs", flops / (ms * 1e9));
        r.put("cusparseLt", version);
        r.put("compressedBytes", mm.compressedSize()[0]);
        r.put("algConfigId", op.configId()); // the kernel configuration the search kept
        r.put("maxRelErr", maxRelErr16(dD, dRef, m * n, bf16));
        sink.accept(r);
    }

    // ------------------------------------------------------------------ rows

    private static Map<String, Object> row(String op, String format, WeightShape s, int n, double sparsity, double ms,
                                    double denseMs, String alg) {
        Map<String, Object> r = head(op, format, s, n, sparsity);
        r.put("medianMs", ms);
        r.put("speedupVsDense", denseMs / ms);
        if (alg != null) r.put("alg", alg);
        return r;
    }

    private static Map<String, Object> error(String op, String format, WeightShape s, int n, double sparsity, Throwable e) {
        Map<String, Object> r = head(op, format, s, n, sparsity);
        r.put("error", String.valueOf(e));
        return r;
    }

    /** The fields every FP32 row starts with, measured or failed. */
    private static Map<String, Object> head(String op, String format, WeightShape s, int n, double sparsity) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("op", op);
        r.put("format", format);
        r.put("shape", s.name());
        r.put("m", s.m());
        r.put("k", s.k());
        r.put("n", n);
        r.put("sparsity", sparsity);
        return r;
    }

    private static Map<String, Object> ltRow(String op, String format, LtCase c, double ms, double denseMs) {
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

    private static Map<String, Object> ltError(LtCase c, String message) {
        Map<String, Object> r = ltRow("spmm", "2:4-" + c.dtype(), c, Double.NaN, Double.NaN);
        r.remove("medianMs");
        r.remove("speedupVsDense");
        r.put("error", message);
        return r;
    }

    private static double round4(double v) { return Math.round(v * 1e4) / 1e4; }

    // ------------------------------------------------------------------ host data and transfers

    /** Uniform values in [-1, 1), filled in parallel, seeded. */
    public static float[] random(int count, long seed) {
        float[] v = new float[count];
        parallelChunks(c -> {
            SplittableRandom r = new SplittableRandom(seed * 1_000_003 + c);
            for (int i = chunkStart(count, c), e = chunkStart(count, c + 1); i < e; i++) v[i] = (float) (r.nextDouble() * 2 - 1);
        });
        return v;
    }

    /** A row-major [m, k] matrix keeping each entry with probability 1 - sparsity (values in [-1, 1), never exactly 0). */
    public static float[] unstructured(int m, int k, double sparsity, long seed) {
        float[] a = new float[Math.multiplyExact(m, k)];
        parallelChunks(c -> {
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
    public static float[] blockSparse(int m, int k, double sparsity, int b, long seed) {
        int blockRows = m / b, blockCols = k / b;
        int keep = Math.max(1, (int) Math.round((1 - sparsity) * blockCols));
        float[] a = new float[Math.multiplyExact(m, k)];
        parallelChunks(c -> {
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

    /** body(c) for every chunk c of {@link #CHUNKS}, in parallel; each body takes its own range through chunkStart. */
    private static void parallelChunks(IntConsumer body) {
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

    public static double relErr(float[] x, float[] ref) {
        double diff = 0, scale = 0;
        for (int i = 0; i < x.length; i++) {
            diff = Math.max(diff, Math.abs((double) x[i] - ref[i]));
            scale = Math.max(scale, Math.abs(ref[i]));
        }
        return scale == 0 ? diff : diff / scale;
    }
}
