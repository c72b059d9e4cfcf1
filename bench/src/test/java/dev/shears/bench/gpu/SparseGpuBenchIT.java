package dev.shears.bench.gpu;

import dev.shears.core.cuda.sparse.CudaShapeSweep;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.core.cuda.CudaBackend;
import dev.shears.core.cuda.sparse.CusparseRuntime;
import dev.shears.nativebind.CublasHandle;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A tiny GPU sparse sweep end to end: every planned timing yields a row without an error, and
 * every sparse result matches cuBLAS on the same matrix (FP32: 1e-5 relative to the largest |C|,
 * sums of <= 64 products; 16-bit 2:4: 1e-2, one FP16/BF16 rounding of the output). Skips without
 * CUDA; fails instead under -Dshears.requireGpu=true. Not yet run: written without a GPU.
 */
class SparseGpuBenchIT {

    @BeforeEach
    void requireCuda() {
        String cause = SparseGpuBench.unavailabilityCause();
        if (cause == null) return;
        if (Boolean.getBoolean("shears.requireGpu") || "true".equalsIgnoreCase(System.getenv("SHEARS_REQUIRE_GPU")))
            fail("CUDA unavailable but -Dshears.requireGpu=true: " + cause);
        org.junit.jupiter.api.Assumptions.assumeTrue(false, "CUDA unavailable: " + cause);
    }

    @Test
    void everyPlannedTimingRunsAndMatchesCublas() throws Exception {
        SparseSweepPlan plan = new SparseSweepPlan(List.of(new CudaShapeSweep.WeightShape("square-64", 64, 64),
                new CudaShapeSweep.WeightShape("odd", 30, 50)), List.of(1, 8), List.of(0.5, 0.9), 16,
                List.of(new CudaShapeSweep.LtCase(64, 64, 64, "fp16"), new CudaShapeSweep.LtCase(64, 64, 64, "bf16")));
        SparseGpuBench.Options opt = SparseGpuBench.Options.parse("--out", "unused.json", "--reps", "3");
        String json;
        try (CudaBackend be = CudaBackend.create(); CublasHandle b = new CublasHandle(be.stream()); CusparseRuntime sp = new CusparseRuntime(be)) {
            json = new SparseGpuBench(opt, plan, b, sp).run(be.name());
        }
        JsonNode rows = new ObjectMapper().readTree(json).get("results");
        assertEquals(plan.timings(), rows.size(), json);
        for (JsonNode r : rows) {
            assertFalse(r.has("error"), r.toString());
            assertTrue(r.get("medianMs").asDouble() > 0, r.toString());
            if (r.has("maxRelErr")) {
                double tol = r.get("format").asText().startsWith("2:4") ? 1e-2 : 1e-5;
                assertTrue(r.get("maxRelErr").asDouble() <= tol, r.toString());
            }
        }
    }
}
