package dev.shears.pruning.train;

import dev.shears.core.backend.Activation;
import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.data.Dataset;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.layers.ActivationLayer;
import dev.shears.core.nn.layers.Dense;
import dev.shears.core.nn.layers.Dropout;
import dev.shears.core.tensor.Shape;
import dev.shears.pruning.TestModels;
import dev.shears.pruning.checkpoint.Checkpoint;
import dev.shears.pruning.recipe.Recipe;
import dev.shears.pruning.recipe.RecipeParser;
import dev.shears.pruning.recipe.RecipeWriter;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The proof that {@code --resume} continues a run exactly: N epochs straight against k epochs, a
 * kill (the epoch sink throws right after the checkpoint of epoch k is written), a fresh model
 * read back from that checkpoint file and a new trainer resumed to N. Final weights, masks,
 * optimizer state and step count, and the history (every metric but wall time, every mask update,
 * the dense evaluation) must be bit-identical. The model has dropout (random draws every step),
 * the cuts fall inside the GMP ramp (updates at steps 19, 29, ..., 69 and the final one at 76 on
 * both sides of them; a cut at epoch 1 lands exactly on an update at an epoch's end).
 */
class ResumeTest {
    private static final int FEATURES = 64, CLASSES = 6, EPOCHS = 6;
    private final Dataset train = TestModels.blobs("blobs-train", 600, FEATURES, CLASSES, 0.5, 1);
    private final Dataset test = TestModels.blobs("blobs-test", 300, FEATURES, CLASSES, 0.5, 2);

    private static Recipe recipe(String optimizer, String scope) {
        return RecipeParser.parse("""
                epochs: 6
                batchSize: 32
                optimizer: OPT
                learningRate:
                  - {type: constant, lr: 0.05, startEpoch: 0, endEpoch: 4}
                  - {type: cosine, initial: 0.05, minimum: 0.001, startEpoch: 4, endEpoch: 6}
                pruning:
                  - type: gmp
                    initSparsity: 0.2
                    finalSparsity: 0.8
                    startEpoch: 1
                    endEpoch: 4
                    updateFrequency: 0.5
                    schedule: cubic
                    scope: SCOPE
                """.replace("OPT", optimizer).replace("SCOPE", scope.equals("block")
                        ? "layer\n    structure: \"block:4x4\"" : scope), "resume test", "resume");
    }

    /** in -> dense (ReLU) -> dropout -> dense (ReLU) -> logits. */
    private static Model model() {
        return Model.builder().input("x", Shape.of(FEATURES))
                .then(new Dense("dense_1", FEATURES, 48, true))
                .then(new ActivationLayer("relu_1", Activation.RELU))
                .then(new Dropout("drop", 0.3f))
                .then(new Dense("dense_2", 48, 32, true))
                .then(new ActivationLayer("relu_2", Activation.RELU))
                .then(new Dense("dense_3", 32, CLASSES, true))
                .build();
    }

    /** Thrown by the sink after saving: a kill right after the checkpoint hit the disk. */
    private static final class Killed extends RuntimeException {}

    private record Finished(ModelSnapshot model, TrainingState last, TrainingHistory history) {}

    private Finished straight(Backend be, Recipe r) {
        Model m = model().bind(be, 5);
        List<TrainingState> states = new ArrayList<>();
        TrainingHistory h = new GmpTrainer(m, train, test, r, 11).saveEachEpoch(states::add).run();
        assertEquals(EPOCHS, states.size(), "one state per epoch");
        return new Finished(ModelSnapshot.take(m, EPOCHS), states.getLast(), h);
    }

    private Finished killedAndResumed(Backend be, Recipe r, int cut, Path dir) {
        Path file = dir.resolve("model.shears");
        Model m = model().bind(be, 5);
        String yaml = RecipeWriter.toYaml(r);
        GmpTrainer first = new GmpTrainer(m, train, test, r, 11).saveEachEpoch(s -> {
            new Checkpoint(m, yaml, null, s).write(file);
            if (s.epoch() == cut) throw new Killed();
        });
        assertThrows(Killed.class, first::run);

        // a new process: everything comes from the file
        Checkpoint c = Checkpoint.read(file, be);
        assertTrue(c.partial());
        TrainingState saved = c.training();
        assertEquals(cut, saved.epoch());
        assertEquals(EPOCHS, saved.epochs());
        Recipe stored = RecipeParser.parse(c.recipeYaml(), "checkpoint", "x");
        List<TrainingState> states = new ArrayList<>();
        TrainingHistory h = new GmpTrainer(c.model(), train, test, stored, 11).resumeFrom(saved).saveEachEpoch(states::add).run();
        assertEquals(EPOCHS - cut, states.size(), "one state per resumed epoch");
        return new Finished(ModelSnapshot.take(c.model(), EPOCHS), states.getLast(), h);
    }

    @ParameterizedTest(name = "{0}, {1} scope, cut after epoch {2}")
    @CsvSource(delimiter = ';', value = {
            "{type: sgd, momentum: 0.9, nesterov: true, weightDecay: 1e-4}; global; 2",
            "{type: sgd, momentum: 0.9, nesterov: false, weightDecay: 0}; layer; 1",
            "{type: sgd, momentum: 0, weightDecay: 1e-4}; layer; 3",
            "{type: adam, weightDecay: 1e-4}; layer; 2",
            "{type: adamw, weightDecay: 1e-2}; global; 1",
            "{type: sgd, momentum: 0.9, nesterov: true, weightDecay: 1e-4}; block; 2",
    })
    void resumedRunIsBitIdenticalToAnUninterruptedOne(String optimizer, String scope, int cut, @TempDir Path dir) {
        Recipe r = recipe(optimizer, scope);
        try (Backend be = new CpuBackend(1)) {
            Finished a = straight(be, r);
            Finished b = killedAndResumed(be, r, cut, dir);

            // weights and masks
            assertEquals(a.model().values().keySet(), b.model().values().keySet());
            for (var e : a.model().values().entrySet())
                assertArrayEquals(e.getValue(), b.model().values().get(e.getKey()), e.getKey() + " differs after resuming");
            assertEquals(a.model().masks().keySet(), b.model().masks().keySet());
            assertFalse(a.model().masks().isEmpty(), "the run pruned");
            for (var e : a.model().masks().entrySet())
                assertArrayEquals(e.getValue(), b.model().masks().get(e.getKey()), "mask of " + e.getKey() + " differs after resuming");

            // optimizer state
            assertEquals(a.last().optimizer(), b.last().optimizer());
            assertEquals(a.last().optimizerSteps(), b.last().optimizerSteps());
            assertEquals(EPOCHS * 19L, a.last().optimizerSteps());
            assertEquals(a.last().optimizerState().keySet(), b.last().optimizerState().keySet());
            boolean stateless = optimizer.contains("momentum: 0,");
            assertEquals(stateless, a.last().optimizerState().isEmpty(), "velocity kept only with momentum");
            for (var e : a.last().optimizerState().entrySet())
                assertArrayEquals(e.getValue(), b.last().optimizerState().get(e.getKey()), "optimizer state " + e.getKey() + " differs");

            // history: the resumed run's covers the whole run
            assertEquals(withoutTimes(a.history().epochs()), withoutTimes(b.history().epochs()));
            assertEquals(EPOCHS + 1, b.history().epochs().size());
            assertEquals(a.history().pruning(), b.history().pruning());
            assertTrue(a.history().pruning().stream().anyMatch(ev -> ev.step() <= cut * 19L)
                    && a.history().pruning().stream().anyMatch(ev -> ev.step() > cut * 19L), "mask updates on both sides of the cut");
            assertEquals(a.history().beforePruning(), b.history().beforePruning());
            // right answers per class: the first pass's come back from the file, the last pass's from the resumed part
            assertNotNull(a.history().initialPerClass());
            assertEquals(a.history().initialPerClass(), b.history().initialPerClass());
            assertEquals(a.history().finalPerClass(), b.history().finalPerClass());
            // counted in the same passes as the accuracy: the classes add up to it exactly, over every test sample
            assertEquals(test.count(), a.history().finalPerClass().samples());
            assertEquals(a.history().initial().testAccuracy(), (double) a.history().initialPerClass().right() / test.count());
            assertEquals(a.history().last().testAccuracy(), (double) a.history().finalPerClass().right() / test.count());
            assertEquals(a.history().finalPerClass(), b.last().history().finalPerClass(), "in the last state saved");
            assertEquals(a.history().info(), b.history().info());
            assertEquals(withoutTimes(a.last().history().epochs()), withoutTimes(b.last().history().epochs()));
        }
    }

    @ParameterizedTest(name = "resume at the last epoch ({0}) trains nothing")
    @CsvSource({"6"})
    void resumingAFinishedRunTrainsNothing(int epochs, @TempDir Path dir) {
        Recipe r = recipe("{type: sgd, momentum: 0.9}", "layer");
        try (Backend be = new CpuBackend(1)) {
            Path file = dir.resolve("model.shears");
            Model m = model().bind(be, 5);
            new GmpTrainer(m, train, test, r, 11).saveEachEpoch(s -> new Checkpoint(m, null, null, s).write(file)).run();
            Checkpoint c = Checkpoint.read(file, be);
            assertEquals(epochs, c.training().epoch());
            List<BatchProgress> batches = new ArrayList<>();
            TrainingHistory h = new GmpTrainer(c.model(), train, test, r, 11).resumeFrom(c.training())
                    .addListener(new TrainingListener() { @Override public void batchFinished(BatchProgress p) { batches.add(p); } }).run();
            assertTrue(batches.isEmpty());
            assertEquals(epochs + 1, h.epochs().size());
            assertEquals(c.training().history().finalPerClass(), h.finalPerClass(), "the last pass's counts, from the file");
            assertNotNull(h.finalPerClass());
        }
    }

    @org.junit.jupiter.api.Test
    void resumeRefusesAStateOfAnotherRun(@TempDir Path dir) {
        Recipe r = recipe("{type: sgd, momentum: 0.9}", "layer");
        try (Backend be = new CpuBackend(1)) {
            Model m = model().bind(be, 5);
            List<TrainingState> states = new ArrayList<>();
            new GmpTrainer(m, train, test, r.withEpochs(2), 11).saveEachEpoch(states::add).run();
            TrainingState s = states.getFirst();
            var seed = assertThrows(IllegalArgumentException.class, () -> new GmpTrainer(m, train, test, r.withEpochs(2), 12).resumeFrom(s));
            assertTrue(seed.getMessage().contains("seed 11") && seed.getMessage().contains("seed 12"), seed.getMessage());
            var epochs = assertThrows(IllegalArgumentException.class, () -> new GmpTrainer(m, train, test, r, 11).resumeFrom(s));
            assertTrue(epochs.getMessage().contains("2 epochs") && epochs.getMessage().contains("has 6"), epochs.getMessage());
            Dataset smaller = TestModels.blobs("blobs-small", 300, FEATURES, CLASSES, 0.5, 1);
            var data = assertThrows(IllegalArgumentException.class, () -> new GmpTrainer(m, smaller, test, r.withEpochs(2), 11).resumeFrom(s));
            assertTrue(data.getMessage().contains("19 steps") && data.getMessage().contains("blobs-small"), data.getMessage());
            Recipe adam = RecipeParser.parse(RecipeWriter.toYaml(r.withEpochs(2)).replaceAll("optimizer:[\\s\\S]*?learningRate", "optimizer: {type: adam}\nlearningRate"), "x", "x");
            var opt = assertThrows(IllegalArgumentException.class, () -> new GmpTrainer(m, train, test, adam, 11).resumeFrom(s).run());
            assertTrue(opt.getMessage().contains("sgd(") && opt.getMessage().contains("adam("), opt.getMessage());
        }
    }

    /** Epoch metrics with the wall time zeroed: the one field a resumed run cannot reproduce. */
    private static List<EpochMetrics> withoutTimes(List<EpochMetrics> ms) {
        return ms.stream().map(m -> new EpochMetrics(m.epoch(), m.lr(), m.trainLoss(), m.trainAccuracy(), m.testLoss(), m.testAccuracy(),
                m.targetSparsity(), m.sparsity(), Map.copyOf(m.layerSparsity()), 0)).toList();
    }
}
