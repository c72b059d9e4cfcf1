package dev.shears.cli;

import dev.shears.core.cuda.sparse.CudaShapeSweep;
import dev.shears.core.sparse.SparseBench;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** How {@link CudaShapeBench} turns the GPU sweep's rows into the table's, and its limits, without a GPU. */
class CudaShapeBenchTest {
    static Map<String, Object> row(String op, String format, int n, double sparsity, double ms, double speedup, Object... extra) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("op", op);
        r.put("format", format);
        r.put("shape", "64x32");
        r.put("m", 64);
        r.put("k", 32);
        r.put("n", n);
        r.put("sparsity", sparsity);
        r.put("medianMs", ms);
        r.put("speedupVsDense", speedup);
        for (int i = 0; i < extra.length; i += 2) r.put((String) extra[i], extra[i + 1]);
        return r;
    }

    @Test void rowsKeepTheirFiguresAndBlockedEllNamesItsBlock() {
        CudaShapeBench.Result r = CudaShapeBench.convert(List.of(
                row("gemm", "dense", 8, 0, 0.02, 1.0),
                row("spmm", "blocked-ell", 8, 0.9, 0.01, 2.0, "alg", "x", "block", 16, "maxRelErr", 3e-7),
                row("spmm", "2:4-bf16", 8, 0.5, 0.01, 1.5, "maxRelErr", 4e-3)), "H100");
        assertEquals(List.of(), r.failures());
        assertEquals(List.of(new SparseBench.Row("gemm", "dense", 64, 32, 8, 0, 0.02, 1.0),
                new SparseBench.Row("spmm", "blocked-ell-16", 64, 32, 8, 0.9, 0.01, 2.0),
                new SparseBench.Row("spmm", "2:4-bf16", 64, 32, 8, 0.5, 0.01, 1.5)), r.rows());
        assertEquals("H100", r.device());
    }

    @Test void anErrorOrAResultOffCublasIsAFailureAndNotARow() {
        Map<String, Object> error = row("spmm", "csr", 1, 0.5, 0, 0);
        error.remove("medianMs");
        error.remove("speedupVsDense");
        error.put("error", "CudaException: cusparseSpMM failed");
        CudaShapeBench.Result r = CudaShapeBench.convert(List.of(error,
                row("spmm", "csr", 8, 0.9, 0.01, 2.0, "maxRelErr", 1e-3), // FP32 off by 1e-3: a wrong kernel, not rounding
                row("spmm", "2:4-fp16", 8, 0.5, 0.01, 2.0, "maxRelErr", 1e-3)), "H100");
        assertEquals(1, r.rows().size(), r.rows().toString());
        assertEquals("2:4-fp16", r.rows().getFirst().format(), "16-bit rounding is within its tolerance");
        assertEquals(2, r.failures().size(), r.failures().toString());
        assertTrue(r.failures().get(0).contains("spmm csr n=1 sparsity 0.5000: CudaException: cusparseSpMM failed"), r.failures().get(0));
        assertTrue(r.failures().get(1).contains("differs from cuBLAS") && r.failures().get(1).contains("n=8"), r.failures().get(1));
    }

    @Test void memoryThatDoesNotFitIsAClearErrorNamingShapeAndBytes() {
        long need = CudaShapeSweep.layerBytes(4096, 4096, 64, 0.5, 16) + CudaShapeSweep.FLUSH_BYTES;
        CudaShapeBench.requireDeviceMemory(4096, 4096, 64, 0.5, List.of(), new long[] {need, need}, "GPU"); // exactly enough
        UserError e = assertThrows(UserError.class,
                () -> CudaShapeBench.requireDeviceMemory(4096, 4096, 64, 0.5, List.of(), new long[] {need - 1, need}, "Some GPU"));
        assertTrue(e.getMessage().contains("--shape 4096x4096") && e.getMessage().contains(need + " bytes")
                && e.getMessage().contains("Some GPU has " + (need - 1) + " bytes"), e.getMessage());
        // the dense matrix alone is 64 MiB and its CSR form at 50% another 64 MiB
        assertTrue(need >= (256L << 20) + 2 * 4L * 4096 * 4096, "counts A, its CSR form and the flush buffer: " + need);
    }
}
