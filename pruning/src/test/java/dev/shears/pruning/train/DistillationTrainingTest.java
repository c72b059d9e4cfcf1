package dev.shears.pruning.train;

import dev.shears.core.backend.Activation;
import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.data.Dataset;
import dev.shears.core.nn.Evaluator;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.Parameter;
import dev.shears.core.nn.layers.ActivationLayer;
import dev.shears.core.nn.layers.BatchNorm;
import dev.shears.core.nn.layers.Dense;
import dev.shears.core.nn.layers.Dropout;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import dev.shears.pruning.TestModels;
import dev.shears.pruning.recipe.Distillation;
import dev.shears.pruning.recipe.Recipe;
import dev.shears.pruning.recipe.RecipeParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Knowledge distillation in the trainer: a dense teacher trained first, then pruned to 90% from a
 * copy of it with and without distillation. With weight 1 (the soft targets alone) the pruned
 * student must end closer to the teacher's predictions than without; the teacher is never
 * touched; a run cut after an epoch and resumed with the same teacher computes exactly what the
 * uninterrupted run does.
 */
class DistillationTrainingTest {
    private static final int FEATURES = 64, CLASSES = 6;
    private final Backend be = new CpuBackend(1);
    // noisy blobs, so a student left alone overfits the labels and drifts from the teacher
    private final Dataset train = TestModels.blobs("blobs-train", 600, FEATURES, CLASSES, 1.2, 1);
    private final Dataset test = TestModels.blobs("blobs-test", 300, FEATURES, CLASSES, 1.2, 2);

    private static Recipe pruneRecipe() {
        return RecipeParser.parse("""
                epochs: 6
                batchSize: 32
                optimizer: {type: sgd, momentum: 0.9, nesterov: true, weightDecay: 1e-4}
                learningRate:
                  - {type: constant, lr: 0.05, startEpoch: 0, endEpoch: 4}
                  - {type: cosine, initial: 0.05, minimum: 0.001, startEpoch: 4, endEpoch: 6}
                pruning:
                  - {type: gmp, initSparsity: 0.2, finalSparsity: 0.9, startEpoch: 1, endEpoch: 4, updateFrequency: 0.5, schedule: cubic, scope: layer}
                """, "kd test", "kd");
    }

    private Model fresh() { return TestModels.mlp(FEATURES, 48, 32, CLASSES, false).bind(be, 5); }

    /** The dense teacher's weights: the MLP trained 4 epochs on the labels. */
    private ModelSnapshot denseStart() {
        Model m = fresh();
        Recipe dense = RecipeParser.parse("""
                epochs: 4
                batchSize: 32
                optimizer: {type: sgd, momentum: 0.9, nesterov: true}
                learningRate: [{type: constant, lr: 0.05}]
                """, "dense", "dense");
        new GmpTrainer(m, train, test, dense, 3).run();
        return ModelSnapshot.take(m, 0);
    }

    private Model copyOf(ModelSnapshot s) {
        Model m = fresh();
        s.restore(m);
        return m;
    }

    /** Mean KL(softmax(teacher) || softmax(student)) over the test set: how far the student's predictions are from the teacher's. */
    private double klToTeacher(Model teacher, Model student) {
        float[] t = logits(teacher), s = logits(student);
        double kl = 0;
        for (int r = 0; r < test.count(); r++) {
            double[] p = softmax(t, r), q = softmax(s, r);
            for (int j = 0; j < CLASSES; j++) if (p[j] > 0) kl += p[j] * Math.log(p[j] / q[j]);
        }
        return kl / test.count();
    }

    private float[] logits(Model m) {
        try (Tensor x = be.upload(test.features(), Shape.of(test.count(), FEATURES))) {
            return be.download(m.forwardUntil(new ExecContext(be, false, 0), List.of(x), Evaluator.logitsNode(m)));
        }
    }

    private static double[] softmax(float[] x, int row) {
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (int j = 0; j < CLASSES; j++) max = Math.max(max, x[row * CLASSES + j]);
        double[] p = new double[CLASSES];
        for (int j = 0; j < CLASSES; j++) sum += p[j] = Math.exp(x[row * CLASSES + j] - max);
        for (int j = 0; j < CLASSES; j++) p[j] /= sum;
        return p;
    }

