package dev.shears.pruning.train;

import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.data.Dataset;
import dev.shears.core.nn.Evaluator;
import dev.shears.core.nn.Model;
import dev.shears.core.tensor.Shape;
import dev.shears.pruning.TestModels;
import dev.shears.pruning.checkpoint.Checkpoint;
import dev.shears.pruning.recipe.Augmentation;
import dev.shears.pruning.recipe.Distillation;
import dev.shears.pruning.recipe.ImageGeometry;
import dev.shears.pruning.recipe.Recipe;
import dev.shears.pruning.recipe.RecipeException;
import dev.shears.pruning.recipe.RecipeParser;
import dev.shears.pruning.recipe.RecipeWriter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link GmpTrainer} with the recipe's augmentation: a step trains on exactly the
 * {@link ImageAugmenter} transforms of its samples (shown against a run without augmentation on
 * data augmented beforehand with the same draws), the test passes see the plain images, a run cut
 * and resumed is bit for bit the uninterrupted one, distillation drops the teacher-logits table
 * and runs the teacher on the augmented batch, and samples that are not images are refused.
 */
class AugmentedTrainingTest {
    private static final int SIDE = 8, CLASSES = 6, SEED = 11;
    private static final Shape IMAGE = Shape.of(1, SIDE, SIDE);
    private static final Augmentation AUG = new Augmentation(true, 2);
    private final Backend be = new CpuBackend(1);
    // 600 samples of 8 x 8 "images": 18 full batches of 32 and one of 24
    private final Dataset train = TestModels.blobs("blobs-train", 600, SIDE * SIDE, CLASSES, 0.5, 1).withSampleShape(IMAGE);
    private final Dataset test = TestModels.blobs("blobs-test", 300, SIDE * SIDE, CLASSES, 0.5, 2).withSampleShape(IMAGE);

    @AfterEach void close() { be.close(); }

    private static Recipe recipe(int epochs, Augmentation a) {
        return RecipeParser.parse("""
                epochs: %d
                batchSize: 32
                optimizer: {type: sgd, momentum: 0.9, nesterov: true, weightDecay: 1e-4}
                learningRate: [{type: cosine, initial: 0.05, minimum: 0.001}]
                pruning:
                  - {type: gmp, initSparsity: 0.2, finalSparsity: 0.8, startEpoch: 0, endEpoch: %d, updateFrequency: 0.5, schedule: cubic, scope: layer}
                """.formatted(epochs, Math.max(1, epochs - 1)), "aug test", "aug").withAugmentation(a);
    }

    private Model model(long seed) { return TestModels.mlp(SIDE * SIDE, 48, 32, CLASSES, false).bind(be, seed); }

    /** {@code d} with every sample replaced by its augmentation for epoch {@code epoch} of a run seeded {@link #SEED}. */
    private static Dataset augmentedBeforehand(Dataset d, int epoch) {
        ImageAugmenter a = new ImageAugmenter(AUG, ImageGeometry.of(IMAGE), SEED);
        int per = d.sampleSize();
        float[] x = new float[d.features().length];
        for (int i = 0; i < d.count(); i++) a.apply(d.features(), i * per, x, i * per, epoch, i);
        return new Dataset(d.name() + " (augmented beforehand)", d.sampleShape(), x, d.labels(), d.classes());
    }

    private static void assertSameWeights(ModelSnapshot a, ModelSnapshot b, String what) {
        assertEquals(a.values().keySet(), b.values().keySet());
        for (var e : a.values().entrySet()) assertArrayEquals(e.getValue(), b.values().get(e.getKey()), e.getKey() + ": " + what);
        for (var e : a.masks().entrySet()) assertArrayEquals(e.getValue(), b.masks().get(e.getKey()), "mask of " + e.getKey() + ": " + what);
    }

    private static boolean sameWeights(ModelSnapshot a, ModelSnapshot b) {
        for (var e : a.values().entrySet()) if (!java.util.Arrays.equals(e.getValue(), b.values().get(e.getKey()))) return false;
        return true;
    }

    @Test
    void eachStepTrainsOnTheAugmentedSamplesAndTheTestPassesOnThePlainOnes() {
        Model augmented = model(5), beforehand = model(5), plain = model(5);
        TrainingHistory ha = new GmpTrainer(augmented, train, test, recipe(1, AUG), SEED).run();
        TrainingHistory hb = new GmpTrainer(beforehand, augmentedBeforehand(train, 0), test, recipe(1, null), SEED).run();
        new GmpTrainer(plain, train, test, recipe(1, null), SEED).run();
        assertSameWeights(ModelSnapshot.take(augmented, 1), ModelSnapshot.take(beforehand, 1), "augmenting in the trainer against augmenting the data first");
        assertFalse(sameWeights(ModelSnapshot.take(augmented, 1), ModelSnapshot.take(plain, 1)), "augmentation changed what was trained");
        assertEquals(ha.epochs().get(1).trainLoss(), hb.epochs().get(1).trainLoss());
        // the test evaluations: before training (the same model on the same plain test set) and at the end (what Evaluator gives)
        assertEquals(hb.epochs().getFirst().testLoss(), ha.epochs().getFirst().testLoss());
        Evaluator.Result end = Evaluator.evaluate(augmented, test, 32);
        assertEquals(end.loss(), ha.last().testLoss(), "the epoch's test loss is the plain test set's");
        assertEquals(end.accuracy(), ha.last().testAccuracy());
    }

