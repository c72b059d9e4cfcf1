package dev.shears.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.cli.report.RunReport;
import dev.shears.core.cuda.CudaBackend;
import dev.shears.core.cuda.GpuTestSupport;
import dev.shears.core.data.DataSources;
import dev.shears.core.data.Dataset;
import dev.shears.core.nn.Architectures;
import dev.shears.core.nn.Model;
import dev.shears.core.sparse.KernelPruning;
import dev.shears.core.tensor.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The pruning report's inference section after a CUDA run: timed on the CUDA backend (cuBLAS
 * against the CUDA sparse model, CUDA events), and the report, the JSON and the summary say so;
 * nothing is timed on a CPU copy.
 */
class CudaInferenceReportIT {
    @TempDir Path dir;

    @Test void aModelOnTheCudaBackendIsTimedThereAndTheSectionNamesIt() {
        GpuTestSupport.assumeCuda();
        Dataset test = DataSources.bundledFashionMnist().test().head(300);
        try (CudaBackend gpu = CudaBackend.create(0, CudaBackend.LeakPolicy.RELEASE)) {
            Model m = Architectures.create("lenet-300-100", Shape.of(1, 28, 28), 10).bind(gpu, 3);
            KernelPruning.pruneKernels(m, 0.9);
            assertTrue(InferenceReport.timesInPlace(m), "cuSPARSE loads here: no CPU copy");
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            long[] now = {0};
            // a log whose clock moves 5 s a reading: every planned layer but the last gets its line
            RunReport.Inference inf = InferenceReport.measure(m, test, new int[] {1, 4},
                    new Progress(new PrintStream(err, true, StandardCharsets.UTF_8), false, false, () -> now[0] += 5_000_000_000L));
            String progress = err.toString(StandardCharsets.UTF_8);
            // the CUDA planner tells its layers as the CPU one does: 1/3 and 2/3 at each of the two batch sizes
            assertEquals(2, progress.lines().filter(l -> l.startsWith("sparse plan [") && l.contains("] 1/3 layers (fc")).count(), progress);
            assertEquals(2, progress.lines().filter(l -> l.startsWith("sparse plan [") && l.contains("] 2/3 layers (fc")).count(), progress);
            assertNull(inf.note(), inf.note() + "\n" + progress);
            assertEquals("cuda", inf.backend());
            assertEquals(gpu.name(), inf.device(), "the section names the device it timed on");
            assertTrue(progress.contains("on the GPU (cuBLAS against cuSPARSE)"), progress);
            assertEquals(2, inf.batches().size());
            for (RunReport.InferenceBatch b : inf.batches()) {
                assertEquals(256, b.samples(), "agreement on 256 test images at batch " + b.batch());
                assertEquals(b.samples(), b.samePredictions(), "cuBLAS and cuSPARSE classify alike: " + b);
                assertTrue(b.maxAbsDifference() < 1e-3, b.toString());
                assertTrue(b.denseMs() > 0 && b.sparseMs() > 0, b.toString());
                assertEquals(4L * (784 * 300 + 300 * 100 + 100 * 10), b.denseWeightBytes());
                assertEquals(3, b.layers().size());
                if (!b.planKept()) assertTrue(b.layers().stream().allMatch(l -> l.format().equals("dense")), b.toString());
                assertTrue(b.sparseMs() <= b.denseMs(), "never a kept plan slower than dense (issue 6): " + b);
                for (RunReport.InferenceLayer l : b.layers())
                    assertTrue(l.format().equals("dense") || l.format().startsWith("csr/") || l.format().startsWith("blocked-ell"),
                            "a CUDA plan's formats: " + l);
            }
        }
    }

