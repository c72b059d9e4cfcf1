package dev.shears.pruning.train;

import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.data.Dataset;
import dev.shears.core.nn.Architectures;
import dev.shears.core.nn.Evaluator;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Layer;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.Parameter;
import dev.shears.core.nn.layers.Dense;
import dev.shears.core.sparse.NmMatrix;
import dev.shears.core.sparse.SparseModel;
import dev.shears.core.sparse.SparsePlanner;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import dev.shears.pruning.NmLayout;
import dev.shears.pruning.TestModels;
import dev.shears.pruning.recipe.NmStructure;
import dev.shears.pruning.recipe.Recipe;
import dev.shears.pruning.recipe.RecipeParser;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * 2:4 GMP end to end on LeNet-300-100 (synthetic 784-pixel data, a few hundred samples): the
 * per-group keep count ramps 4 -> 3 -> 2, masks only gain zeros and hold through the optimizer,
 * and the result is a model whose every Dense layer the sparse planner takes as a 2:4 candidate
 * and that predicts what the dense model predicts.
 */
class NmTrainingTest {
    private static final int FEATURES = 784, CLASSES = 10;

    @Test void twoOfFourLeNetConvertsToNmMatrixAndPredictsLikeDense() {
        Backend be = new CpuBackend(1);
        Dataset train = TestModels.blobs("blobs-train", 400, FEATURES, CLASSES, 0.5, 1);
        Dataset test = TestModels.blobs("blobs-test", 200, FEATURES, CLASSES, 0.5, 2);
        Model model = Architectures.create("lenet-300-100", Shape.of(FEATURES), CLASSES).bind(be, 7);
        Recipe r = RecipeParser.parse("""
                epochs: 4
                batchSize: 50
                optimizer: {type: sgd, momentum: 0.9, nesterov: true, weightDecay: 1e-4}
                learningRate: [{type: constant, lr: 0.02}]
                pruning:
                  - {type: gmp, structure: "2:4", startEpoch: 1, endEpoch: 3, updateFrequency: 0.5}
                """, "nm test recipe", "nm");
        GmpTrainer trainer = new GmpTrainer(model, train, test, r, 3);
        List<PruningEvent> events = new ArrayList<>();
        Map<String, byte[]> last = new HashMap<>();
        trainer.addListener(new TrainingListener() {
            @Override public void masksUpdated(PruningEvent e) {
                events.add(e);
                for (Parameter p : model.parameters()) {
                    if (p.mask() == null) continue;
                    byte[] now = be.downloadBytes(p.mask());
                    byte[] before = last.put(p.name(), now);
                    if (before != null)
                        for (int i = 0; i < now.length; i++)
                            if (before[i] == 0) assertEquals(0, now[i], p.name() + "[" + i + "] came back at step " + e.step());
                }
            }
        });
        TrainingHistory h = trainer.run();

        // the keep count follows ceil((1 - s_t) * 4) >= 2 and falls 4 -> 3 -> 2, reaching 2 at the final update only
        List<Integer> keeps = events.stream().map(e -> e.update().keepPerGroup()).toList();
        for (PruningEvent e : events) {
            assertEquals(NmStructure.TWO_FOUR, e.update().structure());
            assertEquals(NmStructure.TWO_FOUR.keepPerGroup(e.update().target()), e.update().keepPerGroup());
            for (var l : e.update().layers())
                assertEquals(e.update().effectiveTarget(), l.sparsity(), 1e-12, l.name() + " at step " + e.step());
        }
        for (int i = 1; i < keeps.size(); i++) assertTrue(keeps.get(i) <= keeps.get(i - 1), "keep rose: " + keeps);
        assertTrue(keeps.contains(3), "the ramp passes through 3 of 4: " + keeps);
        assertEquals(2, keeps.getLast());
        assertTrue(events.getLast().isFinal());
        assertEquals(keeps.size() - 1, keeps.indexOf(2), "2 of 4 first at the final update (the cubic curve reaches 50% only there): " + keeps);
        // from the final epoch's metrics on, every layer is exactly 50% sparse and the target says so
        for (int e = 3; e <= 4; e++) {
            EpochMetrics em = h.epochs().get(e);
            assertEquals(0.5, em.targetSparsity(), 1e-12);
            em.layerSparsity().forEach((k, v) -> assertEquals(0.5, v, 1e-12, k));
        }
        assertTrue(h.last().testAccuracy() > 0.8, "test accuracy " + h.last().testAccuracy());

        // every Dense kernel is 2:4 along its input axis; the planner offers 2:4 for every one
        SparsePlanner planner = new SparsePlanner(SparsePlanner.Options.quick());
        int dense = 0;
        for (Layer layer : model.layers()) {
            if (!(layer instanceof Dense d)) continue;
            dense++;
            float[] w = be.download(d.kernel().value());
            assertTrue(NmLayout.of(d.kernel()).follows(w, 2, 4), d.name());
            NmMatrix nm = NmMatrix.fromKernel(w, d.inFeatures(), d.outFeatures(), 2, 4);
            assertEquals(0.5, nm.sparsity(), 1e-12, d.name());
            var timings = planner.chooseLinear(w, d.inFeatures(), d.outFeatures(), 8).timings();
            assertTrue(timings.stream().anyMatch(t -> t.format().equals("2:4")), d.name() + ": " + timings);
        }
        assertEquals(3, dense);

        // the planned sparse model predicts what the dense one does
        SparseModel sm = SparseModel.plan(model, 50, planner);
        assertEquals(3, sm.plans().size());
        float[] x = new float[50 * FEATURES];
        System.arraycopy(test.features(), 0, x, 0, x.length);
        try (Tensor in = be.upload(x, Shape.of(50, FEATURES))) {
            float[] denseOut = be.download(model.forward(ExecContext.inference(be), in));
            float[] sparseOut = be.download(sm.forward(in));
            for (int i = 0; i < denseOut.length; i++)
                assertEquals(denseOut[i], sparseOut[i], 1e-4 + 1e-4 * Math.abs(denseOut[i]), "logit " + i); // sums in another order
        }
        assertEquals(Evaluator.evaluate(model, test, 50).accuracy(), sm.evaluate(test, 50).accuracy(), 1e-12);
    }
}
