package dev.shears.pruning.fuzz;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.core.backend.Activation;
import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.fuzz.Corruption;
import dev.shears.core.fuzz.CorruptionCampaign;
import dev.shears.core.fuzz.Corruptions;
import dev.shears.core.fuzz.JsonMutations;
import dev.shears.core.nn.Evaluator;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.Parameter;
import dev.shears.core.nn.layers.*;
import dev.shears.core.tensor.Shape;
import dev.shears.pruning.checkpoint.Checkpoint;
import dev.shears.pruning.checkpoint.CheckpointException;
import dev.shears.pruning.train.EpochMetrics;
import dev.shears.pruning.train.TrainingState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Seeded corruption campaign over Shears checkpoints ({@link Checkpoint#read}, what {@code --model
 * x.shears} and {@code --resume} call): a version 1 file from the test resources and a version 2
 * file with training state written here, damaged as bytes, entry by entry (each of model.json,
 * weights.bin, masks.bin, recipe.yaml, training.json, optimizer.bin dropped, halved, emptied or
 * mutated) and value by value in model.json and training.json. Each case loads consistently or
 * fails with a {@link CheckpointException} naming the file.
 */
class CheckpointCorruptionTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    final Backend cpu = CpuBackend.create();

    @Test
    void damagedCheckpointsLoadOrFailClearly(@TempDir Path dir) throws Exception {
        long started = System.nanoTime();
        CorruptionCampaign c = new CorruptionCampaign(dir, ".shears", f -> Checkpoint.read(f, cpu), CheckpointCorruptionTest::consistent,
                Duration.ofSeconds(4), List.of(CheckpointException.class));
        byte[] v1 = Files.readAllBytes(Path.of("src/test/resources/checkpoints/v1-mlp.shears"));
        Path v2File = dir.resolve("seed-v2.shears");
        new Checkpoint(smallModel().bind(cpu, 3), "name: r\nepochs: 2\n", JSON.createObjectNode().put("accuracy", 0.5), trainingState()).write(v2File);
        byte[] v2 = Corruptions.rezip(Corruptions.unzip(Files.readAllBytes(v2File)), null, null); // entry times fixed: same bytes every run
        long seed = 400;
        Map<String, byte[]> seeds = new LinkedHashMap<>(); // ordered: the cases' seeds follow from it
        seeds.put("v1", v1);
        seeds.put("v2", v2);
        for (var s : seeds.entrySet()) {
            List<Corruption> cases = new ArrayList<>(Corruptions.truncations(s.getValue(), seed, 40, 4, 30, s.getValue().length - 22));
            cases.addAll(Corruptions.mutations(s.getValue(), seed + 1, 60));
            cases.addAll(Corruptions.zipEntries(s.getValue(), seed + 2, 12));
            Map<String, byte[]> entries = Corruptions.unzip(s.getValue());
            for (String json : List.of("model.json", "training.json")) {
                if (!entries.containsKey(json)) continue;
                for (Corruption j : JsonMutations.mutations(entries.get(json), JSON, seed + 3, 60))
                    cases.add(new Corruption(json + "~" + j.name(), Corruptions.rezip(entries, json, j.bytes())));
            }
            c.run(s.getKey(), cases);
            seed += 10;
        }
        System.out.println("Checkpoint campaign: " + c.summary() + " in " + (System.nanoTime() - started) / 1_000_000 + " ms");
        c.assertClean();
    }

    /** Every parameter and mask has its declared shape; optimizer state tensors are there when the run is partial. */
    private static void consistent(Object loaded) {
        Checkpoint ck = (Checkpoint) loaded;
        for (Parameter p : ck.model().parameters()) {
            assertEquals(p.shape(), p.value().shape(), p.name() + " value shape");
            if (p.mask() != null) assertEquals(p.shape(), p.mask().shape(), p.name() + " mask shape");
        }
        assertTrue(ck.model().outputShape().size() > 0, "output shape");
        if (ck.training() != null)
            assertTrue(ck.training().epoch() <= ck.training().epochs(), "epoch within epochs");
    }

    private static Model smallModel() {
        return Model.builder().input("x", Shape.of(1, 6, 6))
                .add(new Conv2D("conv", 1, 2, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 1, true), "x")
                .add(new BatchNorm("bn", 2, 1e-3f, 0.99f), "conv")
                .add(new ActivationLayer("relu", Activation.RELU, 0f), "bn")
                .add(new Flatten("flat"), "relu")
                .add(new Dense("fc", 32, 4, true), "flat")
                .add(new Softmax("softmax", false), "fc")
                .build();
    }

    private static TrainingState trainingState() {
        var opt = new LinkedHashMap<String, float[]>();
        opt.put("fc/kernel/velocity", new float[128]);
        opt.put("conv/kernel/velocity", new float[]{1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f, 9f, 1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f, 9f});
        var layers = new LinkedHashMap<String, Double>();
        layers.put("fc/kernel", 0.5);
        var epochs = List.of(new EpochMetrics(0, 0.05, Double.NaN, Double.NaN, 2.3, 0.1, 0, 0, layers, 0),
                new EpochMetrics(1, 0.05, 1.0, 0.6, 1.2, 0.5, 0.25, 0.25, layers, 0.5));
        return new TrainingState(1, 3, 7, 5, "sgd(momentum=0.9)", 7, opt,
                new TrainingState.History(epochs, List.of(), new Evaluator.Result(2.3, 0.1, 40),
                        // the per-class counts of the first test pass (damage to them must be named like the rest)
                        new dev.shears.core.nn.ClassCounts(new long[]{3, 1}, new long[]{20, 20}), null), false, Map.of("command", "prune"));
    }
}
