package dev.shears.pruning.train;

import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.data.Dataset;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.Parameter;
import dev.shears.pruning.TestModels;
import dev.shears.pruning.recipe.Recipe;
import dev.shears.pruning.recipe.RecipeException;
import dev.shears.pruning.recipe.RecipeParser;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The orchestrator end to end on a small MLP and a synthetic Fashion-MNIST-like problem. */
class GmpTrainerTest {
    private static final int FEATURES = 64, CLASSES = 6;
    private final Backend be = new CpuBackend(1);
    private final Dataset train = TestModels.blobs("blobs-train", 600, FEATURES, CLASSES, 0.5, 1);
    private final Dataset test = TestModels.blobs("blobs-test", 300, FEATURES, CLASSES, 0.5, 2);

    private static Recipe recipe(String scope, String lr, double finalSparsity) {
        return RecipeParser.parse("""
                epochs: 6
                batchSize: 32
                optimizer: {type: sgd, momentum: 0.9, nesterov: true, weightDecay: 1e-4}
                learningRate:
                  - {type: constant, lr: LR, startEpoch: 0, endEpoch: 4}
                  - {type: cosine, initial: LR, minimum: 0.001, startEpoch: 4, endEpoch: 6}
                pruning:
                  - type: gmp
                    initSparsity: 0.2
                    finalSparsity: FINAL
                    startEpoch: 1
                    endEpoch: 4
                    updateFrequency: 0.5
                    schedule: cubic
                    scope: SCOPE
                """.replace("SCOPE", scope).replace("LR", lr).replace("FINAL", Double.toString(finalSparsity)), "test recipe", "test");
    }

    private Model model(boolean softmax) { return TestModels.mlp(FEATURES, 48, 32, CLASSES, softmax).bind(be, 5); }

    /** Records everything a listener sees, and checks masks only gain zeros between updates. */
    private final class Recorder implements TrainingListener {
        RunInfo info;
        final List<BatchProgress> batches = new ArrayList<>();
        final List<PruningEvent> events = new ArrayList<>();
        final List<EpochMetrics> epochs = new ArrayList<>();
        final Map<String, byte[]> lastMasks = new HashMap<>();
        final Model model;
        TrainingHistory finished;

        Recorder(Model model) { this.model = model; }

        @Override public void runStarted(RunInfo i) { info = i; }
        @Override public void batchFinished(BatchProgress p) { batches.add(p); }
        @Override public void epochFinished(EpochMetrics m) { epochs.add(m); }
        @Override public void runFinished(TrainingHistory h) { finished = h; }

        @Override public void masksUpdated(PruningEvent e) {
            events.add(e);
            for (Parameter p : model.parameters()) {
                if (p.mask() == null) continue;
                byte[] now = be.downloadBytes(p.mask());
                byte[] before = lastMasks.put(p.name(), now);
                if (before != null)
                    for (int i = 0; i < now.length; i++)
                        if (before[i] == 0) assertEquals(0, now[i], p.name() + "[" + i + "] came back at step " + e.step());
            }
        }
    }

