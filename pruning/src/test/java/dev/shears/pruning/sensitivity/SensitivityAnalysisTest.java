package dev.shears.pruning.sensitivity;

import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.data.DataSources;
import dev.shears.core.data.Dataset;
import dev.shears.core.data.Split;
import dev.shears.core.nn.Evaluator;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.Parameter;
import dev.shears.core.tensor.Shape;
import dev.shears.core.nn.TinyMobileNet;
import dev.shears.pruning.GroupedKernels;
import dev.shears.pruning.MagnitudePruner;
import dev.shears.pruning.TestModels;
import dev.shears.core.sparse.BlockPattern;
import dev.shears.pruning.ChannelLayout;
import dev.shears.pruning.recipe.BlockStructure;
import dev.shears.pruning.recipe.ChannelStructure;
import dev.shears.pruning.recipe.NmStructure;
import dev.shears.pruning.recipe.ParamSelection;
import dev.shears.pruning.recipe.Recipe;
import dev.shears.pruning.recipe.RecipeException;
import dev.shears.pruning.recipe.RecipeParser;
import dev.shears.pruning.recipe.RecipeWriter;
import dev.shears.pruning.recipe.Recipes;
import dev.shears.pruning.recipe.Scope;
import dev.shears.pruning.train.GmpTrainer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Sensitivity analysis on real data: a small MLP trained briefly on the bundled Fashion-MNIST,
 * analysed on 500 of its test images.
 */
class SensitivityAnalysisTest {
    private static final Backend be = new CpuBackend(1);
    private static Model model;
    private static Dataset test;

    @BeforeAll static void train() {
        Split fm = DataSources.bundledFashionMnist();
        Dataset tr = fm.train().head(3000).withSampleShape(Shape.of(784));
        test = fm.test().head(500).withSampleShape(Shape.of(784));
        model = TestModels.mlp(784, 64, 32, 10, false).bind(be, 3);
        Recipe dense = RecipeParser.parse("""
                epochs: 2
                batchSize: 64
                optimizer: {type: sgd, momentum: 0.9, nesterov: true}
                learningRate:
                  - {type: constant, lr: 0.05}
                """, "test recipe", "dense-2");
        new GmpTrainer(model, tr, test, dense, 1).run();
    }

    /** Every parameter's weights (raw float bits) and mask bytes (or null), by name. */
    private static Map<String, Object> state(Model m) {
        Map<String, Object> s = new HashMap<>();
        for (Parameter p : m.parameters()) {
            float[] w = be.download(p.value());
            int[] bits = new int[w.length];
            for (int i = 0; i < w.length; i++) bits[i] = Float.floatToRawIntBits(w[i]);
            s.put(p.name() + "#w", bits);
            s.put(p.name() + "#m", p.mask() == null ? null : be.downloadBytes(p.mask()));
        }
        return s;
    }

    private static void assertSameState(Map<String, Object> before, Map<String, Object> after) {
        assertEquals(before.keySet(), after.keySet());
        for (String k : before.keySet()) {
            Object a = before.get(k), b = after.get(k);
            if (a == null) assertNull(b, k + " had no mask and must have none after the analysis");
            else if (a instanceof int[] x) assertArrayEquals(x, (int[]) b, k + " changed");
            else assertArrayEquals((byte[]) a, (byte[]) b, k + " changed");
        }
    }

    private static SensitivityResult analyse(SensitivityPlan plan) {
        return new SensitivityAnalysis(model, test, 128).run(ParamSelection.ALL_PRUNABLE, plan, SensitivityListener.NONE);
    }

