package dev.shears.pruning.train;

import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.data.Dataset;
import dev.shears.core.nn.Evaluator;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.Parameter;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import dev.shears.pruning.TestModels;
import dev.shears.pruning.recipe.Distillation;
import dev.shears.pruning.recipe.Recipe;
import dev.shears.pruning.recipe.RecipeParser;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The teacher's logits computed once per distillation run ({@link TeacherLogits}): the table's
 * rows are those a per-batch teacher forward gives on shuffled batches; a table over the budget
 * is not kept and the teacher runs on every batch; a cached run trains as the per-batch run does;
 * a cached run cut after an epoch and resumed is bit for bit the uninterrupted cached run.
 */
class TeacherLogitsCacheTest {
    private static final int FEATURES = 64, CLASSES = 6, BATCH = 32;
    private final Backend be = new CpuBackend(1);
    // 600 samples: 18 full batches of 32 and a partial one of 24
    private final Dataset train = TestModels.blobs("blobs-train", 600, FEATURES, CLASSES, 1.2, 1);
    private final Dataset test = TestModels.blobs("blobs-test", 300, FEATURES, CLASSES, 1.2, 2);

    private static Recipe recipe(int epochs) {
        return RecipeParser.parse("""
                epochs: %d
                batchSize: %d
                optimizer: {type: sgd, momentum: 0.9, nesterov: true, weightDecay: 1e-4}
                learningRate: [{type: constant, lr: 0.05}]
                pruning:
                  - {type: gmp, initSparsity: 0.2, finalSparsity: 0.9, startEpoch: 0, endEpoch: %d, updateFrequency: 0.5, schedule: cubic, scope: layer}
                """.formatted(epochs, BATCH, Math.min(epochs, 3)), "cache test", "cache").withDistillation(new Distillation(0.5, 2.0, new Distillation.Teacher.Start()));
    }

    /** A model with trained weights (the teacher, and the start of every student): 2 epochs on the labels. */
    private ModelSnapshot trainedStart() {
        Model m = TestModels.mlp(FEATURES, 48, 32, CLASSES, false).bind(be, 5);
        Recipe dense = RecipeParser.parse("""
                epochs: 2
                batchSize: 32
                optimizer: {type: sgd, momentum: 0.9}
                learningRate: [{type: constant, lr: 0.05}]
                """, "dense", "dense");
        new GmpTrainer(m, train, test, dense, 3).run();
        return ModelSnapshot.take(m, 0);
    }

    private Model copyOf(ModelSnapshot s) {
        Model m = TestModels.mlp(FEATURES, 48, 32, CLASSES, false).bind(be, 5);
        s.restore(m);
        return m;
    }

    @Test
    void theTableHoldsWhatAPerBatchTeacherForwardGivesOnShuffledBatches() {
        ModelSnapshot start = trainedStart();
        Model teacher = copyOf(start);
        GmpTrainer t = new GmpTrainer(copyOf(start), train, test, recipe(1), 7).distillFrom(teacher);
        // the table's rows, read while the run holds it (it drops the table when it ends)
        float[][] table = new float[train.count()][];
        t.addListener(new TrainingListener() {
            @Override public void epochFinished(EpochMetrics m) { for (int i = 0; i < table.length; i++) table[i] = t.cachedTeacherLogits(i); }
        });
        t.run();
        assertTrue(t.teacherLogitsCached(), "600 x 6 floats fit the default budget");
        assertThrows(IllegalStateException.class, () -> t.cachedTeacherLogits(0), "the run released its table");

        // a per-batch forward on a shuffled order, batches of 32 and the tail of 24, as the steps without the table ran it
        int n = train.count();
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        SplittableRandom rng = new SplittableRandom(42);
        for (int i = n - 1; i > 0; i--) { int j = rng.nextInt(i + 1), k = order[i]; order[i] = order[j]; order[j] = k; }
        String node = Evaluator.logitsNode(teacher);
        float maxDiff = 0;
        for (int s = 0; s < n; s += BATCH) {
            int rows = Math.min(BATCH, n - s);
            float[] x = new float[rows * FEATURES];
            for (int r = 0; r < rows; r++) System.arraycopy(train.features(), order[s + r] * FEATURES, x, r * FEATURES, FEATURES);
            try (Tensor xt = be.upload(x, Shape.of(rows, FEATURES))) {
                float[] logits = be.download(teacher.forwardUntil(new ExecContext(be, false, 0), List.of(xt), node));
                for (int r = 0; r < rows; r++) {
                    float[] cached = table[order[s + r]];
                    for (int c = 0; c < CLASSES; c++) maxDiff = Math.max(maxDiff, Math.abs(cached[c] - logits[r * CLASSES + c]));
                }
            }
        }
        // the CPU backend computes each row of a Dense layer on its own, in the same order at any batch grouping: bit-identical
        assertEquals(0f, maxDiff, "largest difference between a cached row and the per-batch forward");
    }

