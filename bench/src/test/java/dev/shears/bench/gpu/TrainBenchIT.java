package dev.shears.bench.gpu;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.core.cuda.CudaBackend;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The training-throughput benchmark on the CUDA backend, tiny: steps timed with CUDA events, the
 * GMP run reaching the recipe's final sparsity as on the CPU. Skips without CUDA; fails instead
 * under -Dshears.requireGpu=true. Not yet run: written without a GPU.
 */
class TrainBenchIT {

    @BeforeEach
    void requireCuda() {
        String cause = CudaBackend.unavailabilityCause();
        if (cause == null) return;
        if (Boolean.getBoolean("shears.requireGpu") || "true".equalsIgnoreCase(System.getenv("SHEARS_REQUIRE_GPU")))
            fail("CUDA unavailable but -Dshears.requireGpu=true: " + cause);
        org.junit.jupiter.api.Assumptions.assumeTrue(false, "CUDA unavailable: " + cause);
    }

    @Test
    void timesStepsWithCudaEventsAndRunsAWholeGmpRun() throws Exception {
        TrainBench.Options o = TrainBench.Options.parse("--out", "unused.json", "--backend", "cuda", "--batches", "32",
                "--warmup", "2", "--warmup-seconds", "0", "--steps", "5", "--epochs", "1", "--train", "256", "--test", "64");
        try (CudaBackend be = CudaBackend.create()) {
            JsonNode rows = new ObjectMapper().readTree(new TrainBench(be, o).run()).get("results");
            assertEquals(4, rows.size());
            for (JsonNode r : rows) assertTrue(r.get("imagesPerSec").asDouble() > 0, r.toString());
            assertEquals("cuda-events", rows.get(0).get("timing").asText());
            assertEquals(0.9, rows.get(1).get("finalSparsity").asDouble(), 1e-3, rows.get(1).toString());
            assertEquals(0.9, rows.get(3).get("finalSparsity").asDouble(), 1e-3, rows.get(3).toString());
        }
    }
}