    @Test void restoresWeightsAndMasksBitExactlyAndMeasuresRealDrops() {
        Map<String, Object> before = state(model);
        Evaluator.Result base = Evaluator.evaluate(model, test, 128);
        List<String> seen = new ArrayList<>();
        int[] totals = new int[1];
        SensitivityResult r = new SensitivityAnalysis(model, test, 128).run(ParamSelection.ALL_PRUNABLE,
                SensitivityPlan.unstructured(List.of(0.98, 0.5, 0.9)), (done, total, param, target, res) -> {
                    seen.add(done + ":" + param + "@" + target);
                    totals[0] = total;
                });
        assertSameState(before, state(model));
        assertEquals(base, Evaluator.evaluate(model, test, 128), "the model scores as before");

        assertEquals(1 + 3 * 3, totals[0]);
        assertEquals(List.of("1:null@NaN", "2:dense_1/kernel@0.5", "3:dense_1/kernel@0.9", "4:dense_1/kernel@0.98",
                "5:dense_2/kernel@0.5"), seen.subList(0, 5), "baseline first, then each layer at ascending targets");
        assertEquals(base.accuracy(), r.baselineAccuracy());
        assertEquals(base.loss(), r.baselineLoss());
        assertEquals(500, r.samples());
        assertTrue(r.baselineAccuracy() > 0.6, "2 epochs on 3,000 images learn something: " + r.baselineAccuracy());
        assertEquals(List.of("dense_1/kernel", "dense_2/kernel", "dense_3/kernel"), r.layers().stream().map(LayerSensitivity::name).toList());
        for (LayerSensitivity l : r.layers()) {
            assertEquals(0.0, l.originalSparsity());
            assertEquals(3, l.points().size());
            for (SensitivityPoint p : l.points())
                assertEquals(p.target(), p.sparsity(), 1.0 / l.size(), l.name() + ": the layer reaches the target to within one weight");
            SensitivityPoint half = l.points().get(0), most = l.points().get(2);
            assertTrue(most.dropPoints(r.baselineAccuracy()) > half.dropPoints(r.baselineAccuracy()) + 1,
                    l.name() + " loses more at 98% than at 50%: " + l.points() + " baseline " + r.baselineAccuracy());
            assertTrue(most.loss() > half.loss(), l.name() + ": " + l.points());
        }
    }

    @Test void restoresAnExistingMaskAndMeasuresFromIt() {
        Model m = TestModels.mlp(784, 64, 32, 10, false).bind(be, 9);
        new MagnitudePruner(be).update(List.of(m.parameter("dense_2/kernel")), 0.6, Scope.LAYER);
        Map<String, Object> before = state(m);
        assertNotNull(before.get("dense_2/kernel#m"));
        SensitivityResult r = new SensitivityAnalysis(m, test, 100).run(new ParamSelection(List.of("dense_2/kernel", "dense_3.*")),
                SensitivityPlan.unstructured(List.of(0.5, 0.8)), SensitivityListener.NONE);
        assertSameState(before, state(m));
        LayerSensitivity d2 = r.layers().get(0);
        assertEquals("dense_2/kernel", d2.name());
        assertEquals(0.6, d2.originalSparsity(), 1.0 / d2.size());
        assertEquals(0.6, d2.points().get(0).sparsity(), 1.0 / d2.size(), "masks only gain zeros: asked 50%, it stays at 60%");
        assertEquals(0.8, d2.points().get(1).sparsity(), 1.0 / d2.size());
        assertEquals(List.of("dense_2/kernel", "dense_3/kernel"), r.layers().stream().map(LayerSensitivity::name).toList());
    }

    /** An exported pruned model (ONNX, Keras) has zeros but no mask: a target below them changes nothing, and says so. */
    @Test void zerosWithoutAMaskCountAsTheSparsityReached() {
        Model m = TestModels.mlp(784, 64, 32, 10, false).bind(be, 9);
        var p = m.parameter("dense_2/kernel");
        float[] w = be.download(p.value());
        java.util.Arrays.fill(w, 0, (int) (0.6 * w.length), 0f);
        try (var t = be.upload(w, p.shape())) { be.copy(t, p.value()); }
        assertNull(p.mask());
        SensitivityResult r = new SensitivityAnalysis(m, test, 100).run(new ParamSelection(List.of("dense_2/kernel")),
                SensitivityPlan.unstructured(List.of(0.5, 0.8)), SensitivityListener.NONE);
        LayerSensitivity d2 = r.layers().get(0);
        assertEquals(0.6, d2.originalSparsity(), 1.0 / d2.size());
        assertEquals(0.6, d2.points().get(0).sparsity(), 1.0 / d2.size(), "asked 50% of a layer with 60% zeros: it stays at 60%");
        assertEquals(r.baselineAccuracy(), d2.points().get(0).accuracy(), 0.0, "nothing changed");
        assertEquals(0.8, d2.points().get(1).sparsity(), 1.0 / d2.size());
        assertNull(p.mask(), "the mask the analysis added is gone again");
    }

