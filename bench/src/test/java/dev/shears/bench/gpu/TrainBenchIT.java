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
            // on CUDA every row comes twice, CUDA graphs off and on (--cuda-graphs both, the default)
            assertEquals(8, rows.size(), "2 models x (step, run) x graphs off and on: " + rows);
            for (JsonNode r : rows) {
                assertFalse(r.has("error"), r.toString());
                assertTrue(r.get("imagesPerSec").asDouble() > 0, r.toString());
                if (r.get("op").asText().equals("train_step")) assertEquals("cuda-events", r.get("timing").asText(), r.toString());
                else assertEquals(0.9, r.get("finalSparsity").asDouble(), 1e-3, r.toString());
            }
        }
    }
}
