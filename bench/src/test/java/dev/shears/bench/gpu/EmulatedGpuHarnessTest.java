package dev.shears.bench.gpu;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.core.cuda.CudaBackend;
import dev.shears.core.cuda.emulator.CudaEmulator;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code bench/run-gpu.sh}'s stages, run as the script runs them (each stage's {@code main} with
 * the script's arguments) on the CPU emulator of the CUDA libraries at tiny sizes, so that a crash
 * in the harness shows here and not in a GPU session's few minutes: GpuBench (copy, threshold of
 * one tensor and of many, layer and global scope, fused SGD/AdamW updates), TrainBench on CUDA
 * (LeNet-300-100 and mnist-cnn, training step and a short GMP run, with and without CUDA graphs),
 * SparseGpuBench (cuBLAS, CSR SpMM and SpMV, Blocked-ELL, cuSPARSELt 2:4 on the real-layer and a
 * small square shape), then compare.py joining them with hand-made PyTorch peer files in the
 * peers' own output format (when python3 exists) and GpuCharts drawing the charts. Every row must
 * be there, without an error, with finite positive figures and the fields bench/README.md
 * documents. The emulator's times are the CPU's and mean nothing: only their sanity is checked.
 */
class EmulatedGpuHarnessTest {
    static final ObjectMapper M = new ObjectMapper();
    /** run-gpu.sh's default training data: the Fashion-MNIST split bundled in gpu-core (Surefire runs in bench/) */
    static final Path DATA = Path.of("../gpu-core/src/main/resources/dev/shears/core/data/fashion-mnist-small");

    @TempDir static Path dir;
    static JsonNode shears, train, plan, sparse, shapes;

    @BeforeAll
    static void runStages() throws Exception {
        CudaEmulator.require();
        long t0 = System.nanoTime();
        GpuBench.main(new String[] {"--out", dir.resolve("shears.json").toString(), "--shapes", dir.resolve("shapes.json").toString(),
                "--reps", "2", "--sizes", "1000,5000", "--models", "dense3x64", "--update-n", "4096", "--copy-mib", "1", "--flush-mib", "1"});
        long t1 = System.nanoTime();
        TrainBench.main(new String[] {"--backend", "cuda", "--out", dir.resolve("train.json").toString(), "--plan", dir.resolve("plan.json").toString(),
                "--data", DATA.toString(), "--batches", "4", "--warmup", "1", "--warmup-seconds", "0", "--steps", "1", "--epochs", "1",
                "--train", "18", "--test", "10"}); // 5 steps an epoch, the last one partial as in the real run; mnist-cnn takes the emulator 0.2 s an image
        long t2 = System.nanoTime();
        SparseGpuBench.main(new String[] {"--out", dir.resolve("sparse.json").toString(), "--reps", "2", "--quick", "--sizes", "64",
                "--batches", "1,8", "--sparsities", "0.5,0.9", "--lt", "64x32x64"});
        long t3 = System.nanoTime();
        System.err.printf("EmulatedGpuHarnessTest: GpuBench %.1f s, TrainBench %.1f s, SparseGpuBench %.1f s%n", (t1 - t0) / 1e9, (t2 - t1) / 1e9,
                (t3 - t2) / 1e9);
        shears = M.readTree(dir.resolve("shears.json").toFile());
        shapes = M.readTree(dir.resolve("shapes.json").toFile());
        train = M.readTree(dir.resolve("train.json").toFile());
        plan = M.readTree(dir.resolve("plan.json").toFile());
        sparse = M.readTree(dir.resolve("sparse.json").toFile());
        for (JsonNode doc : List.of(shears, train, sparse))
            assertFalse(doc.has(Checkpoint.PARTIAL), "a finished stage's output replaces its last checkpoint: " + doc);
        try (var files = Files.list(dir)) {
            assertEquals(List.of(), files.filter(f -> f.getFileName().toString().endsWith(".tmp")).toList(), "the checkpoints' temporary files are renamed away");
        }
    }

    static void finitePositive(JsonNode row, String... fields) {
        for (String f : fields) {
            assertTrue(row.has(f), "no " + f + " in " + row);
            double v = row.get(f).asDouble();
            assertTrue(Double.isFinite(v) && v > 0, f + " = " + v + " in " + row);
        }
    }

