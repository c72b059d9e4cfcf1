package dev.shears.pruning.thin;

import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.Parameter;
import dev.shears.core.nn.TinySeMobileNet;
import dev.shears.core.nn.layers.Conv2D;
import dev.shears.core.nn.layers.Multiply;
import dev.shears.core.tensor.Tensor;
import dev.shears.pruning.ChannelLeftOut;
import dev.shears.pruning.ChannelGroup;
import dev.shears.pruning.MagnitudePruner;
import dev.shears.pruning.MaskUpdate;
import dev.shears.pruning.checkpoint.Checkpoint;
import dev.shears.core.data.Dataset;
import dev.shears.pruning.recipe.ChannelStructure;
import dev.shears.pruning.recipe.ParamSelection;
import dev.shears.pruning.recipe.RecipeException;
import dev.shears.pruning.sensitivity.LayerSensitivity;
import dev.shears.pruning.sensitivity.SensitivityAnalysis;
import dev.shears.pruning.sensitivity.SensitivityListener;
import dev.shears.pruning.sensitivity.SensitivityPlan;
import dev.shears.pruning.sensitivity.SensitivityResult;
import dev.shears.core.nn.Evaluator;
import dev.shears.pruning.recipe.Scope;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Pruning a squeeze-and-excitation block ({@link TinySeMobileNet}: the gate's [C, 1, 1] output
 * multiplied over the depthwise block's map): channel pruning prunes the kernels whose channels
 * the gate ties (the map's producer and the gate's expanding conv) together, as one set, and the
 * gate's reducing conv alone; thinning removes a reducing-conv channel and computes what the masked model computes, and
 * keeps a map channel whose gate channel stays; unstructured pruning masks every kernel, the model
 * still trains, thins and survives a checkpoint round trip.
 */
class SqueezeExcitationPruningTest {
    private static final Backend BE = new CpuBackend(1);
    @TempDir Path dir;

    private static Model model(long seed) {
        Model m = TinySeMobileNet.create().bind(BE, seed);
        SplittableRandom r = new SplittableRandom(seed);
        for (Parameter p : m.parameters()) {
            if (p.role() != Parameter.Role.BIAS) continue;
            float[] v = BE.download(p.value());
            for (int i = 0; i < v.length; i++) v[i] = (float) (r.nextGaussian() * 0.3);
            p.setValue(BE.upload(v, p.shape()));
        }
        return m;
    }

    private static void set(Model m, String param, int from, int to, float value) {
        Parameter p = m.parameter(param);
        float[] v = BE.download(p.value());
        for (int i = from; i < to; i++) v[i] = value;
        p.setValue(BE.upload(v, p.shape()));
    }

    private static float[] outputs(Model m) {
        SplittableRandom r = new SplittableRandom(3);
        float[] x = new float[4 * TinySeMobileNet.INPUT.intSize()];
        for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextDouble() * 2 - 1);
        try (Tensor t = BE.upload(x, TinySeMobileNet.INPUT.withBatch(4))) {
            return BE.download(m.forward(ExecContext.inference(BE), t)).clone();
        }
    }

    private static Conv2D conv(Model m, String name) {
        return (Conv2D) m.nodes().stream().filter(n -> n.name().equals(name)).findFirst().orElseThrow().layer();
    }

    private static void assertSameOutputs(float[] before, float[] after) {
        assertEquals(before.length, after.length);
        for (int i = 0; i < before.length; i++) assertEquals(before[i], after[i], 1e-5 + 1e-5 * Math.abs(before[i]), "output " + i);
    }

    @Test
    void theMapProducerAndTheGatesExpandingConvAreOneTiedSet() {
        Model m = model(1);
        List<ChannelGroup> sets = ChannelSets.of(m);
        ChannelGroup se = sets.stream().filter(ChannelGroup::tied).findFirst().orElseThrow();
        assertEquals(List.of("conv/kernel", "se_expand/kernel"), se.names());
        assertEquals(8, se.units());
        for (int c = 0; c < 8; c++) assertEquals(se.unitOf()[0][c], se.unitOf()[1][c], "channel " + c + " of both is one unit");
        assertNull(se.keptReason());
        assertEquals(1, sets.stream().filter(ChannelGroup::tied).count(), "the reducing conv and pw are tied to nothing");
        assertTrue(sets.stream().anyMatch(g -> g.names().equals(List.of("fc/kernel")) && g.keptReason().contains("model output")));
        // the same block without its gate ties nothing
        assertTrue(ChannelSets.of(dev.shears.core.nn.TinyMobileNet.create()).stream().noneMatch(ChannelGroup::tied));
    }

    /** The rules together, as the trainer and the sensitivity analysis apply them: each kernel with the first rule that leaves it out. */
    @Test
    void channelLeftOutNamesEachKernelsRuleAndKeepsTheGatedSet() {
        Model m = model(1);
        List<Parameter> kernels = m.parameters().stream().filter(p -> p.role() == Parameter.Role.KERNEL).toList();
        ChannelLeftOut split = ChannelLeftOut.of(m, kernels, "test");
        assertEquals(List.of("conv/kernel", "se_reduce/kernel", "se_expand/kernel", "pw/kernel"), split.kept().stream().map(Parameter::name).toList());
        assertEquals(List.of("fc/kernel"), split.leftOutBy(ChannelLeftOut.Rule.OUTPUT));
        assertEquals(List.of("dw/kernel"), split.leftOutBy(ChannelLeftOut.Rule.GROUPED));
        assertEquals(List.of(List.of("conv/kernel", "se_expand/kernel"), List.of("se_reduce/kernel"), List.of("pw/kernel")),
                split.groups().stream().map(ChannelGroup::names).toList());
        assertTrue(split.describe().stream().anyMatch(l -> l.startsWith("pruning [conv/kernel, se_expand/kernel] together")), split.describe().toString());
        // half of a tied set is left out, naming the other half
        ChannelLeftOut half = ChannelLeftOut.of(m, List.of(m.parameter("se_expand/kernel"), m.parameter("pw/kernel")), "test");
        assertEquals(List.of("se_expand/kernel"), half.leftOutBy(ChannelLeftOut.Rule.UNSELECTED));
        assertTrue(half.details().get(m.parameter("se_expand/kernel")).contains("[conv/kernel] not selected"), half.details().toString());
        RecipeException e = assertThrows(RecipeException.class,
                () -> ChannelLeftOut.of(m, List.of(m.parameter("se_expand/kernel")), "recipe r: pruning[0] (structure: channels)"));
        assertTrue(e.getMessage().contains("recipe r: pruning[0]") && e.getMessage().contains("conv/kernel] not selected"), e.getMessage());
        // a selection the rules empty fails with the first rule that empties it
        e = assertThrows(RecipeException.class,
                () -> ChannelLeftOut.of(m, List.of(m.parameter("fc/kernel"), m.parameter("dw/kernel")), "recipe r"));
        assertTrue(e.getMessage().contains("grouped (depthwise)") && e.getMessage().contains("dw/kernel"), e.getMessage());
    }

    @Test
    void sensitivityWithChannelPruningPrunesTheGatedSetTogether() {
        Model m = model(4);
        SplittableRandom rnd = new SplittableRandom(11);
        int n = 16;
        float[] x = new float[n * TinySeMobileNet.INPUT.intSize()];
        int[] y = new int[n];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextDouble();
        for (int i = 0; i < n; i++) y[i] = rnd.nextInt(TinySeMobileNet.CLASSES);
        Dataset images = new Dataset("random images", TinySeMobileNet.INPUT, x, y, TinySeMobileNet.CLASSES);
        SensitivityAnalysis a = new SensitivityAnalysis(m, images, 8);
        float[] conv = BE.download(m.parameter("conv/kernel").value()).clone(), expand = BE.download(m.parameter("se_expand/kernel").value()).clone();
        List<String> pruned = new java.util.ArrayList<>();
        List<Integer> totals = new java.util.ArrayList<>();
        SensitivityResult r = a.run(ParamSelection.ALL_PRUNABLE, SensitivityPlan.structured(ChannelStructure.CHANNELS, List.of(0.5)),
                new SensitivityListener() {
                    @Override public void evaluated(int done, int total, String param, double target, Evaluator.Result result) { totals.add(total); }
                    @Override public void pruned(Parameter p, double target) {
                        pruned.add(p.name());
                        if (p.name().equals("se_expand/kernel")) { // the set is pruned together: the same 4 of 8 channels in both
                            boolean[] a1 = dev.shears.pruning.ChannelLayout.of("c", m.parameter("conv/kernel").shape()).zeroChannels(BE.download(m.parameter("conv/kernel").value()));
                            boolean[] a2 = dev.shears.pruning.ChannelLayout.of("e", p.shape()).zeroChannels(BE.download(p.value()));
                            assertArrayEquals(a1, a2);
                            int z = 0;
                            for (boolean b : a1) if (b) z++;
                            assertEquals(4, z);
                        }
                    }
                });
        assertEquals(List.of("conv/kernel", "se_reduce/kernel", "se_expand/kernel", "pw/kernel"), r.layers().stream().map(LayerSensitivity::name).toList());
        assertEquals(List.of("dw/kernel", "fc/kernel"), r.leftOut(), "in model order");
        assertEquals(SensitivityResult.GROUPED_LEFT_OUT, r.leftOutReasons().get("dw/kernel"));
        assertEquals(1 + 3, totals.getFirst(), "the baseline and one evaluation per set: {conv, se_expand}, se_reduce, pw");
        assertEquals(List.of("conv/kernel", "se_expand/kernel", "se_reduce/kernel", "pw/kernel"), pruned);
        LayerSensitivity c = r.layers().get(0), e = r.layers().get(2);
        assertEquals(c.points().getFirst().accuracy(), e.points().getFirst().accuracy(), "one evaluation for the set");
        assertEquals(c.points().getFirst().loss(), e.points().getFirst().loss());
        assertEquals(0.5, c.points().getFirst().sparsity(), 1e-9);
        assertEquals(0.5, e.points().getFirst().sparsity(), 1e-9);
        assertArrayEquals(conv, BE.download(m.parameter("conv/kernel").value()), "restored");
        assertArrayEquals(expand, BE.download(m.parameter("se_expand/kernel").value()), "restored");
    }

    @Test
    void aReducingConvChannelThinsAndAGatedMapChannelStays() {
        Model m = model(2);
        // se_reduce channel 1: zero filter and bias, so relu gives 0 and se_expand folds it away
        set(m, "se_reduce/kernel", 8, 16, 0f);
        set(m, "se_reduce/bias", 1, 2, 0f);
        // conv channel 5: zero filter, but its gate channel (se_expand's 5) is not zero: the pair stays
        set(m, "conv/kernel", 5 * 27, 6 * 27, 0f);
        float[] before = outputs(m);
        ThinnedModel t = ChannelThinning.thin(m);
        assertEquals(List.of(3, 3), List.of(conv(t.model(), "se_reduce").outChannels(), conv(t.model(), "se_expand").inChannels()));
        assertEquals(1, t.removed().get("se_reduce"));
        assertEquals(8, conv(t.model(), "conv").outChannels(), "the gated map channel stays");
        assertEquals(8, conv(t.model(), "se_expand").outChannels());
        assertFalse(t.removed().containsKey("conv"));
        assertTrue(t.model().nodes().stream().anyMatch(n -> n.layer() instanceof Multiply && n.inputs().size() == 2));
        assertSameOutputs(before, outputs(t.model()));
    }

    @Test
    void unstructuredPruningMasksEveryKernelAndTheModelTrainsThinsAndSaves() {
        Model m = model(3);
        List<Parameter> kernels = m.parameters().stream().filter(p -> p.role() == Parameter.Role.KERNEL).toList();
        MaskUpdate u = new MagnitudePruner(BE).update(kernels, 0.5, Scope.LAYER);
        for (var l : u.layers()) {
            long size = m.parameter(l.name()).shape().size();
            assertEquals(size / 2, l.pruned(), l.name());
        }
        double loss = TinySeMobileNet.step(BE, m, 8, 4, 0);
        assertTrue(Double.isFinite(loss), "loss " + loss);
        for (Parameter p : kernels) assertNotNull(p.grad(), p.name() + " has a gradient");

        float[] before = outputs(m);
        assertSameOutputs(before, outputs(ChannelThinning.thin(m).model()));
        Path file = dir.resolve("se.shears");
        new Checkpoint(m, "name: r\nepochs: 1\n", null).write(file);
        Model back = Checkpoint.read(file, BE).model();
        assertTrue(back.nodes().stream().anyMatch(n -> n.layer() instanceof Multiply));
        assertArrayEquals(before, outputs(back), "checkpoint round trip");
    }
}