    @Test
    void softTargetsAloneKeepThePrunedStudentCloserToTheTeacherAndLeaveTheTeacherAlone() {
        ModelSnapshot start = denseStart();
        Model teacher = copyOf(start);

        Model plain = copyOf(start);
        TrainingHistory hPlain = new GmpTrainer(plain, train, test, pruneRecipe(), 7).run();
        Model distilled = copyOf(start);
        Recipe kd = pruneRecipe().withDistillation(new Distillation(1.0, 2.0, new Distillation.Teacher.Start()));
        GmpTrainer trainer = new GmpTrainer(distilled, train, test, kd, 7).distillFrom(teacher);
        TrainingHistory hKd = trainer.run();

        assertEquals(0.9, hKd.last().sparsity(), 0.01);
        double klPlain = klToTeacher(teacher, plain), klKd = klToTeacher(teacher, distilled);
        assertTrue(klKd < 0.7 * klPlain, "KL to the teacher: " + klKd + " with distillation (weight 1), " + klPlain + " without");

        // the teacher: the very weights it started with, no masks
        ModelSnapshot after = ModelSnapshot.take(teacher, 0);
        for (Parameter p : teacher.parameters()) {
            assertArrayEquals(start.values().get(p.name()), after.values().get(p.name()), p.name() + " changed");
            assertNull(p.mask(), p.name() + " got a mask");
        }
        // the metrics: a distillation loss every epoch with a teacher, none without
        for (EpochMetrics m : hKd.epochs().subList(1, hKd.epochs().size()))
            assertTrue(Double.isFinite(m.distillationLoss()) && m.distillationLoss() >= 0, "epoch " + m.epoch() + ": " + m.distillationLoss());
        assertTrue(hKd.epochs().get(4).distillationLoss() > 0, "pruning to 90% moves the student off the teacher");
        for (EpochMetrics m : hPlain.epochs()) assertTrue(Double.isNaN(m.distillationLoss()));
    }

    /** Resume is exact both ways of getting the teacher's logits: the table (the default) and the teacher on every batch (budget 0). */
    @ParameterizedTest(name = "teacher logits cached: {0}")
    @ValueSource(booleans = {true, false})
    void aResumedDistillationRunComputesWhatTheUninterruptedOneDoes(boolean cached) {
        long budget = cached ? 256L << 20 : 0;
        ModelSnapshot start = denseStart();
        Recipe kd = pruneRecipe().withDistillation(new Distillation(0.5, 4.0, new Distillation.Teacher.Start()));
        Model straight = copyOf(start);
        List<TrainingState> states = new ArrayList<>();
        List<ModelSnapshot> snaps = new ArrayList<>();
        GmpTrainer t = new GmpTrainer(straight, train, test, kd, 7).distillFrom(copyOf(start)).cacheTeacherLogits(budget);
        t.saveEachEpoch(s -> { states.add(s); snaps.add(ModelSnapshot.take(straight, s.epoch())); });
        TrainingHistory whole = t.run();

        int cut = 3;
        Model resumed = copyOf(snaps.get(cut - 1));
        GmpTrainer r = new GmpTrainer(resumed, train, test, kd, 7).distillFrom(copyOf(start)).cacheTeacherLogits(budget).resumeFrom(states.get(cut - 1));
        TrainingHistory rest = r.run();
        assertEquals(cached, t.teacherLogitsCached());
        assertEquals(cached, r.teacherLogitsCached());
        ModelSnapshot a = ModelSnapshot.take(straight, 6), b = ModelSnapshot.take(resumed, 6);
        for (Parameter p : straight.parameters())
            assertArrayEquals(a.values().get(p.name()), b.values().get(p.name()), p.name() + " differs after resuming");
        for (int e = 1; e <= 6; e++)
            assertEquals(whole.epochs().get(e).distillationLoss(), rest.epochs().get(e).distillationLoss(), 0, "epoch " + e + " distillation loss");
    }

    /**
     * {@link TestModels#mlp} (no softmax) with a BatchNorm after the first ReLU, and with
     * {@code dropout} a Dropout (rate 0.5) after it: the same Dense weights under bind(be, 5).
     */
    private Model mlpWithBatchNorm(boolean dropout) {
        Model.Builder b = Model.builder().input("x", Shape.of(FEATURES))
                .then(new Dense("dense_1", FEATURES, 48, true))
                .then(new ActivationLayer("relu_1", Activation.RELU))
                .then(new BatchNorm("bn_1", 48, 1e-3f, 0.9f));
        if (dropout) b.then(new Dropout("dropout_1", 0.5f));
        return b.then(new Dense("dense_2", 48, 32, true))
                .then(new ActivationLayer("relu_2", Activation.RELU))
                .then(new Dense("dense_3", 32, CLASSES, true))
                .build().bind(be, 5);
    }