    @Test void nmStructureMeasuresEachLayerAtNofM() {
        Map<String, Object> before = state(model);
        SensitivityResult r = analyse(SensitivityPlan.nm(NmStructure.TWO_FOUR));
        assertSameState(before, state(model));
        assertEquals(List.of(0.5), r.plan().sparsities());
        for (LayerSensitivity l : r.layers()) {
            assertEquals(1, l.points().size());
            assertEquals(0.5, l.points().get(0).sparsity(), 1e-12, l.name() + ": every input count here is a multiple of 4");
        }
    }

    @Test void channelStructureRemovesWholeChannelsLeavesTheOutputLayerOutAndWritesAChannelsRecipe() {
        Map<String, Object> before = state(model);
        List<String> checked = new ArrayList<>();
        SensitivityListener watch = new SensitivityListener() {
            @Override public void evaluated(int done, int total, String param, double target, Evaluator.Result result) {
                assertEquals(1 + 2 * 2, total, "the output layer is not measured");
            }

            @Override public void pruned(Parameter p, double target) { // what the evaluation sees
                float[] w = be.download(p.value());
                ChannelLayout l = ChannelLayout.of(p.name(), p.shape());
                int gone = ChannelStructure.removed(target, l.channels());
                assertTrue(gone > 0, p.name() + " at " + target);
                assertEquals(gone, l.zeroChannelCount(w), p.name() + " at " + target + ": whole channels removed");
                long zeros = 0;
                for (float v : w) if (v == 0f) zeros++;
                assertEquals((long) gone * l.span(), zeros, p.name() + " at " + target + ": no zero outside the removed channels");
                checked.add(p.name() + "@" + target);
            }
        };
        SensitivityResult r = new SensitivityAnalysis(model, test, 128).run(ParamSelection.ALL_PRUNABLE,
                SensitivityPlan.structured(ChannelStructure.CHANNELS, List.of(0.9, 0.5)), watch);
        assertSameState(before, state(model));
        assertEquals(List.of("dense_1/kernel@0.5", "dense_1/kernel@0.9", "dense_2/kernel@0.5", "dense_2/kernel@0.9"), checked);
        assertEquals(List.of("dense_1/kernel", "dense_2/kernel"), r.layers().stream().map(LayerSensitivity::name).toList());
        assertEquals(List.of("dense_3/kernel"), r.leftOut(), "the output layer's channels are the model's outputs");
        assertEquals(ChannelStructure.CHANNELS, r.plan().structure());
        for (LayerSensitivity l : r.layers())
            assertTrue(l.points().get(1).dropPoints(r.baselineAccuracy()) > l.points().get(0).dropPoints(r.baselineAccuracy()),
                    l.name() + " loses more channels at 90% than at 50%: " + l.points());

        SparsitySuggestion s = SparsitySuggestion.of(r, 100);
        List<String> names = model.parameters().stream().filter(Parameter::prunableByDefault).map(Parameter::name).toList();
        Recipe recipe = s.toRecipe(Recipes.builtIn("gmp-seed"), "channels", names);
        assertEquals(2, recipe.pruning().size());
        for (var m : recipe.pruning()) assertEquals(ChannelStructure.CHANNELS, m.structure());
        assertEquals(0.9, recipe.pruning().get(0).finalSparsity());
        assertEquals(recipe, RecipeParser.parse(RecipeWriter.toYaml(recipe), "written", "x"), RecipeWriter.toYaml(recipe));
        assertTrue(RecipeWriter.toYaml(recipe).contains("channels"), RecipeWriter.toYaml(recipe));

        RecipeException e = assertThrows(RecipeException.class, () -> new SensitivityAnalysis(model, test, 128)
                .run(new ParamSelection(List.of("dense_3/kernel")), SensitivityPlan.structured(ChannelStructure.CHANNELS, List.of(0.5)), watch));
        assertTrue(e.getMessage().contains("dense_3/kernel") && e.getMessage().contains("output"), e.getMessage());
        assertSameState(before, state(model));
    }