    @Test void layerScopeRunReachesTheStatedSparsityAndLearns() {
        Model m = model(false);
        Recipe r = recipe("layer", "0.05", 0.8);
        GmpTrainer trainer = new GmpTrainer(m, train, test, r, 11);
        Recorder rec = new Recorder(m);
        TrainingHistory h = trainer.addListener(rec).run();

        int spe = 600 / 32 + 1; // 19: the last batch has 24 samples
        assertEquals(spe, trainer.stepsPerEpoch());
        assertEquals(spe, rec.info.stepsPerEpoch());
        assertEquals(4.0, rec.info.finalSparsityEpoch());
        assertEquals(4L * spe, rec.info.finalSparsityStep());
        assertEquals(List.of("dense_1/kernel", "dense_2/kernel", "dense_3/kernel"), rec.info.prunedParameters());
        assertEquals(6L * spe, rec.batches.size());
        assertEquals(7, h.epochs().size()); // epoch 0 (before training) and 1..6
        assertEquals(rec.finished.epochs().get(6).testAccuracy(), h.last().testAccuracy());

        // updates: every round(0.5 * 19) = 10 steps from step 19 up to 76, then the final at 76
        List<Long> steps = rec.events.stream().map(PruningEvent::step).toList();
        assertEquals(List.of(19L, 29L, 39L, 49L, 59L, 69L, 76L), steps);
        assertTrue(rec.events.get(rec.events.size() - 1).isFinal());
        for (PruningEvent e : rec.events)
            for (var l : e.update().layers())
                assertTrue(Math.abs(l.pruned() - e.update().target() * l.size()) <= 1,
                        l.name() + " at step " + e.step() + ": " + l.pruned() + " pruned for target " + e.update().target());

        // epoch 4 (1-based) ends at step 76 = the final update: its metrics show the final sparsity
        for (int e = 4; e <= 6; e++) {
            EpochMetrics em = h.epochs().get(e);
            assertEquals(0.8, em.targetSparsity(), 1e-12);
            for (var entry : em.layerSparsity().entrySet()) {
                long size = m.parameter(entry.getKey()).shape().size();
                assertEquals(Math.round(0.8 * size), Math.round(entry.getValue() * size), entry.getKey() + " at epoch " + e);
            }
        }
        assertTrue(h.epochs().get(3).sparsity() < 0.8, "not final before epoch 4");
        // masked weights are zero at the end
        for (Parameter p : m.parameters()) {
            if (p.mask() == null) continue;
            byte[] mask = be.downloadBytes(p.mask());
            float[] w = be.download(p.value());
            for (int i = 0; i < w.length; i++) if (mask[i] == 0) assertEquals(0f, w[i]);
        }
        // it learned: chance is 1/6
        assertTrue(h.initial().testAccuracy() < 0.4, "untrained accuracy " + h.initial().testAccuracy());
        assertTrue(h.last().testAccuracy() > 0.85, "final test accuracy " + h.last().testAccuracy());
        assertTrue(h.dense().isPresent());
        assertTrue(h.dense().get().accuracy() > 0.5, "accuracy after one dense epoch " + h.dense().get().accuracy());
        // the learning rate follows the recipe
        assertEquals(0.05, h.epochs().get(1).lr(), 1e-9);
        assertEquals(r.learningRateSchedule().at((6.0 * spe - 1) / spe), h.last().lr(), 1e-9);
        // progress reports carry the current sparsity: 0 before the first update, the final one at the end
        assertEquals(0.0, rec.batches.get(0).sparsity());
        assertEquals(h.last().sparsity(), rec.batches.get(rec.batches.size() - 1).sparsity(), 1e-12);
        assertEquals(spe, rec.batches.get(spe - 1).batch());
        // the snapshot is the end of the last epoch
        assertEquals(6, trainer.lastGoodSnapshot().epoch());
    }

    @Test void globalScopeHitsTheTargetOverAllSelectedWeights() {
        Model m = model(false);
        TrainingHistory h = new GmpTrainer(m, train, test, recipe("global", "0.05", 0.9), 11).run();
        long size = 0, zeros = 0;
        for (Parameter p : m.parameters()) {
            if (!p.prunableByDefault()) continue;
            size += p.shape().size();
            for (byte b : be.downloadBytes(p.mask())) if (b == 0) zeros++;
        }
        assertEquals(Math.round(0.9 * size), zeros);
        assertEquals(0.9, h.last().sparsity(), 1.0 / size);
        // global scope prunes the layers unevenly
        var ls = h.last().layerSparsity().values().stream().mapToDouble(Double::doubleValue).toArray();
        assertTrue(Math.abs(ls[0] - ls[2]) > 0.01, "layer sparsities " + h.last().layerSparsity());
    }