    /**
     * Both ways of getting the teacher's logits: the table computed once before the first step
     * ({@link TeacherLogits}, the default) and the teacher's forward on every batch (budget 0).
     */
    @ParameterizedTest(name = "teacher logits cached: {0}")
    @ValueSource(booleans = {true, false})
    void theTeacherRunsInInferenceModeNoDropoutAndItsRunningStatisticsKept(boolean cached) {
        Recipe kd = pruneRecipe().withEpochs(2).withDistillation(new Distillation(0.5, 2.0, new Distillation.Teacher.Start()));
        long budget = cached ? TeacherLogits.DEFAULT_BUDGET_BYTES : 0;
        Model teacher = mlpWithBatchNorm(true);
        ModelSnapshot before = ModelSnapshot.take(teacher, 0);
        Model student = fresh();
        GmpTrainer kdRun = new GmpTrainer(student, train, test, kd, 7).distillFrom(teacher).cacheTeacherLogits(budget);
        kdRun.run();
        assertEquals(cached, kdRun.teacherLogitsCached());
        // a training-mode forward would have moved the running mean and variance toward the batches'
        ModelSnapshot after = ModelSnapshot.take(teacher, 0);
        for (Parameter p : teacher.parameters())
            assertArrayEquals(before.values().get(p.name()), after.values().get(p.name()), p.name() + " changed");

        // the same teacher without its Dropout (rate 0.5): the student must learn exactly the same
        Model noDropout = mlpWithBatchNorm(false);
        before.restore(noDropout);
        Model twin = fresh();
        new GmpTrainer(twin, train, test, kd, 7).distillFrom(noDropout).cacheTeacherLogits(budget).run();
        ModelSnapshot a = ModelSnapshot.take(student, 2), b = ModelSnapshot.take(twin, 2);
        for (Parameter p : student.parameters())
            assertArrayEquals(a.values().get(p.name()), b.values().get(p.name()), p.name() + ": the teacher's Dropout changed what the student learnt");
    }

    @Test
    void aTeacherOfOtherShapesOrNoneIsRefusedNamingThem() {
        Recipe kd = pruneRecipe().withDistillation(Distillation.DEFAULTS);
        Model student = fresh();
        Model otherClasses = TestModels.mlp(FEATURES, 48, 32, CLASSES + 1, false).bind(be, 5);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new GmpTrainer(student, train, test, kd, 7).distillFrom(otherClasses));
        assertTrue(e.getMessage().contains("[7]") && e.getMessage().contains("[6]"), e.getMessage());
        Model otherInputs = TestModels.mlp(FEATURES + 1, 48, 32, CLASSES, false).bind(be, 5);
        e = assertThrows(IllegalArgumentException.class, () -> new GmpTrainer(student, train, test, kd, 7).distillFrom(otherInputs));
        assertTrue(e.getMessage().contains("[65]") && e.getMessage().contains("[64]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new GmpTrainer(student, train, test, kd, 7).distillFrom(student));
        // named classes in another order: each output would be taught another class's score
        List<String> names = java.util.stream.IntStream.range(0, CLASSES).mapToObj(i -> "c" + i).toList();
        Model named = fresh(), reordered = fresh(), unnamed = fresh();
        named.setClassNames(names);
        reordered.setClassNames(names.reversed());
        e = assertThrows(IllegalArgumentException.class, () -> new GmpTrainer(named, train, test, kd, 7).distillFrom(reordered));
        assertTrue(e.getMessage().startsWith("the teacher's classes " + names.reversed() + " are not the student's " + names), e.getMessage());
        assertNotNull(new GmpTrainer(named, train, test, kd, 7).distillFrom(unnamed), "a teacher without names cannot be checked: taken");
        Model sameNames = fresh();
        sameNames.setClassNames(names);
        assertNotNull(new GmpTrainer(named, train, test, kd, 7).distillFrom(sameNames));
        // a recipe asking for distillation with no teacher given, and a teacher with no distillation block
        IllegalStateException s = assertThrows(IllegalStateException.class, () -> new GmpTrainer(student, train, test, kd, 7).run());
        assertTrue(s.getMessage().contains("no teacher"), s.getMessage());
        s = assertThrows(IllegalStateException.class, () -> new GmpTrainer(student, train, test, pruneRecipe(), 7).distillFrom(fresh()));
        assertTrue(s.getMessage().contains("no distillation block"), s.getMessage());
    }
}