    /**
     * A depthwise convolution's output channels are its input channels filtered: channel pruning leaves its kernel out (as a
     * {@code channels} recipe does, {@link GroupedKernels}), with its own reason beside the output layer's; other structures measure it.
     */
    @Test void channelPruningLeavesDepthwiseKernelsOutWithTheirReason() {
        Model m = TinyMobileNet.create().bind(be, 5);
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(11);
        int n = 24;
        float[] x = new float[n * TinyMobileNet.INPUT.intSize()];
        int[] y = new int[n];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextDouble();
        for (int i = 0; i < n; i++) y[i] = rnd.nextInt(TinyMobileNet.CLASSES);
        Dataset images = new Dataset("random images", TinyMobileNet.INPUT, x, y, TinyMobileNet.CLASSES);
        Map<String, Object> before = state(m);
        List<String> pruned = new ArrayList<>();
        SensitivityListener watch = new SensitivityListener() {
            @Override public void evaluated(int done, int total, String param, double target, Evaluator.Result result) {}

            @Override public void pruned(Parameter p, double target) { pruned.add(p.name()); }
        };
        SensitivityAnalysis a = new SensitivityAnalysis(m, images, 8);
        SensitivityPlan channels = SensitivityPlan.structured(ChannelStructure.CHANNELS, List.of(0.5));
        SensitivityResult r = a.run(ParamSelection.ALL_PRUNABLE, channels, watch);
        assertEquals(List.of("conv/kernel", "pw/kernel"), pruned, "neither the depthwise kernel nor the output layer's is pruned");
        assertEquals(List.of("conv/kernel", "pw/kernel"), r.layers().stream().map(LayerSensitivity::name).toList());
        assertEquals(List.of("dw/kernel", "fc/kernel"), r.leftOut(), "in model order");
        assertEquals(SensitivityResult.GROUPED_LEFT_OUT, r.leftOutReasons().get("dw/kernel"));
        assertEquals(SensitivityResult.OUTPUT_LEFT_OUT, r.leftOutReasons().get("fc/kernel"));
        assertTrue(SensitivityResult.GROUPED_LEFT_OUT.contains(GroupedKernels.REASON), "the reason a channels recipe logs");
        List<Parameter> all = ParamSelection.ALL_PRUNABLE.resolve(m);
        assertEquals(r.leftOutReasons(), a.leftOut(all, a.measured(ParamSelection.ALL_PRUNABLE, channels)), "what the command prints before the run");
        assertSameState(before, state(m));

        pruned.clear();
        SensitivityResult u = a.run(ParamSelection.ALL_PRUNABLE, SensitivityPlan.unstructured(List.of(0.5)), watch);
        assertEquals(List.of("conv/kernel", "dw/kernel", "pw/kernel", "fc/kernel"), pruned, "single weights: every kernel, the depthwise one too");
        assertTrue(u.leftOut().isEmpty());

        RecipeException e = assertThrows(RecipeException.class, () -> a.run(new ParamSelection(List.of("dw/kernel")), channels, watch));
        assertTrue(e.getMessage().contains("[dw/kernel]") && e.getMessage().contains("grouped (depthwise)"), e.getMessage());
        assertSameState(before, state(m));
    }