    static List<JsonNode> rows(JsonNode doc, String op) {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode r : doc.get("results")) if (r.get("op").asText().equals(op)) out.add(r);
        return out;
    }

    @Test
    void gpuBenchWritesCopyThresholdAndUpdateRows() {
        assertTrue(shears.get("device").asText().contains("emulator"), shears.toString());
        assertTrue(shears.get("driver").asInt() > 0, shears.toString());
        assertFalse(shears.get("date").asText().isEmpty());
        finitePositive(shears, "copyGBs");
        List<JsonNode> copy = rows(shears, "copy");
        assertEquals(1, copy.size());
        assertEquals(8L << 18, copy.getFirst().get("bytes").asLong(), "a 1 MiB copy reads and writes 2 MiB");
        List<JsonNode> thr = rows(shears, "threshold");
        assertEquals(2 * GpuBench.SPARSITIES.length + 2, thr.size(), shears.toString());
        Set<String> single = new HashSet<>();
        for (JsonNode r : thr) {
            finitePositive(r, "n", "medianMs", "vsOneRead");
            if (r.get("scope").asText().equals("single")) {
                // rounded to 0.1 GB/s, which the emulator's bandwidth at 1000 floats rounds to 0
                assertTrue(Double.isFinite(r.get("readGBs").asDouble()) && r.get("readGBs").asDouble() >= 0, r.toString());
                single.add(r.get("n").asLong() + "@" + r.get("sparsity").asDouble());
            } else {
                assertEquals("dense3x64", r.get("model").asText());
                assertEquals(3, r.get("tensors").asInt());
                assertEquals(3 * 64 * 64, r.get("n").asLong());
            }
        }
        assertEquals(Set.of("1000@0.5", "1000@0.9", "1000@0.95", "5000@0.5", "5000@0.9", "5000@0.95"), single);
        assertEquals(Set.of("layer", "global"), Set.of(thr.get(6).get("scope").asText(), thr.get(7).get("scope").asText()));
        for (String op : List.of("sgd_momentum_masked", "adamw_masked")) {
            List<JsonNode> u = rows(shears, op);
            assertEquals(List.of("naive", "vectorized"), u.stream().map(r -> r.get("kernel").asText()).toList(), op);
            for (JsonNode r : u) {
                assertEquals(4096, r.get("n").asLong());
                finitePositive(r, "medianMs", "GBs", "bytesPerParam");
                // a share of the emulator's memcpy speed, written to 3 decimals: it may round to 0 here, never on a GPU
                assertTrue(Double.isFinite(r.get("ofCopy").asDouble()) && r.get("ofCopy").asDouble() >= 0, r.toString());
            }
        }
        // the PyTorch peer times the same tensors: shapes.json names the models this run measured
        assertEquals(List.of("dense3x64"), iterable(shapes.fieldNames()));
        assertEquals("[[64,64],[64,64],[64,64]]", shapes.get("dense3x64").toString());
    }

    /** What {@code main} leaves on disk after each row (a stage stopped there keeps it), run again for the check; TrainBenchTest and EmulatedSparseGpuBenchStructuredTest check the other two stages. */
    @Test
    void gpuBenchCheckpointsEveryRowOnDisk(@TempDir Path own) throws Exception {
        GpuBench.Options o = GpuBench.Options.parse("--out", own.resolve("shears.json").toString(), "--reps", "1", "--sizes", "1000", "--models",
                "dense3x64", "--update-n", "4096", "--copy-mib", "1", "--flush-mib", "1");
        CheckpointFiles disk = new CheckpointFiles(o.out());
        String json;
        try (CudaBackend be = CudaBackend.create()) {
            GpuBench bench = new GpuBench(be, o);
            bench.output.sendTo(disk);
            json = bench.run();
        }
        disk.finished(1 + GpuBench.SPARSITIES.length + 2 + 4); // copy, one size, layer and global, two updates in two kernels
        assertEquals(M.readTree(json), disk.written.getLast());
    }

    @Test
    void trainBenchWritesStepAndRunRowsWithAndWithoutCudaGraphs() {
        assertEquals("cuda", train.get("backend").asText());
        assertEquals(18, train.get("trainImages").asInt());
        List<JsonNode> rs = iterableNodes(train.get("results"));
        assertEquals(8, rs.size(), "2 models x (step, run) x (graphs off, on): " + train);
        for (JsonNode r : rs) {
            assertFalse(r.has("error"), r.toString());
            assertEquals(4, r.get("batch").asInt());
            finitePositive(r, "imagesPerSec");
            if (r.get("op").asText().equals("train_step")) {
                assertEquals("cuda-events", r.get("timing").asText(), r.toString());
                finitePositive(r, "msPerStep", "wallImagesPerSec", "parameters");
                assertTrue(Double.isFinite(r.get("meanLoss").asDouble()), r.toString());
            } else {
                finitePositive(r, "wallSec", "stepsPerEpoch", "maskUpdates");
                assertEquals(0.9, r.get("finalSparsity").asDouble(), 1e-3, r.toString());
                double acc = r.get("testAccuracy").asDouble();
                assertTrue(acc >= 0 && acc <= 1, r.toString());
                assertEquals(r.get("cudaGraphs").asBoolean(), r.get("replayedSteps").asLong() > 0, "graphs replayed only when on: " + r);
            }
        }
        for (String model : List.of("lenet-300-100", "mnist-cnn"))
            for (String op : List.of("train_step", "gmp_run"))
                assertEquals(List.of(false, true), rs.stream().filter(r -> r.get("model").asText().equals(model) && r.get("op").asText().equals(op))
                        .map(r -> r.get("cudaGraphs").asBoolean()).toList(), model + " " + op);
        // the plan train_torch.py reads
        assertEquals(1, plan.get("runs").size());
        assertEquals(4, plan.at("/runs/0/batch").asInt());
        assertEquals(5, plan.at("/runs/0/stepsPerEpoch").asInt());
        assertEquals(18, plan.at("/data/train").asInt());
        assertEquals(1, plan.at("/step/steps").asInt());
    }

    @Test
    void sparseGpuBenchWritesEveryPlannedRowAndMatchesCublas() throws Exception {
        SparseSweepPlan p = SparseGpuBench.Options.parse("--out", "x", "--quick", "--sizes", "64", "--batches", "1,8", "--sparsities", "0.5,0.9",
                "--lt", "64x32x64").plan();
        List<JsonNode> rs = iterableNodes(sparse.get("results"));
        assertEquals(p.timings(), rs.size(), sparse.toString());
        Set<String> kinds = new HashSet<>();
        for (JsonNode r : rs) {
            assertFalse(r.has("error"), r.toString());
            finitePositive(r, "medianMs", "speedupVsDense", "m", "k", "n");
            kinds.add(r.get("op").asText() + "/" + r.get("format").asText());
            if (r.has("maxRelErr")) {
                double tol = r.get("format").asText().startsWith("2:4") ? 1e-2 : 1e-5;
                assertTrue(r.get("maxRelErr").asDouble() <= tol, r.toString());
            }
        }
        assertEquals(Set.of("gemm/dense", "gemm/dense-tf32", "spmm/csr", "spmv/csr", "spmm/blocked-ell", "gemm/dense-fp16", "spmm/2:4-fp16",
                "gemm/dense-bf16", "spmm/2:4-bf16"), kinds);
        assertTrue(rs.stream().anyMatch(r -> r.get("shape").asText().startsWith("mnist-cnn.")), "the real layers are swept too");
    }

    @Test
    void compareJoinsWithThePeersAndGpuChartsDrawsBothCharts() throws Exception {
        Path torchThreshold = dir.resolve("torch_threshold.json"), torchUpdate = dir.resolve("torch_update.json"),
                torchTrain = dir.resolve("torch_train.json"), joined = dir.resolve("gpu-bench.json");
        // the peers' output format (threshold_torch.py, update_torch.py, train_torch.py), figures made up
        List<Object> thr = new ArrayList<>();
        for (long n : new long[] {1000, 5000})
            for (double s : GpuBench.SPARSITIES) {
                thr.add(Map.of("op", "threshold", "scope", "single", "impl", "kthvalue", "n", n, "sparsity", s, "medianMs", 2.5));
                thr.add(Map.of("op", "threshold", "scope", "single", "impl", "topk", "n", n, "sparsity", s, "medianMs", 1.5));
            }
        thr.add(Map.of("op", "threshold", "scope", "layer", "impl", "kthvalue-loop", "model", "dense3x64", "tensors", 3, "n", 12288, "sparsity", 0.9,
                "medianMs", 3.0));
        thr.add(Map.of("op", "threshold", "scope", "global", "impl", "cat+kthvalue", "model", "dense3x64", "tensors", 3, "n", 12288,
                "sparsity", 0.9, "error", "CUDA out of memory"));
        Files.writeString(torchThreshold, M.writeValueAsString(Map.of("device", "NVIDIA H100", "torch", "2.11.0", "results", thr)));
        List<Object> upd = List.of(
                Map.of("op", "sgd_momentum_masked", "impl", "torch fused + mask", "n", 4096, "medianMs", 0.5, "bytesPerParam", 21, "GBs", 0.17),
                Map.of("op", "adamw_masked", "impl", "torch fused + mask", "n", 4096, "medianMs", 0.7, "bytesPerParam", 29, "GBs", 0.17));
        Files.writeString(torchUpdate, M.writeValueAsString(Map.of("device", "NVIDIA H100", "torch", "2.11.0", "results", upd)));
        List<Object> tr = new ArrayList<>();
        for (String model : List.of("lenet-300-100", "mnist-cnn")) {
            tr.add(Map.of("op", "train_step", "impl", "eager", "model", model, "batch", 4, "steps", 1, "timing", "cuda-events", "msPerStep", 1.0,
                    "imagesPerSec", 16000.0, "wallImagesPerSec", 15000.0));
            tr.add(Map.of("op", "gmp_run", "impl", "eager", "model", model, "batch", 4, "epochs", 1, "wallSec", 1.0, "imagesPerSec", 128.0,
                    "finalSparsity", 0.9, "testAccuracy", 0.5));
            tr.add(Map.of("op", "train_step", "impl", "compile", "model", model, "batch", 4, "error", "RuntimeError('no triton')"));
        }
        Files.writeString(torchTrain, M.writeValueAsString(Map.of("device", "NVIDIA H100", "torch", "2.11.0", "data", "IDX", "results", tr)));

        assertEquals(0, python("peers/test_compare.py"), "compare.py's own unit tests failed; their output is above");
        int rc = python("peers/compare.py", "--shears", dir.resolve("shears.json").toString(), dir.resolve("train.json").toString(),
                "--torch", torchThreshold.toString(), torchUpdate.toString(), torchTrain.toString(), "--sparse", dir.resolve("sparse.json").toString(),
                "--out", joined.toString(), "--png", dir.resolve("gpu-bench.png").toString(), "--quiet");
        assertEquals(0, rc, "compare.py failed; its output is above");
        JsonNode j = M.readTree(joined.toFile());
        assertEquals(shears.get("device").asText(), j.get("device").asText());
        assertEquals("2.11.0", j.get("torch").asText());
        assertFalse(j.has("missing"), j.toString());
        finitePositive(j, "copyGBs");
        assertEquals(sparse.get("results").size(), j.at("/sparse/results").size());
        int thresholdRatios = 0, updateRatios = 0, trainRatios = 0;
        for (JsonNode r : j.get("results")) {
            switch (r.get("op").asText()) {
                case "threshold" -> {
                    if (r.get("scope").asText().equals("single")) {
                        finitePositive(r, "speedup_vs_kthvalue", "speedup_vs_topk");
                        thresholdRatios++;
                    } else if (r.get("scope").asText().equals("layer")) {
                        finitePositive(r, "speedup_vs_kthvalue-loop");
                        thresholdRatios++;
                    } else assertEquals("CUDA out of memory", r.get("torch_cat+kthvalue_error").asText(), r.toString());
                }
                case "sgd_momentum_masked", "adamw_masked" -> {
                    assertEquals("vectorized", r.get("kernel").asText(), "the naive kernels are not compared");
                    finitePositive(r, "speedup_vs_torch fused + mask");
                    updateRatios++;
                }
                case "train_step", "gmp_run" -> {
                    finitePositive(r, "speedup_vs_eager", "torch_eager_imagesPerSec");
                    if (r.get("op").asText().equals("train_step")) assertEquals("RuntimeError('no triton')", r.get("torch_compile_error").asText());
                    trainRatios++;
                }
                default -> fail("unexpected row " + r);
            }
        }
        assertEquals(7, thresholdRatios);
        assertEquals(2, updateRatios);
        assertEquals(8, trainRatios, "every Shears training row, graphs on and off, is paired");

        Path trainPng = dir.resolve("gpu-train.png"), sparsePng = dir.resolve("gpu-sparse.png");
        GpuCharts.main(new String[] {"--in", joined.toString(), "--train-png", trainPng.toString(), "--sparse-png", sparsePng.toString(),
                "--shape", "square-64"});
        for (Path png : List.of(trainPng, sparsePng)) {
            byte[] b = Files.readAllBytes(png);
            assertTrue(b.length > 1000 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G', png + " is not a PNG");
        }
    }

    /** Runs python3 on a script with args (skips, with the reason, where there is no python3); its output goes to stderr. */
    static int python(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("python3"));
        cmd.addAll(List.of(args));
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (IOException e) {
            Assumptions.assumeTrue(false, "python3 unavailable (" + e.getMessage() + "): compare.py not checked");
            return -1;
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("compare.py did not finish in 60 s: " + out);
        }
        System.err.print(out);
        return p.exitValue();
    }

    static List<String> iterable(java.util.Iterator<String> it) {
        List<String> out = new ArrayList<>();
        it.forEachRemaining(out::add);
        return out;
    }

    static List<JsonNode> iterableNodes(JsonNode array) {
        List<JsonNode> out = new ArrayList<>();
        array.forEach(out::add);
        return out;
    }
}
