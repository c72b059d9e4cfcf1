package dev.shears.bench.gpu;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.core.cpu.CpuBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The training-throughput benchmark on the CPU backend, tiny: argument parsing, the JSON it
 * writes, and that the schedule handed to the PyTorch peer is the one GmpTrainer really ran.
 * (On the GPU machine the same class runs with --backend cuda; that has not run yet.)
 */
class TrainBenchTest {
    static final ObjectMapper M = new ObjectMapper();

    @Test
    void parsesDefaultsFlagsAndQuick() {
        TrainBench.Options d = TrainBench.Options.parse("--out", "t.json");
        assertEquals(List.of("lenet-300-100", "mnist-cnn"), d.models());
        assertEquals(List.of(128, 512), d.batches());
        assertEquals("auto", d.backend());
        assertEquals(3, d.epochs());
        assertEquals(60_000, d.train());
        TrainBench.Options o = TrainBench.Options.parse("--out", "t.json", "--backend", "cuda", "--models", "mnist-cnn", "--batches", "64,256",
                "--warmup", "2", "--warmup-seconds", "0.5", "--steps", "7", "--epochs", "0", "--train", "100", "--test", "50", "--data", "d", "--recipe", "demo",
                "--step-sparsity", "0.5", "--plan", "p.json", "--seed", "9");
        assertEquals(List.of(64, 256), o.batches());
        assertEquals(7, o.steps());
        assertEquals(0.5, o.warmupSeconds());
        assertEquals(1.0, d.warmupSeconds());
        assertEquals(0, o.epochs());
        assertEquals("d", o.data());
        assertEquals(Path.of("p.json"), o.plan());
        assertEquals(0.5, o.stepSparsity());
        TrainBench.Options q = TrainBench.Options.parse("--out", "t.json", "--quick");
        assertEquals(1, q.epochs());
        assertEquals(20, q.steps());
        assertEquals(20_000, q.train());
        assertEquals(List.of(false, true), d.cudaGraphs(), "graphs on and off by default, so one GPU run measures both");
        assertEquals(List.of(true), TrainBench.Options.parse("--out", "t.json", "--cuda-graphs", "on").cudaGraphs());
        assertEquals(List.of(false), TrainBench.Options.parse("--out", "t.json", "--cuda-graphs", "off").cudaGraphs());
    }

    @Test
    void rejectsBadArgumentsNamingThem() {
        assertTrue(msg("--steps", "3").contains("--out"));
        assertTrue(msg("--out", "x", "--models", "resnet9").contains("resnet9"));
        assertTrue(msg("--out", "x", "--batches", "128,abc").contains("'abc' is not an integer"));
        assertTrue(msg("--out", "x", "--step-sparsity", "1").contains("[0, 1)"));
        assertTrue(msg("--out", "x", "--epochs", "-1").contains("--epochs"));
        assertTrue(msg("--out", "x", "--warmup-seconds", "-1").contains("--warmup-seconds"));
        assertTrue(msg("--out", "x", "--fast").contains("unknown argument --fast"));
        assertTrue(msg("--out").contains("needs a value"));
        assertTrue(msg("--out", "x", "--cuda-graphs", "yes").contains("off, on or both"));
    }

    private static String msg(String... args) {
        return assertThrows(IllegalArgumentException.class, () -> TrainBench.Options.parse(args)).getMessage();
    }

    @Test
    void readsTheBundledFashionMnistSplit() throws Exception {
        TrainBench.Options o = TrainBench.Options.parse("--out", "unused.json", "--backend", "cpu", "--models", "lenet-300-100",
                "--batches", "16", "--warmup", "1", "--warmup-seconds", "0", "--steps", "1", "--epochs", "0", "--train", "32", "--test", "8",
                "--data", "fashion-mnist");
        try (CpuBackend be = CpuBackend.create()) {
            JsonNode out = M.readTree(new TrainBench(be, o).run());
            assertTrue(out.get("data").asText().contains("fashion-mnist"), out.get("data").asText());
            assertEquals(32, out.get("trainImages").asInt());
            assertEquals(1, out.get("results").size(), "--epochs 0: the step only");
            double loss = out.get("results").get(0).get("meanLoss").asDouble();
            assertTrue(loss > 1.5 && loss < 3.5, "an untrained 10-class model's loss is about ln 10, got " + loss);
        }
    }

