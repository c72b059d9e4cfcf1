package dev.shears.pruning.train;

import dev.shears.core.cuda.CudaBackend;
import dev.shears.core.cuda.GpuTestSupport;
import dev.shears.core.data.Dataset;
import dev.shears.core.nn.Architectures;
import dev.shears.core.nn.Model;
import dev.shears.core.tensor.Shape;
import dev.shears.pruning.TestModels;
import dev.shears.pruning.recipe.Recipe;
import dev.shears.pruning.recipe.RecipeParser;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The proof that replaying the training step from a CUDA graph changes nothing: the same GMP run
 * (mask updates inside epochs, a learning rate that changes every step, dropout in mnist-cnn, a
 * partial last batch that runs uncaptured) with {@code useCudaGraphs} on and off, on one CUDA
 * backend each, must give bit-identical weights, masks, optimizer state and step count, per-step
 * losses and accuracies, mask-update events and epoch metrics. It also shows that the graph ran:
 * a replayed step with no mask update before it issues no kernel launch or cuBLAS call from the
 * host, only the graph launch, while an uncaptured step issues dozens.
 *
 * <p>Losses: the cross-entropy kernel adds each warp's loss into one double with atomicAdd, whose
 * order a GPU does not fix, so on a GPU the summed loss (not the gradient, which is per element)
 * may differ in its last bits between any two runs, captured or not: {@link #lossTolerance} is a
 * relative 1e-12 here (a few double roundings of a sum of at most 16 terms are ~1e-15) and 0 on
 * the emulator, whose blocks run in a fixed order.
 */
class CudaGraphTrainingIT {
    private static final int CLASSES = 10, BATCH = 16, SAMPLES = 16 * 4 + 7; // 5 steps an epoch, the last of 7 rows

    /** Relative tolerance of summed losses (see the class comment); 0 means bit-identical. */
    protected double lossTolerance() { return 1e-12; }

    private static Recipe recipe(String optimizer, double start) {
        return RecipeParser.parse("""
                epochs: 3
                batchSize: 16
                optimizer: OPT
                learningRate:
                  - {type: cosine, initial: 0.05, minimum: 0.002, startEpoch: 0, endEpoch: 3}
                pruning:
                  - type: gmp
                    initSparsity: 0.3
                    finalSparsity: 0.8
                    startEpoch: START
                    endEpoch: 2.4
                    updateFrequency: 0.4
                    schedule: cubic
                    scope: layer
                """.replace("OPT", optimizer).replace("START", Double.toString(start)), "cuda graph test", "graphs");
    }

    private record Run(ModelSnapshot model, TrainingState last, TrainingHistory history, List<BatchProgress> batches,
                       List<long[]> launches, long replayed, long captures) {}

    private static Run run(String arch, Shape input, Recipe r, Dataset train, Dataset test, boolean graphs) {
        return run(arch, input, r, train, test, graphs, true);
    }

    /** {@code cacheTeacher}: with a distillation block, whether the teacher's logits are kept in a table (else it runs on every batch). */
    private static Run run(String arch, Shape input, Recipe r, Dataset train, Dataset test, boolean graphs, boolean cacheTeacher) {
        try (CudaBackend be = CudaBackend.create(0, CudaBackend.LeakPolicy.RELEASE)) {
            Model m = Architectures.create(arch, input, CLASSES).bind(be, 7);
            // with a distillation block: a teacher of the same architecture, other weights (seed 11)
            Model teacher = r.distillation() == null ? null : Architectures.create(arch, input, CLASSES).bind(be, 11);
            List<TrainingState> states = new ArrayList<>();
            List<BatchProgress> batches = new ArrayList<>();
            // per step: {kernel launches + cuBLAS calls issued so far, steps replayed, mask updates, graphs captured so far}
            List<long[]> launches = new ArrayList<>();
            long[] maskUpdates = {0};
            GmpTrainer[] self = new GmpTrainer[1];
            GmpTrainer t = new GmpTrainer(m, train, test, r, 3).useCudaGraphs(graphs).saveEachEpoch(states::add)
                    .addListener(new TrainingListener() {
                        @Override public void batchFinished(BatchProgress p) {
                            batches.add(p);
                            launches.add(new long[] {be.launchesIssued(), self[0].replayedSteps(), maskUpdates[0], self[0].graphCaptures()});
                        }

                        @Override public void masksUpdated(PruningEvent e) { maskUpdates[0]++; }
                    });
            self[0] = t;
            if (teacher != null) t.distillFrom(teacher).cacheTeacherLogits(cacheTeacher ? 1L << 20 : 0);
            assertEquals(graphs, t.cudaGraphsActive());
            TrainingHistory h = t.run();
            if (teacher != null) assertEquals(cacheTeacher, t.teacherLogitsCached());
            return new Run(ModelSnapshot.take(m, r.epochs()), states.getLast(), h, batches, launches, t.replayedSteps(), t.graphCaptures());
        }
    }

    /**
     * Pruning from epoch 0.4 gives the weights their masks inside the first epoch (the graphs are
     * captured again between two full batches); from epoch 1 at an epoch's end, after the partial
     * batch and the evaluation have resized the layers' buffers, so the new capture meets other shapes.
     */
    @ParameterizedTest(name = "{0}, {1}, pruning from epoch {2}")
    @CsvSource(delimiter = ';', value = {
            "lenet-300-100; {type: sgd, momentum: 0.9, nesterov: true, weightDecay: 1e-4}; 0.4",
            "lenet-300-100; {type: adamw, weightDecay: 1e-2}; 0.4",
            "mnist-cnn; {type: sgd, momentum: 0.9, weightDecay: 5e-4}; 0.4",
            "mnist-cnn; {type: adam, weightDecay: 1e-4}; 0.4",
            "mnist-cnn; {type: sgd, momentum: 0.9, nesterov: true, weightDecay: 0}; 1.0",
    })
    void graphReplayIsBitIdenticalToUncapturedSteps(String arch, String optimizer, double start) {
        GpuTestSupport.assumeCuda();
        Shape input = arch.equals("mnist-cnn") ? Shape.of(1, 12, 12) : Shape.of(1, 28, 28);
        int features = (int) input.size();
        Dataset train = TestModels.blobs("blobs-train", SAMPLES, features, CLASSES, 0.4, 1);
        Dataset test = TestModels.blobs("blobs-test", 40, features, CLASSES, 0.4, 2);
        Recipe r = recipe(optimizer, start);

        Run eager = run(arch, input, r, train, test, false);
        Run graph = run(arch, input, r, train, test, true);

        // the graph really ran: every full batch but the first was replayed; partial batches never
        int steps = 3 * 5, full = 3 * 4;
        assertEquals(0, eager.replayed());
        assertEquals(full - 1, graph.replayed(), "full-batch steps replayed from a graph (all but the first)");
        assertEquals(4, graph.captures(), "two graphs captured, and both again when the first mask update gave the weights masks");
        int quiet = 0;
        for (int i = 1; i < steps; i++) {
            long[] a = graph.launches().get(i - 1), b = graph.launches().get(i);
            long[] ea = eager.launches().get(i - 1), eb = eager.launches().get(i);
            assertTrue(eb[0] - ea[0] > 10, "an uncaptured step issues its kernels one by one: " + (eb[0] - ea[0]));
            boolean replayed = b[1] - a[1] == 1;
            boolean sameEpoch = graph.batches().get(i).epoch() == graph.batches().get(i - 1).epoch();
            if (replayed && sameEpoch && b[2] == a[2] && b[3] == a[3]) {
                // no evaluation, mask update or capture since the last step: nothing launched but the graph
                assertEquals(0, b[0] - a[0], "host-issued launches in replayed step " + i);
                quiet++;
            }
        }
        assertTrue(quiet >= 4, "replayed steps with nothing else launched: " + quiet);

        // per-step losses and accuracies
        assertEquals(steps, eager.batches().size());
        assertEquals(steps, graph.batches().size());
        for (int i = 0; i < steps; i++) {
            BatchProgress a = eager.batches().get(i), b = graph.batches().get(i);
            assertEquals(a.step(), b.step());
            assertEquals(a.lr(), b.lr(), "learning rate of step " + i);
            assertLoss(a.loss(), b.loss(), "loss of step " + i);
            assertEquals(a.epochAccuracy(), b.epochAccuracy(), "running accuracy at step " + i);
            assertEquals(a.sparsity(), b.sparsity(), "sparsity at step " + i);
        }
        assertNotEquals(eager.batches().get(1).lr(), eager.batches().get(2).lr(), "the learning rate changes every step");

        // weights and masks
        assertEquals(eager.model().values().keySet(), graph.model().values().keySet());
        for (var e : eager.model().values().entrySet())
            assertArrayEquals(e.getValue(), graph.model().values().get(e.getKey()), e.getKey() + " differs with CUDA graphs");
        assertFalse(eager.model().masks().isEmpty(), "the run pruned");
        assertEquals(eager.model().masks().keySet(), graph.model().masks().keySet());
        for (var e : eager.model().masks().entrySet())
            assertArrayEquals(e.getValue(), graph.model().masks().get(e.getKey()), "mask of " + e.getKey() + " differs with CUDA graphs");

        // optimizer state and steps
        assertEquals(eager.last().optimizerSteps(), graph.last().optimizerSteps());
        assertEquals(steps, graph.last().optimizerSteps());
        assertFalse(eager.last().optimizerState().isEmpty());
        for (var e : eager.last().optimizerState().entrySet())
            assertArrayEquals(e.getValue(), graph.last().optimizerState().get(e.getKey()), "optimizer state " + e.getKey() + " differs");

        // mask updates and epoch metrics
        assertEquals(eager.history().pruning(), graph.history().pruning());
        assertTrue(eager.history().pruning().stream().anyMatch(ev -> ev.step() % 5 != 0), "a mask update inside an epoch, between two steps");
        assertTrue(eager.history().pruning().stream().anyMatch(ev -> ev.step() % 5 == 0), "a mask update at an epoch's end");
        List<EpochMetrics> ea = eager.history().epochs(), ga = graph.history().epochs();
        assertEquals(ea.size(), ga.size());
        for (int i = 0; i < ea.size(); i++) {
            EpochMetrics a = ea.get(i), b = ga.get(i);
            if (i > 0) assertLoss(a.trainLoss(), b.trainLoss(), "train loss of epoch " + i);
            assertEquals(a.trainAccuracy(), b.trainAccuracy(), "train accuracy of epoch " + i);
            assertLoss(a.testLoss(), b.testLoss(), "test loss of epoch " + i);
            assertEquals(a.testAccuracy(), b.testAccuracy(), "test accuracy of epoch " + i);
            assertEquals(a.sparsity(), b.sparsity());
            assertEquals(a.layerSparsity(), b.layerSparsity());
        }
    }

    /**
     * Knowledge distillation inside the captured step: the teacher's logits (cached: the batch's
     * rows of the table, copied in from the graph's third pinned buffer; not cached: the teacher's
     * forward in inference mode) and the distillation kernel are replayed with the rest; weights,
     * masks and every epoch's distillation loss are those of the uncaptured run.
     */
    @ParameterizedTest(name = "{0}, teacher logits cached: {1}")
    @CsvSource({"lenet-300-100, true", "mnist-cnn, true", "lenet-300-100, false", "mnist-cnn, false"})
    void distillationReplayIsBitIdenticalToUncapturedSteps(String arch, boolean cached) {
        GpuTestSupport.assumeCuda();
        Shape input = arch.equals("mnist-cnn") ? Shape.of(1, 12, 12) : Shape.of(1, 28, 28);
        int features = (int) input.size();
        Dataset train = TestModels.blobs("blobs-train", SAMPLES, features, CLASSES, 0.4, 1);
        Dataset test = TestModels.blobs("blobs-test", 40, features, CLASSES, 0.4, 2);
        Recipe r = recipe("{type: sgd, momentum: 0.9, nesterov: true, weightDecay: 1e-4}", 0.4)
                .withDistillation(new dev.shears.pruning.recipe.Distillation(0.6, 3.0, new dev.shears.pruning.recipe.Distillation.Teacher.Start()));

        Run eager = run(arch, input, r, train, test, false, cached);
        Run graph = run(arch, input, r, train, test, true, cached);
        assertEquals(3 * 4 - 1, graph.replayed(), "full-batch steps replayed from a graph (all but the first)");
        for (var e : eager.model().values().entrySet())
            assertArrayEquals(e.getValue(), graph.model().values().get(e.getKey()), e.getKey() + " differs with CUDA graphs");
        List<EpochMetrics> ea = eager.history().epochs(), ga = graph.history().epochs();
        for (int i = 1; i < ea.size(); i++) {
            assertTrue(ea.get(i).distillationLoss() > 0, "epoch " + i + ": " + ea.get(i).distillationLoss());
            assertLoss(ea.get(i).distillationLoss(), ga.get(i).distillationLoss(), "distillation loss of epoch " + i);
            assertLoss(ea.get(i).trainLoss(), ga.get(i).trainLoss(), "train loss of epoch " + i);
        }
    }

    /**
     * Augmentation through the captured step: the host augments each sample as it fills the
     * graph's pinned input buffer (the next batch's too, ahead of its step), so the replayed run is
     * bit for bit the uncaptured one, with and without a teacher (which, augmenting, runs on every
     * batch inside the graph); and a step trains on exactly the augmenter's transforms: one epoch
     * with augmentation is one epoch without it on the samples augmented beforehand.
     */
    @ParameterizedTest(name = "{0}, distilling: {1}")
    @CsvSource({"lenet-300-100, false", "mnist-cnn, true"})
    void augmentedReplayIsBitIdenticalToUncapturedSteps(String arch, boolean distil) {
        GpuTestSupport.assumeCuda();
        Shape input = arch.equals("mnist-cnn") ? Shape.of(1, 12, 12) : Shape.of(1, 28, 28);
        int features = (int) input.size();
        Dataset train = TestModels.blobs("blobs-train", SAMPLES, features, CLASSES, 0.4, 1);
        Dataset test = TestModels.blobs("blobs-test", 40, features, CLASSES, 0.4, 2);
        dev.shears.pruning.recipe.Augmentation aug = new dev.shears.pruning.recipe.Augmentation(true, 3);
        Recipe r = recipe("{type: sgd, momentum: 0.9, nesterov: true, weightDecay: 1e-4}", 0.4).withAugmentation(aug);
        if (distil) r = r.withDistillation(new dev.shears.pruning.recipe.Distillation(0.6, 3.0, new dev.shears.pruning.recipe.Distillation.Teacher.Start()));

        Run eager = run(arch, input, r, train, test, false, false);
        Run graph = run(arch, input, r, train, test, true, false);
        assertEquals(3 * 4 - 1, graph.replayed(), "full-batch steps replayed from a graph (all but the first)");
        for (int i = 0; i < eager.batches().size(); i++)
            assertLoss(eager.batches().get(i).loss(), graph.batches().get(i).loss(), "loss of step " + i);
        for (var e : eager.model().values().entrySet())
            assertArrayEquals(e.getValue(), graph.model().values().get(e.getKey()), e.getKey() + " differs with CUDA graphs");

        // one epoch (4 full batches, 3 of them replayed, and the partial one): augmenting in the trainer = augmenting the data first (seed 3, epoch 0)
        Recipe one = r.withEpochs(1);
        ImageAugmenter a = new ImageAugmenter(aug, dev.shears.pruning.recipe.ImageGeometry.of(input), 3);
        float[] x = new float[train.features().length];
        for (int i = 0; i < train.count(); i++) a.apply(train.features(), i * features, x, i * features, 0, i);
        Dataset beforehand = new Dataset("augmented beforehand", train.sampleShape(), x, train.labels(), train.classes());
        Run inTrainer = run(arch, input, one, train, test, true, false);
        Run first = run(arch, input, one.withAugmentation(null), beforehand, test, true, false);
        assertEquals(3, first.replayed());
        for (var e : inTrainer.model().values().entrySet())
            assertArrayEquals(e.getValue(), first.model().values().get(e.getKey()), e.getKey() + ": augmented in the trainer against beforehand");
    }

    private void assertLoss(double expected, double actual, String what) {
        double tol = lossTolerance() * Math.abs(expected);
        if (tol == 0) assertEquals(expected, actual, what);
        else assertEquals(expected, actual, tol, what);
    }
}
