package dev.shears.cli;

import dev.shears.core.backend.Backend;
import dev.shears.core.backend.Backends;
import dev.shears.core.cuda.CudaBackend;
import dev.shears.core.cuda.sparse.CudaShapeSweep;
import dev.shears.core.cuda.sparse.CudaStructuredMatrix;
import dev.shears.core.cuda.sparse.CusparseRuntime;
import dev.shears.core.cuda.sparse.Precision;
import dev.shears.core.sparse.SparseBench;
import dev.shears.nativebind.CublasHandle;
import dev.shears.nativebind.Cuda;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code shears bench sparse --shape MxK --backend cuda}: gpu-core's {@link CudaShapeSweep} of
 * one layer shape (the sweep bench's SparseGpuBench runs for each of its shapes), its rows turned
 * into the CPU sweep's {@link SparseBench.Row}s so that the command prints, charts and writes them
 * alike. Formats: {@code dense} (cuBLAS SGEMM, the baseline) and {@code dense-tf32}, {@code csr}
 * (SpMM, and SpMV at batch 1), {@code blocked-ell-16}, and with {@code --precision fp16|bf16}
 * {@code 2:4-fp16|bf16} (cuSPARSELt, sparsity 0.5) against {@code dense-fp16|bf16}, at each batch
 * rounded up to a multiple of 8 (cuSPARSELt's dense operands in 16 bits; {@code eval --sparse}
 * pads its batch alike), so batches 1 and 8 give one pair of rows, at n = 8.
 */
final class CudaShapeBench {
    /** Blocked-ELL block edge, as SparseGpuBench's sweep uses */
    static final int BELL_BLOCK = 16;
    /**
     * Largest {@code maxRelErr} (relative to the largest |C|) a row may show against cuBLAS: FP32
     * sums in another order differ by a few ulps of the largest term; 16-bit outputs by their
     * rounding (2^-8 relative for BF16), with room for the order of accumulation.
     */
    static final double FP32_TOLERANCE = 1e-4, HALF_TOLERANCE = 2e-2;

    /** The device's name, the rows that ran, and a line for each case that failed or did not match cuBLAS. */
    record Result(String device, List<SparseBench.Row> rows, List<String> failures) {}

    private CudaShapeBench() {}

    static Result run(int m, int k, double[] sparsities, int[] batches, Precision precision, boolean quick) {
        int maxN = Arrays.stream(batches).max().orElse(1);
        double minSparsity = Arrays.stream(sparsities).min().orElse(0);
        requireHostArrays(m, k, maxN);
        if (precision != Precision.FP32 && (m % 16 != 0 || k % 16 != 0))
            throw new UserError(String.format(Locale.ROOT, "--precision %s with --shape %dx%d: cuSPARSELt's 2:4 product needs M and K"
                    + " multiples of 16 (eval --sparse pads a layer to them; this sweep times the shape as given): choose e.g. --shape %dx%d,"
                    + " or drop --precision", precision.id(), m, k, CudaStructuredMatrix.roundUp(m, 16), CudaStructuredMatrix.roundUp(k, 16)));
        try (Backend be = Backends.create("cuda").backend()) {
            BenchCommand.requireCusparse();
            CudaBackend cuda = (CudaBackend) be;
            List<CudaShapeSweep.LtCase> lt = new ArrayList<>();
            if (precision != Precision.FP32)
                for (int n : Arrays.stream(batches).map(n -> CudaStructuredMatrix.roundUp(n, 8)).distinct().toArray()) lt.add(new CudaShapeSweep.LtCase(m, n, k, precision.id()));
            requireDeviceMemory(m, k, maxN, minSparsity, lt, Cuda.memGetInfo(), be.name());
            List<Map<String, Object>> raw = new ArrayList<>();
            try (CublasHandle blas = new CublasHandle(cuda.stream()); CusparseRuntime sp = new CusparseRuntime(cuda);
                 CudaShapeSweep sweep = new CudaShapeSweep(blas, sp, quick ? 2 : 10, CudaShapeSweep.FLUSH_BYTES)) {
                sweep.layer(new CudaShapeSweep.WeightShape(m + "x" + k, m, k), Arrays.stream(sparsities).boxed().toList(),
                        Arrays.stream(batches).boxed().toList(), BELL_BLOCK, raw::add);
                sweep.structured(lt, raw::add);
            }
            return convert(raw, be.name());
        }
    }

    /** The sweep's rows as the CPU sweep's; an error row or a result off cuBLAS's becomes a failure line instead. */
    static Result convert(List<Map<String, Object>> raw, String device) {
        List<SparseBench.Row> rows = new ArrayList<>();
        List<String> failures = new ArrayList<>();
        for (Map<String, Object> r : raw) {
            String format = (String) r.get("format");
            if (r.containsKey("block")) format += "-" + r.get("block"); // as the CPU names Blocked-ELL: blocked-ell-16
            int n = ((Number) r.get("n")).intValue();
            double sparsity = ((Number) r.get("sparsity")).doubleValue();
            String what = String.format(Locale.ROOT, "%s %s n=%d sparsity %.4f", r.get("op"), format, n, sparsity);
            if (r.containsKey("error")) {
                failures.add(what + ": " + r.get("error"));
                continue;
            }
            if (r.get("maxRelErr") instanceof Number e) {
                double tol = format.startsWith("2:4") ? HALF_TOLERANCE : FP32_TOLERANCE;
                if (!(e.doubleValue() <= tol)) { // a wrong product's time means nothing
                    failures.add(String.format(Locale.ROOT, "%s: result differs from cuBLAS's, max relative error %.3g > %.0e", what, e.doubleValue(), tol));
                    continue;
                }
            }
            rows.add(new SparseBench.Row((String) r.get("op"), format, ((Number) r.get("m")).intValue(), ((Number) r.get("k")).intValue(), n,
                    sparsity, ((Number) r.get("medianMs")).doubleValue(), ((Number) r.get("speedupVsDense")).doubleValue()));
        }
        return new Result(device, rows, failures);
    }

    /** The sweep builds each matrix on the host in a Java array: m x k, k x batch and m x batch floats must each fit one. */
    static void requireHostArrays(int m, int k, int maxN) {
        long mk = (long) m * k, largest = Math.max(mk, Math.max((long) k * maxN, (long) m * maxN));
        if (largest > Integer.MAX_VALUE - 8)
            throw new UserError(String.format(Locale.ROOT, "--shape %dx%d with --batch up to %d: a matrix of %d floats (%d bytes) is more than"
                    + " one Java array holds (2^31 - 9 elements); choose a smaller --shape or --batch", m, k, maxN, largest, 4 * largest));
    }

    /** A clear error before allocating when the sweep's matrices and the L2 flush buffer cannot fit the free device memory. */
    static void requireDeviceMemory(int m, int k, int maxN, double minSparsity, List<CudaShapeSweep.LtCase> lt, long[] freeTotal, String device) {
        long need = CudaShapeSweep.layerBytes(m, k, maxN, minSparsity, BELL_BLOCK);
        for (CudaShapeSweep.LtCase c : lt) need = Math.max(need, CudaShapeSweep.structuredBytes(c));
        need += CudaShapeSweep.FLUSH_BYTES;
        if (need > freeTotal[0])
            throw new UserError(String.format(Locale.ROOT, "--shape %dx%d with --batch up to %d and --sparsity down to %s needs about %d bytes"
                    + " (%.1f GiB) of GPU memory (the dense matrix, its CSR and Blocked-ELL forms, inputs, outputs and a %d MiB L2 flush"
                    + " buffer), but %s has %d bytes (%.1f GiB) free of %d; choose a smaller --shape, --batch or a higher --sparsity",
                    m, k, maxN, minSparsity, need, need / (double) (1L << 30), CudaShapeSweep.FLUSH_BYTES >> 20, device, freeTotal[0],
                    freeTotal[0] / (double) (1L << 30), freeTotal[1]));
    }
}