    @Test
    void runsEndToEndOnTheCpuAndHandsThePeerTheScheduleGmpTrainerRan(@TempDir Path dir) throws Exception {
        TrainBench.Options o = TrainBench.Options.parse("--out", "unused.json", "--backend", "cpu", "--batches", "8",
                "--warmup", "1", "--warmup-seconds", "0", "--steps", "2", "--epochs", "1", "--train", "64", "--test", "16");
        try (CpuBackend be = CpuBackend.create()) {
            TrainBench bench = new TrainBench(be, o);
            JsonNode plan = M.readTree(bench.planJson());
            CheckpointFiles disk = new CheckpointFiles(dir.resolve("train.json"));
            bench.output.sendTo(disk);
            JsonNode out = M.readTree(bench.run());
            disk.finished(4); // a checkpoint after each row, so a stage stopped at its time limit keeps its figures
            assertEquals(out, disk.written.getLast());
            assertEquals("cpu", out.get("backend").asText());
            assertTrue(out.get("data").asText().startsWith("synthetic"));
            assertEquals(64, out.get("trainImages").asInt());
            JsonNode rows = out.get("results");
            assertEquals(4, rows.size(), "step + run for 2 models x 1 batch");
            for (JsonNode r : rows) {
                assertEquals(8, r.get("batch").asInt());
                double ips = r.get("imagesPerSec").asDouble();
                assertTrue(ips > 0 && Double.isFinite(ips), r.toString());
            }
            JsonNode step = rows.get(0);
            assertEquals("train_step", step.get("op").asText());
            assertEquals("lenet-300-100", step.get("model").asText());
            assertEquals("wall", step.get("timing").asText());
            assertFalse(step.get("cudaGraphs").asBoolean(), "the CPU backend ignores CUDA graphs: uncaptured rows only");
            assertEquals(266_610, step.get("parameters").asLong(), "784*300+300 + 300*100+100 + 100*10+10");
            assertEquals(step.get("imagesPerSec").asDouble(), 1000.0 * 8 * 2 / (step.get("msPerStep").asDouble() * 2), 1e-6);
            assertTrue(Double.isFinite(step.get("meanLoss").asDouble()));

            JsonNode run = rows.get(1);
            assertEquals("gmp_run", run.get("op").asText());
            assertEquals(1, run.get("epochs").asInt());
            assertEquals(8, run.get("stepsPerEpoch").asInt());
            // gmp-seed squeezed to one epoch reaches its 90% at 35/60 of it, so the run ends at 90% (layer scope, exact counts)
            assertEquals(0.9, run.get("finalSparsity").asDouble(), 1e-3);
            assertEquals(run.get("imagesPerSec").asDouble(), 64 / run.get("wallSec").asDouble(), 1e-6);
            assertEquals("mnist-cnn", rows.get(3).get("model").asText());

            assertEquals("[8]", plan.get("batches").toString());
            assertEquals("[\"lenet-300-100\",\"mnist-cnn\"]", plan.get("models").toString());
            assertEquals(2, plan.get("step").get("steps").asInt());
            JsonNode p = plan.get("runs").get(0);
            assertEquals(8, p.get("batch").asInt());
            assertEquals(8, p.get("lr").size(), "one learning rate per step");
            assertEquals(0.05, p.get("lr").get(0).asDouble(), 1e-12, "gmp-seed's constant 0.05 phase");
            assertEquals(0.9, p.get("momentum").asDouble());
            assertEquals(1e-4, p.get("weightDecay").asDouble());
            assertEquals("layer", p.get("scope").asText());
            JsonNode prune = p.get("prune");
            assertEquals(run.get("maskUpdates").asInt(), prune.size(), "the peer updates its masks as often as GmpTrainer did");
            JsonNode lastUpdate = prune.get(prune.size() - 1);
            assertEquals(0.9, lastUpdate.get(1).asDouble(), 1e-12);
            assertEquals(Math.round(35.0 / 60 * 8), lastUpdate.get(0).asLong(), "the final update at epoch 35/60 of the squeezed run");
            for (int i = 1; i < prune.size(); i++)
                assertTrue(prune.get(i).get(1).asDouble() >= prune.get(i - 1).get(1).asDouble(), "targets only rise");
        }
    }
}