    @Test void runsAreDeterministicForASeed() {
        TrainingHistory a = new GmpTrainer(model(false), train, test, recipe("layer", "0.05", 0.8), 3).run();
        TrainingHistory b = new GmpTrainer(model(false), train, test, recipe("layer", "0.05", 0.8), 3).run();
        for (int e = 0; e < a.epochs().size(); e++) {
            assertEquals(a.epochs().get(e).trainLoss(), b.epochs().get(e).trainLoss(), 0.0, "epoch " + e);
            assertEquals(a.epochs().get(e).testAccuracy(), b.epochs().get(e).testAccuracy(), 0.0, "epoch " + e);
        }
        TrainingHistory c = new GmpTrainer(model(false), train, test, recipe("layer", "0.05", 0.8), 4).run();
        assertNotEquals(a.epochs().get(1).trainLoss(), c.epochs().get(1).trainLoss(), "another seed shuffles differently");
    }

    @Test void aFinalSoftmaxIsTrainedThroughItsInput() {
        Model logits = model(false);
        Model softmax = model(true);
        TrainingHistory a = new GmpTrainer(logits, train, test, recipe("layer", "0.05", 0.8), 3).run();
        TrainingHistory b = new GmpTrainer(softmax, train, test, recipe("layer", "0.05", 0.8), 3).run();
        assertEquals(a.last().trainLoss(), b.last().trainLoss(), 0.0);
        assertEquals(a.last().testAccuracy(), b.last().testAccuracy(), 0.0);
    }

    @Test void aNaNLossStopsTheRunNamingTheEpochStepAndLr() {
        Model m = model(false);
        // a learning rate this large overflows the weights within a few steps
        GmpTrainer t = new GmpTrainer(m, train, test, recipe("layer", "1e18", 0.8), 3);
        NonFiniteLossException e = assertThrows(NonFiniteLossException.class, t::run);
        assertTrue(e.getMessage().matches("(?s)the (training|test) loss.* is (NaN|Infinity) at epoch \\d+, batch \\d+ of 19 \\(step \\d+\\), learning rate 1\\.00000e\\+18.*"),
                e.getMessage());
        ModelSnapshot good = e.lastGoodSnapshot();
        assertNotNull(good);
        for (float[] v : good.values().values()) for (float x : v) assertTrue(Float.isFinite(x), "snapshot holds a non-finite weight");
        assertEquals(good.epoch(), e.history().last().epoch());
        // restoring the snapshot gives back a usable model
        good.restore(m);
        for (Parameter p : m.parameters()) for (float x : be.download(p.value())) assertTrue(Float.isFinite(x));
    }

    @Test void nanInTheDataStopsAtTheFirstBatchThatReadsIt() {
        float[] x = train.features().clone();
        x[5 * FEATURES + 3] = Float.NaN;
        Dataset bad = new Dataset("bad", train.sampleShape(), x, train.labels(), CLASSES);
        NonFiniteLossException e = assertThrows(NonFiniteLossException.class,
                () -> new GmpTrainer(model(false), bad, test, recipe("layer", "0.05", 0.8), 3).run());
        assertTrue(e.getMessage().contains("the training loss is NaN at epoch 1"), e.getMessage());
        assertEquals(0, e.lastGoodSnapshot().epoch());
    }

    @Test void aParamsPatternThatMatchesNothingFailsBeforeTraining() {
        Recipe r = RecipeParser.parse("""
                epochs: 2
                batchSize: 32
                optimizer: {type: sgd}
                learningRate: [{type: constant, lr: 0.01}]
                pruning:
                  - {type: gmp, initSparsity: 0.1, finalSparsity: 0.5, startEpoch: 0, endEpoch: 1, updateFrequency: 0.5, params: [conv1/kernel]}
                """, "p.yaml", "p");
        RecipeException e = assertThrows(RecipeException.class, () -> new GmpTrainer(model(false), train, test, r, 1));
        assertTrue(e.getMessage().contains("pruning[0].params: params pattern 'conv1/kernel' matches no prunable parameter"), e.getMessage());
        assertTrue(e.getMessage().contains("[dense_1/kernel, dense_2/kernel, dense_3/kernel]"), e.getMessage());
    }