    /** {@code prune --backend cuda}: the whole run, its report.json, report.html and summary. */
    @Test void pruneOnCudaReportsInferenceTimedOnCuda() throws Exception {
        GpuTestSupport.assumeCuda();
        Path data = CliTest.fashionMnistSlice(dir.resolve("fmnist"), 512, 300), out = dir.resolve("out");
        CliRun run = CliRun.shears("prune", "--model", "lenet-300-100", "--data", data.toString(), "--sparsity", "0.8",
                "--epochs", "2", "--out", out.toString(), "--backend", "cuda", "--inference-batches", "1,4");
        assertEquals(0, run.code(), run.err());
        JsonNode report = new ObjectMapper().readTree(out.resolve("report.json").toFile());
        // accuracy per class, counted from the CUDA test passes' logits: adds up to the overall figures over all 300 images
        for (String side : List.of("before", "after")) {
            long right = 0, total = 0;
            for (JsonNode c : report.get("perClass")) {
                right += c.get(side).get("correct").asLong();
                total += c.get(side).get("total").asLong();
            }
            assertEquals(300, total, side);
            assertEquals(report.get(side).get("accuracy").asDouble(), right / 300.0, 1e-15, side);
        }
        JsonNode inf = report.get("inference");
        assertEquals("cuda", inf.get("backend").asText(), inf.toString());
        assertTrue(inf.get("device").asText().startsWith("cuda ("), inf.toString());
        assertTrue(inf.get("note").isNull(), inf.toString());
        assertEquals(2, inf.get("batches").size(), inf.toString());
        for (JsonNode b : inf.get("batches"))
            assertEquals(b.get("samples").asInt(), b.get("samePredictions").asInt(), b.toString());
        assertTrue(run.out().contains("inference on the GPU, cuBLAS dense against cuSPARSE,"), run.out());
        assertFalse(run.out().contains("inference on the CPU"), run.out());
        String html = Files.readString(out.resolve("report.html"));
        assertTrue(html.contains("Timed on the CUDA backend (cuBLAS dense against cuSPARSE, CUDA events) on cuda ("), html);
    }

    /**
     * {@code eval --sparse --backend cuda --precision fp16} on a model pruned 2:4 on the GPU: the
     * planner times the cuSPARSELt candidate ("2:4-lt fp16") for every Dense layer, and the
     * accuracy stays the dense model's within FP16 rounding (at most 1% of the 300 test images
     * may flip: FP16 moves logits by ~1e-3, enough only for images on a decision boundary).
     */
    @Test void evalWithReducedPrecisionOffersTwoOfFourOnCuda() throws Exception {
        GpuTestSupport.assumeCuda();
        Path data = CliTest.fashionMnistSlice(dir.resolve("fmnist24"), 512, 300), out = dir.resolve("out24");
        CliRun prune = CliRun.shears("prune", "--model", "lenet-300-100", "--data", data.toString(), "--structure", "2:4",
                "--epochs", "1", "--out", out.toString(), "--backend", "cuda", "--quiet");
        assertEquals(0, prune.code(), prune.err());
        String model = out.resolve("model.shears").toString();
        CliRun dense = CliRun.shears("eval", "--model", model, "--data", data.toString(), "--json", "--backend", "cuda", "--batch", "64");
        // eval's plan lines go to System.err itself, not to the run's error stream
        ByteArrayOutputStream plan = new ByteArrayOutputStream();
        PrintStream saved = System.err;
        CliRun lt;
        System.setErr(new PrintStream(plan, true, StandardCharsets.UTF_8));
        try {
            lt = CliRun.shears("eval", "--model", model, "--data", data.toString(), "--json", "--backend", "cuda", "--batch", "64",
                    "--sparse", "--precision", "fp16");
        } finally {
            System.setErr(saved);
        }
        String planned = plan.toString(StandardCharsets.UTF_8);
        assertEquals(0, lt.code(), lt.err() + planned);
        for (String layer : new String[] {"fc1", "fc2", "fc3"})
            assertTrue(planned.lines().anyMatch(l -> l.startsWith("sparse plan: " + layer) && l.contains(" 2:4-lt fp16 ")),
                    layer + " has a timed 2:4-lt fp16 candidate: " + planned);
        ObjectMapper json = new ObjectMapper();
        assertEquals(json.readTree(dense.out()).get("accuracy").asDouble(), json.readTree(lt.out()).get("accuracy").asDouble(), 0.01, lt.out());
        assertTrue(json.readTree(lt.out()).get("mode").asText().startsWith("sparse on the GPU ("), lt.out());

        // bench sparse --backend cuda --precision fp16 times the same candidate for every Dense layer, on the device
        Path benchJson = dir.resolve("bench24.json");
        CliRun bench = CliRun.shears("bench", "sparse", "--model", model, "--backend", "cuda", "--precision", "fp16", "--batch", "8",
                "--quick", "--json", benchJson.toString());
        assertEquals(0, bench.code(), bench.err());
        JsonNode rows = json.readTree(benchJson.toFile());
        assertFalse(rows.get("device").asText().startsWith("cpu"), "timed on the GPU: " + rows.get("device"));
        for (String layer : new String[] {"fc1", "fc2", "fc3"}) {
            boolean lt24 = false;
            for (JsonNode r : rows.get("results"))
                lt24 |= r.get("op").asText().equals(layer) && r.get("format").asText().startsWith("2:4-lt fp16") && r.get("n").asInt() == 8;
            assertTrue(lt24, layer + " has a 2:4-lt fp16 row: " + rows);
        }
    }
}