    @Test
    void aTableOverTheBudgetIsNotKeptAndTheTeacherRunsOnEveryBatch() {
        assertEquals("14.1 KiB over the 1.0 KiB budget", TeacherLogits.overBudget(600, CLASSES, 1024));
        assertEquals("5.6 GiB over the 256.0 MiB budget", TeacherLogits.overBudget(60_000_000, 25, TeacherLogits.DEFAULT_BUDGET_BYTES));
        assertNull(TeacherLogits.overBudget(60_000, 10, TeacherLogits.DEFAULT_BUDGET_BYTES));
        assertNull(TeacherLogits.overBudget(600, CLASSES, TeacherLogits.bytes(600, CLASSES)), "exactly the budget fits");
        assertEquals("14,400 bytes over the 14,399-byte budget", TeacherLogits.overBudget(600, CLASSES, 14_399));

        ModelSnapshot start = trainedStart();
        List<String> told = new ArrayList<>();
        GmpTrainer tiny = new GmpTrainer(copyOf(start), train, test, recipe(1), 7).distillFrom(copyOf(start))
                .cacheTeacherLogits(TeacherLogits.bytes(600, CLASSES) - 1);
        tiny.addListener(new TrainingListener() {
            @Override public void distillationPrepared(String line) { told.add(line); }
        });
        TrainingHistory h = tiny.run();
        assertEquals(List.of("distillation: teacher logits not cached: 14,400 bytes over the 14,399-byte budget; the teacher runs on every batch"), told);
        assertFalse(tiny.teacherLogitsCached(), "one byte over the budget: no table");
        assertThrows(IllegalStateException.class, () -> tiny.cachedTeacherLogits(0));
        assertTrue(h.last().distillationLoss() > 0, "the per-batch teacher still distils: " + h.last().distillationLoss());
        assertThrows(IllegalArgumentException.class, () -> new GmpTrainer(copyOf(start), train, test, recipe(1), 7).cacheTeacherLogits(-1));
    }

    /**
     * The cached run and the per-batch run (budget 0) compute the same training: on the CPU
     * backend the table's rows are bit-identical to the per-batch forward (see above), so every
     * weight, loss and accuracy is too; on a backend whose forward rounds by batch grouping they
     * could differ by that rounding only.
     */
    @Test
    void aCachedRunTrainsAsThePerBatchRunDoes() {
        ModelSnapshot start = trainedStart();
        Model cached = copyOf(start), perBatch = copyOf(start);
        GmpTrainer c = new GmpTrainer(cached, train, test, recipe(4), 7).distillFrom(copyOf(start));
        List<String> told = new ArrayList<>();
        c.addListener(new TrainingListener() {
            @Override public void distillationPrepared(String line) { told.add(line); }
        });
        TrainingHistory hc = c.run();
        assertEquals(1, told.size());
        assertTrue(told.getFirst().matches("distillation: teacher logits cached \\(600 x 6, 14\\.1 KiB, \\d+\\.\\d s\\)"), told.getFirst());
        GmpTrainer p = new GmpTrainer(perBatch, train, test, recipe(4), 7).distillFrom(copyOf(start)).cacheTeacherLogits(0);
        TrainingHistory hp = p.run();
        assertTrue(c.teacherLogitsCached());
        assertFalse(p.teacherLogitsCached());

        assertEquals(0.9, hc.last().sparsity(), 0.01);
        assertTrue(hc.last().testAccuracy() > 0.5, "the distilled student learned: " + hc.last().testAccuracy());
        for (int e = 1; e <= 4; e++) {
            assertEquals(hp.epochs().get(e).testAccuracy(), hc.epochs().get(e).testAccuracy(), 0, "epoch " + e + " test accuracy");
            assertEquals(hp.epochs().get(e).distillationLoss(), hc.epochs().get(e).distillationLoss(), 0, "epoch " + e + " distillation loss");
        }
        ModelSnapshot a = ModelSnapshot.take(cached, 4), b = ModelSnapshot.take(perBatch, 4);
        for (Parameter q : cached.parameters())
            assertArrayEquals(b.values().get(q.name()), a.values().get(q.name()), q.name() + " differs between the cached and the per-batch run");
    }

    @Test
    void aResumedCachedRunIsTheUninterruptedCachedRun() {
        ModelSnapshot start = trainedStart();
        Model straight = copyOf(start);
        List<TrainingState> states = new ArrayList<>();
        List<ModelSnapshot> snaps = new ArrayList<>();
        GmpTrainer t = new GmpTrainer(straight, train, test, recipe(4), 7).distillFrom(copyOf(start));
        t.saveEachEpoch(s -> { states.add(s); snaps.add(ModelSnapshot.take(straight, s.epoch())); });
        TrainingHistory whole = t.run();

        int cut = 2;
        Model resumed = copyOf(snaps.get(cut - 1));
        GmpTrainer r = new GmpTrainer(resumed, train, test, recipe(4), 7).distillFrom(copyOf(start)).resumeFrom(states.get(cut - 1));
        TrainingHistory rest = r.run();
        assertTrue(t.teacherLogitsCached() && r.teacherLogitsCached(), "both runs keep the table");
        ModelSnapshot a = ModelSnapshot.take(straight, 4), b = ModelSnapshot.take(resumed, 4);
        for (Parameter p : straight.parameters())
            assertArrayEquals(a.values().get(p.name()), b.values().get(p.name()), p.name() + " differs after resuming");
        for (int e = 1; e <= 4; e++)
            assertEquals(whole.epochs().get(e).distillationLoss(), rest.epochs().get(e).distillationLoss(), 0, "epoch " + e + " distillation loss");
    }
}