    @Test void twoModifiersMayNotPruneTheSameParameter() {
        Recipe r = RecipeParser.parse("""
                epochs: 2
                batchSize: 32
                optimizer: {type: sgd}
                learningRate: [{type: constant, lr: 0.01}]
                pruning:
                  - {type: gmp, initSparsity: 0.1, finalSparsity: 0.5, startEpoch: 0, endEpoch: 1, updateFrequency: 0.5}
                  - {type: constant, sparsity: 0.3, params: ['dense_2/kernel']}
                """, "p.yaml", "p");
        RecipeException e = assertThrows(RecipeException.class, () -> new GmpTrainer(model(false), train, test, r, 1));
        assertTrue(e.getMessage().contains("dense_2/kernel is selected by both pruning[0] and pruning[1]"), e.getMessage());
    }

    @Test void constantSparsityPrunesOnceAndDroppedMasksLetWeightsGrowBack() {
        Recipe r = RecipeParser.parse("""
                epochs: 3
                batchSize: 32
                optimizer: {type: sgd, momentum: 0.9}
                learningRate: [{type: constant, lr: 0.02}]
                pruning:
                  - {type: constant, sparsity: 0.5, startEpoch: 0, endEpoch: 2, params: ['dense_1/kernel'], leaveEnabled: false}
                  - {type: constant, sparsity: 0.6, startEpoch: 1, params: ['dense_2/kernel']}
                """, "c.yaml", "c");
        Model m = model(false);
        TrainingHistory h = new GmpTrainer(m, train, test, r, 1).run();
        assertEquals(2, h.pruning().size());
        assertEquals(0L, h.pruning().get(0).step());
        assertEquals(0.5, h.epochs().get(1).layerSparsity().get("dense_1/kernel"), 1.0 / (64 * 48));
        assertEquals(0.6, h.epochs().get(1).layerSparsity().get("dense_2/kernel"), 1.0 / (48 * 32));
        assertNull(m.parameter("dense_1/kernel").mask(), "masks dropped at epoch 2");
        assertNotNull(m.parameter("dense_2/kernel").mask());
        assertTrue(h.last().layerSparsity().get("dense_1/kernel") < 0.1, "dense_1 grew back: " + h.last().layerSparsity());
        assertEquals(0.6, h.last().layerSparsity().get("dense_2/kernel"), 1.0 / (48 * 32));
    }

    /**
     * Fine-tuning at constant sparsity holds the pruned weights at exactly zero through every step
     * before endEpoch, and the first step at endEpoch (leaveEnabled: false) already trains them:
     * the drop happens at step endEpoch * stepsPerEpoch, not one step later.
     */
    @Test void maskedWeightsStayZeroUntilTheDropStepAndMoveAtIt() {
        Recipe r = RecipeParser.parse("""
                epochs: 3
                batchSize: 32
                optimizer: {type: sgd, momentum: 0.9}
                learningRate: [{type: constant, lr: 0.02}]
                pruning:
                  - {type: constant, sparsity: 0.5, startEpoch: 0, endEpoch: 2, params: ['dense_1/kernel'], leaveEnabled: false}
                """, "c.yaml", "c");
        Model m = model(false);
        Parameter k = m.parameter("dense_1/kernel");
        int size = (int) k.shape().size();
        long pruned = Math.round(0.5 * size);
        int stepsPerEpoch = (train.count() + r.batchSize() - 1) / r.batchSize(); // the last, short batch is a step
        long dropStep = 2L * stepsPerEpoch;
        Map<Long, Long> zerosAfterStep = new HashMap<>();
        GmpTrainer trainer = new GmpTrainer(m, train, test, r, 1);
        trainer.addListener(new TrainingListener() {
            @Override public void batchFinished(BatchProgress p) {
                long z = 0;
                for (float w : be.download(k.value())) if (w == 0f) z++;
                zerosAfterStep.put(p.step(), z);
            }
        });
        trainer.run();
        assertEquals(3L * stepsPerEpoch, zerosAfterStep.size());
        for (long t = 0; t < dropStep; t++)
            assertTrue(zerosAfterStep.get(t) >= pruned, "step " + t + " (before the drop at " + dropStep + "): " + zerosAfterStep.get(t)
                    + " zeros, the mask holds " + pruned);
        assertTrue(zerosAfterStep.get(dropStep) < pruned / 2, "step " + dropStep + " (masks dropped): " + zerosAfterStep.get(dropStep)
                + " zeros remain of " + pruned + "; the freed weights should train");
    }
}
