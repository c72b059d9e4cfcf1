package dev.shears.bench.gpu;

import dev.shears.core.cuda.sparse.CudaShapeSweep;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.core.cuda.CudaBackend;
import dev.shears.core.cuda.emulator.CudaEmulator;
import dev.shears.core.cuda.sparse.CusparseRuntime;
import dev.shears.nativebind.CublasHandle;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The GPU sweep's 2:4 stage (cuSPARSELt prune, check, compress, search and matmul against
 * cublasGemmEx in the same 16-bit type) on small shapes, against the CPU emulator's cuSPARSELt
 * and cuBLAS: every row comes back without an error, the 2:4 result matches the dense product of
 * the pruned A (1e-2 relative: one FP16/BF16 rounding of the output), and the compressed size is
 * the emulator's 9/16 of the dense elements; the document is checkpointed after every row. The
 * times are the CPU's and mean nothing.
 */
class EmulatedSparseGpuBenchStructuredTest {
    @BeforeAll static void emulator() { CudaEmulator.require(); }

    @Test
    void theTwoFourStageRunsAndMatchesCublasOnSmallShapes(@TempDir Path dir) throws Exception {
        List<CudaShapeSweep.LtCase> cases = List.of(new CudaShapeSweep.LtCase(64, 32, 64, "fp16"), new CudaShapeSweep.LtCase(32, 16, 128, "bf16"));
        SparseSweepPlan plan = new SparseSweepPlan(List.of(), List.of(1), List.of(0.5), 16, cases);
        SparseGpuBench.Options opt = SparseGpuBench.Options.parse("--out", "unused.json", "--reps", "2");
        assertNull(SparseGpuBench.unavailabilityCause());
        String json;
        // a checkpoint after every row, marked partial, so a stage stopped at its time limit keeps its figures
        CheckpointFiles disk = new CheckpointFiles(dir.resolve("sparse.json"));
        try (CudaBackend be = CudaBackend.create(); CublasHandle b = new CublasHandle(be.stream()); CusparseRuntime sp = new CusparseRuntime(be)) {
            SparseGpuBench bench = new SparseGpuBench(opt, plan, b, sp);
            bench.output.sendTo(disk);
            json = bench.run(be.name());
        }
        JsonNode rows = new ObjectMapper().readTree(json).get("results");
        assertEquals(plan.timings(), rows.size(), json);
        disk.finished(rows.size());
        assertEquals(new ObjectMapper().readTree(json), disk.written.getLast(), "run returns the document it wrote last");
        int sparse = 0;
        for (JsonNode r : rows) {
            assertFalse(r.has("error"), r.toString());
            assertTrue(r.get("medianMs").asDouble() > 0, r.toString());
            if (r.get("op").asText().equals("spmm")) {
                sparse++;
                assertTrue(r.get("format").asText().startsWith("2:4-"), r.toString());
                assertEquals("0.8.1", r.get("cusparseLt").asText(), r.toString());
                long elements = (long) r.get("m").asInt() * r.get("k").asInt();
                assertEquals(elements * 2 * 9 / 16, r.get("compressedBytes").asLong(), r.toString());
                assertTrue(r.get("maxRelErr").asDouble() <= 1e-2, r.toString());
                assertEquals(1, r.get("algConfigId").asInt(), "the emulator's search keeps its last configuration: " + r);
            }
        }
        assertEquals(cases.size(), sparse, json);
    }
}