    @Test void blockStructurePrunesWholeBlocksAndWritesABlockRecipe() {
        Map<String, Object> before = state(model);
        BlockStructure b44 = new BlockStructure(4, 4);
        List<String> checked = new ArrayList<>();
        SensitivityListener watch = new SensitivityListener() {
            @Override public void evaluated(int done, int total, String param, double target, Evaluator.Result result) {}

            @Override public void pruned(Parameter p, double target) {
                float[] w = be.download(p.value()); // a Dense kernel [in, out]: A = W^T, and W follows the same 4x4 pattern
                BlockPattern bp = BlockPattern.detect(w, (int) p.shape().dim(0), (int) p.shape().dim(1));
                assertTrue(bp != null && bp.r() % 4 == 0 && bp.c() % 4 == 0, p.name() + " at " + target + ": " + bp);
                checked.add(p.name());
            }
        };
        SensitivityResult r = new SensitivityAnalysis(model, test, 128).run(ParamSelection.ALL_PRUNABLE,
                SensitivityPlan.structured(b44, List.of(0.5)), watch);
        assertSameState(before, state(model));
        assertEquals(List.of("dense_1/kernel", "dense_2/kernel", "dense_3/kernel"), checked, "block pruning measures the output layer too");
        assertTrue(r.leftOut().isEmpty());
        for (LayerSensitivity l : r.layers()) assertEquals(0.5, l.points().get(0).sparsity(), 0.02, l.name());
        Recipe recipe = SparsitySuggestion.of(r, 100).toRecipe(Recipes.builtIn("gmp-seed"), "blocks",
                model.parameters().stream().filter(Parameter::prunableByDefault).map(Parameter::name).toList());
        assertEquals(3, recipe.pruning().size());
        for (var m : recipe.pruning()) assertEquals(b44, m.structure());
        assertEquals(recipe, RecipeParser.parse(RecipeWriter.toYaml(recipe), "written", "x"));
    }

    @Test void nmOnConvolutionsReportsWhatThePatternReallyPrunesAndSkipsLayersItCannotPrune() {
        // LeNet-5: conv1 has 1 input channel (only short groups: nothing pruned), conv2 has 6 (a group of 4 keeps 2, a short one of 2 keeps 2)
        Model m = dev.shears.core.nn.Architectures.create("lenet-5", Shape.of(1, 28, 28), 10).bind(be, 2);
        Dataset few = DataSources.bundledFashionMnist().test().head(20);
        Map<String, Object> before = state(m);
        SensitivityResult r = new SensitivityAnalysis(m, few, 20).run(new ParamSelection(List.of("conv.*")), SensitivityPlan.nm(NmStructure.TWO_FOUR),
                SensitivityListener.NONE);
        assertSameState(before, state(m));
        assertEquals(0.0, r.layers().get(0).points().get(0).sparsity(), "conv1/kernel: 1 input channel, nothing to group");
        assertEquals(1.0 / 3, r.layers().get(1).points().get(0).sparsity(), 1e-12, "conv2/kernel: 2 of every 6 input channels pruned");
        SparsitySuggestion s = SparsitySuggestion.of(r, 100);
        assertFalse(s.layers().get(0).pruned(), "2:4 leaves conv1 as it is: no modifier for it");
        assertTrue(s.layers().get(1).pruned());
    }

    @Test void anUnknownPatternIsRefusedWithTheModelsParameters() {
        RecipeException e = assertThrows(RecipeException.class, () -> new SensitivityAnalysis(model, test, 64)
                .run(new ParamSelection(List.of("conv9/kernel")), SensitivityPlan.unstructured(List.of(0.5)), SensitivityListener.NONE));
        assertTrue(e.getMessage().contains("'conv9/kernel'") && e.getMessage().contains("dense_1/kernel"), e.getMessage());
    }