    /** Thrown by the sink after saving: a kill right after the checkpoint hit the disk. */
    private static final class Killed extends RuntimeException {}

    @Test
    void aResumedAugmentedRunIsBitIdenticalToTheUninterruptedOne(@TempDir Path dir) {
        int epochs = 4, cut = 2;
        Recipe r = recipe(epochs, AUG);
        Model straight = model(5);
        List<TrainingState> states = new ArrayList<>();
        TrainingHistory ha = new GmpTrainer(straight, train, test, r, SEED).saveEachEpoch(states::add).run();

        Path file = dir.resolve("model.shears");
        Model first = model(5);
        String yaml = RecipeWriter.toYaml(r);
        assertThrows(Killed.class, () -> new GmpTrainer(first, train, test, r, SEED).saveEachEpoch(s -> {
            new Checkpoint(first, yaml, null, s).write(file);
            if (s.epoch() == cut) throw new Killed();
        }).run());
        Checkpoint c = Checkpoint.read(file, be);
        Recipe stored = RecipeParser.parse(c.recipeYaml(), "checkpoint", "x");
        assertEquals(AUG, stored.augmentation(), "the checkpoint's recipe keeps the augmentation");
        List<TrainingState> resumed = new ArrayList<>();
        TrainingHistory hb = new GmpTrainer(c.model(), train, test, stored, SEED).resumeFrom(c.training()).saveEachEpoch(resumed::add).run();

        assertSameWeights(ModelSnapshot.take(straight, epochs), ModelSnapshot.take(c.model(), epochs), "after resuming");
        for (var e : states.getLast().optimizerState().entrySet())
            assertArrayEquals(e.getValue(), resumed.getLast().optimizerState().get(e.getKey()), "optimizer state " + e.getKey());
        for (int e = 1; e <= epochs; e++) {
            EpochMetrics a = ha.epochs().get(e), b = hb.epochs().get(e);
            assertEquals(a.trainLoss(), b.trainLoss(), "train loss of epoch " + e);
            assertEquals(a.trainAccuracy(), b.trainAccuracy(), "train accuracy of epoch " + e);
            assertEquals(a.testLoss(), b.testLoss(), "test loss of epoch " + e);
        }
        assertEquals(ha.pruning(), hb.pruning());
    }

    @Test
    void distillationRunsTheTeacherOnEachAugmentedBatchInsteadOfATable() {
        Distillation kd = new Distillation(0.6, 3.0, new Distillation.Teacher.Start());
        // with augmentation: no table, whatever the budget, and the log says why
        Model student = model(5), teacher = model(21);
        List<String> told = new ArrayList<>();
        GmpTrainer t = new GmpTrainer(student, train, test, recipe(1, AUG).withDistillation(kd), SEED).distillFrom(teacher);
        t.addListener(new TrainingListener() {
            @Override public void distillationPrepared(String line) { told.add(line); }
        });
        TrainingHistory h = t.run();
        assertFalse(t.teacherLogitsCached());
        assertEquals(List.of("distillation: teacher logits not cached: flip,crop:2 augmentation is on, and the teacher must see each step's"
                + " augmented batch as the student does; the teacher runs on every batch"), told);

        // the teacher saw the augmented batch: the same as distilling, without augmentation, on data augmented beforehand
        Model student2 = model(5), teacher2 = model(21);
        GmpTrainer t2 = new GmpTrainer(student2, augmentedBeforehand(train, 0), test, recipe(1, null).withDistillation(kd), SEED)
                .distillFrom(teacher2).cacheTeacherLogits(0);
        TrainingHistory h2 = t2.run();
        assertSameWeights(ModelSnapshot.take(student, 1), ModelSnapshot.take(student2, 1), "distilling with augmentation");
        assertEquals(h2.last().distillationLoss(), h.last().distillationLoss());
        assertTrue(h.last().distillationLoss() > 0);

        // without augmentation the same run keeps its table (the fallback is the augmentation's doing)
        GmpTrainer cached = new GmpTrainer(model(5), train, test, recipe(1, null).withDistillation(kd), SEED).distillFrom(model(21));
        cached.run();
        assertTrue(cached.teacherLogitsCached());
    }

    @Test
    void samplesThatAreNotImagesAreRefusedNamingTheirShape() {
        Dataset flat = TestModels.blobs("blobs-flat", 100, 64, CLASSES, 0.5, 1);
        RecipeException e = assertThrows(RecipeException.class, () -> new GmpTrainer(model(5), flat, flat, recipe(1, AUG), SEED));
        assertEquals("recipe aug: augmentation (flip,crop:2) works on image samples [C, H, W] or [H, W], but blobs-flat has samples of shape [64],"
                + " not an image; train without augmentation (leave out --augment and the recipe's augmentation block)", e.getMessage());
        e = assertThrows(RecipeException.class, () -> new GmpTrainer(model(5), train, test, recipe(1, new Augmentation(false, 5)), SEED));
        assertEquals("recipe aug: augmentation.crop: 5 is more than half the 8 x 8 images of blobs-train; give 1..4"
                + " (the zero padding on each side before the random crop)", e.getMessage());
        assertNotNull(new GmpTrainer(model(5), train, test, recipe(1, new Augmentation(false, 4)), SEED));
    }
}