    @Test void suggestionOnRealDataRespectsTheBudgetAndWritesARecipeThatRoundTrips() {
        SensitivityResult r = analyse(SensitivityPlan.unstructured(SensitivityPlan.DEFAULT_SPARSITIES));
        for (double budget : new double[]{0.5, 1.0, 3.0}) {
            SparsitySuggestion s = SparsitySuggestion.of(r, budget);
            for (int i = 0; i < r.layers().size(); i++) {
                LayerSensitivity l = r.layers().get(i);
                SparsitySuggestion.Layer sl = s.layers().get(i);
                assertEquals(l.name(), sl.name());
                boolean beyond = false;
                for (SensitivityPoint p : l.points()) {
                    double d = p.dropPoints(r.baselineAccuracy());
                    if (p.target() <= sl.sparsity()) assertTrue(d <= budget + 1e-9, l.name() + " at " + p.target() + " drops " + d + " > " + budget);
                    else if (!beyond) {
                        assertTrue(d > budget, l.name() + ": the next sparsity above the suggestion, " + p.target() + ", must exceed the budget");
                        beyond = true;
                    }
                }
            }
        }
        SparsitySuggestion s = SparsitySuggestion.of(r, 3.0);
        assertTrue(s.prunesAnything(), "some layer of a trained MLP keeps 3 points at 50%: " + s);
        List<String> names = model.parameters().stream().filter(Parameter::prunableByDefault).map(Parameter::name).toList();
        Recipe recipe = s.toRecipe(Recipes.builtIn("gmp-seed"), "mlp-sensitivity", names);
        Recipe back = RecipeParser.parse(RecipeWriter.toYaml(recipe), "written", "x");
        assertEquals(recipe, back, RecipeWriter.toYaml(recipe));
        assertEquals(s.layers().stream().filter(SparsitySuggestion.Layer::pruned).count(), back.pruning().size());
        int j = 0;
        for (SparsitySuggestion.Layer l : s.layers()) {
            if (!l.pruned()) continue;
            var mod = back.pruning().get(j++);
            assertEquals(l.sparsity(), mod.finalSparsity());
            assertEquals(Scope.LAYER, mod.scope());
            assertEquals(List.of(l.name()), mod.params().resolve(model).stream().map(Parameter::name).toList(), "one layer per modifier");
        }
        assertTrue(back.description().contains("do not add up"), back.description());
    }

    /** A result with made-up accuracies, to pin the rule down where it matters. */
    private static SensitivityResult made(double base, double... accuracies) {
        List<SensitivityPoint> pts = new ArrayList<>();
        List<Double> targets = SensitivityPlan.DEFAULT_SPARSITIES;
        for (int i = 0; i < accuracies.length; i++) pts.add(new SensitivityPoint(targets.get(i), targets.get(i), accuracies[i], 1));
        return new SensitivityResult(SensitivityPlan.unstructured(targets.subList(0, accuracies.length)), base, 0.5, 100,
                List.of(new LayerSensitivity("fc/kernel", 100, 0, pts)), 0);
    }

    @Test void suggestionStopsAtTheFirstSparsityBeyondTheBudgetAndKeepsFailingLayersDense() {
        // drops 0.2, 1.5, 0.8 (noise), 3: 70% fails, so 80% is not trusted though it passes
        SparsitySuggestion s = SparsitySuggestion.of(made(0.9, 0.898, 0.885, 0.892, 0.87), 1.0);
        assertEquals(0.5, s.layers().get(0).sparsity());
        assertEquals(0.2, s.layers().get(0).drop(), 1e-9);
        assertEquals(0.95, SparsitySuggestion.of(made(0.9, 0.9, 0.9, 0.899, 0.9, 0.895, 0.5), 1.0).layers().get(0).sparsity());
        assertEquals(0.5, SparsitySuggestion.of(made(0.9, 0.89), 1.0).layers().get(0).sparsity(), "exactly the budget passes");
        SparsitySuggestion none = SparsitySuggestion.of(made(0.9, 0.7), 1.0);
        assertFalse(none.prunesAnything());
        assertEquals(0.0, none.layers().get(0).sparsity());
        RecipeException e = assertThrows(RecipeException.class, () -> none.toRecipe(Recipes.builtIn("gmp-seed"), "x", List.of("fc/kernel")));
        assertTrue(e.getMessage().contains("--max-drop"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SparsitySuggestion.of(made(0.9, 0.9), -1));
        assertThrows(RecipeException.class, () -> SparsitySuggestion.of(made(0.9, 0.9), 1).toRecipe(Recipes.builtIn("dense"), "x", List.of("fc/kernel")));
    }

    /** A layer already 94% sparse whose 95% fails the budget: suggested at its own 94%, not at a 90% that changes nothing. */
    @Test void anAlreadySparseLayerIsNotSuggestedBelowItsOwnSparsity() {
        double original = 0.9408;
        List<SensitivityPoint> pts = new ArrayList<>();
        for (double t : new double[] {0.5, 0.7, 0.8, 0.9}) pts.add(new SensitivityPoint(t, original, 0.9, 1)); // nothing changed: baseline
        pts.add(new SensitivityPoint(0.95, 0.95, 0.85, 1)); // 5 points lost
        SensitivityResult r = new SensitivityResult(SensitivityPlan.unstructured(List.of(0.5, 0.7, 0.8, 0.9, 0.95)), 0.9, 0.5, 100,
                List.of(new LayerSensitivity("fc1/kernel", 100, original, pts)), 0);
        SparsitySuggestion.Layer l = SparsitySuggestion.of(r, 1.0).layers().getFirst();
        assertEquals(original, l.sparsity());
        assertEquals(0, l.drop());
        // within the budget at 95% too: the measured 95% stands
        pts.set(4, new SensitivityPoint(0.95, 0.95, 0.899, 1));
        SensitivityResult ok = new SensitivityResult(r.plan(), 0.9, 0.5, 100, List.of(new LayerSensitivity("fc1/kernel", 100, original, pts)), 0);
        assertEquals(0.95, SparsitySuggestion.of(ok, 1.0).layers().getFirst().sparsity());
    }

    @Test void nmSuggestionWritesStructuredModifiers() {
        SensitivityResult nm = new SensitivityResult(SensitivityPlan.nm(NmStructure.TWO_FOUR), 0.9, 0.3, 100, List.of(
                new LayerSensitivity("a/kernel", 64, 0, List.of(new SensitivityPoint(0.5, 0.5, 0.895, 0.3))),
                new LayerSensitivity("b/kernel", 64, 0, List.of(new SensitivityPoint(0.5, 0.5, 0.8, 0.6)))), 0);
        Recipe r = SparsitySuggestion.of(nm, 1.0).toRecipe(Recipes.builtIn("gmp-2of4"), "nm", List.of("a/kernel", "b/kernel"));
        assertEquals(1, r.pruning().size());
        assertEquals(NmStructure.TWO_FOUR, r.pruning().get(0).structure());
        assertEquals(List.of("a/kernel"), r.pruning().get(0).params().patterns());
        assertEquals(r, RecipeParser.parse(RecipeWriter.toYaml(r), "written", "x"));
    }

    @Test void namesThatAreAlsoPatternsForOthersAreQuoted() {
        assertEquals("fc1/kernel", SparsitySuggestion.pattern("fc1/kernel", List.of("fc1/kernel", "fc2/kernel")));
        String q = SparsitySuggestion.pattern("fc.1", List.of("fc.1", "fcX1"));
        assertNotEquals("fc.1", q);
        assertTrue(java.util.regex.Pattern.compile(q).matcher("fc.1").matches());
        assertFalse(java.util.regex.Pattern.compile(q).matcher("fcX1").matches());
        assertTrue(java.util.regex.Pattern.compile(SparsitySuggestion.pattern("w[1", List.of("w[1"))).matcher("w[1").matches());
    }

    @Test void planRefusesBadListsNamingTheValue() {
        assertEquals(List.of(0.5, 0.9), SensitivityPlan.unstructured(List.of(0.9, 0.5)).sparsities());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> SensitivityPlan.unstructured(List.of())).getMessage().contains("empty"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> SensitivityPlan.unstructured(List.of(0.5, 1.0))).getMessage().contains("1.0"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> SensitivityPlan.unstructured(List.of(-0.1))).getMessage().contains("-0.1"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> SensitivityPlan.unstructured(List.of(0.5, 0.5))).getMessage().contains("twice"));
        assertThrows(IllegalArgumentException.class, () -> new SensitivityPlan(List.of(0.9), NmStructure.TWO_FOUR));
        assertEquals(List.of(0.5), SensitivityPlan.nm(NmStructure.TWO_FOUR).sparsities());
        assertEquals(List.of(0.5, 0.9), SensitivityPlan.structured(ChannelStructure.CHANNELS, List.of(0.9, 0.5)).sparsities(),
                "channels and blocks take the list");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> SensitivityPlan.structured(new BlockStructure(2, 2), List.of(1.5)))
                .getMessage().contains("1.5"));
        assertThrows(IllegalArgumentException.class, () -> SensitivityPlan.structured(NmStructure.TWO_FOUR, List.of(0.5)));
    }
}
