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
import dev.shears.pruning.GatedChannels;
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
 * multiplied over the depthwise block's map): channel pruning leaves out the kernels whose channels
 * the gate ties (the map's producer and the gate's expanding conv) and keeps the gate's reducing
 * conv; thinning removes a reducing-conv channel and computes what the masked model computes, and
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
    void channelPruningLeavesTheGatedKernelsOut() {
        Model m = model(1);
        assertEquals(Set.of("conv/kernel", "se_expand/kernel"), GatedChannels.of(m));
        List<Parameter> kernels = m.parameters().stream().filter(p -> p.role() == Parameter.Role.KERNEL).toList();
        assertEquals(List.of("dw/kernel", "se_reduce/kernel", "pw/kernel", "fc/kernel"),
                GatedChannels.without(m, kernels, "test").stream().map(Parameter::name).toList());
        RecipeException e = assertThrows(RecipeException.class,
                () -> GatedChannels.without(m, List.of(m.parameter("se_expand/kernel")), "recipe r: pruning[0] (structure: channels)"));
        assertTrue(e.getMessage().contains("recipe r: pruning[0]") && e.getMessage().contains("se_expand/kernel")
                && e.getMessage().contains("squeeze-and-excitation"), e.getMessage());
        // the same block without its gate ties nothing
        assertEquals(Set.of(), GatedChannels.of(dev.shears.core.nn.TinyMobileNet.create()));
    }

    /** The three rules together, as the trainer and the sensitivity analysis apply them: each kernel with the first rule that leaves it out. */
    @Test
    void channelLeftOutNamesEachKernelsRule() {
        Model m = model(1);
        List<Parameter> kernels = m.parameters().stream().filter(p -> p.role() == Parameter.Role.KERNEL).toList();
        ChannelLeftOut split = ChannelLeftOut.of(m, kernels, "test");
        assertEquals(List.of("se_reduce/kernel", "pw/kernel"), split.kept().stream().map(Parameter::name).toList());
        assertEquals(List.of("fc/kernel"), split.leftOutBy(ChannelLeftOut.Rule.OUTPUT));
        assertEquals(List.of("dw/kernel"), split.leftOutBy(ChannelLeftOut.Rule.GROUPED));
        assertEquals(List.of("conv/kernel", "se_expand/kernel"), split.leftOutBy(ChannelLeftOut.Rule.GATED));
        assertEquals(List.of("conv/kernel", "dw/kernel", "se_expand/kernel", "fc/kernel"),
                split.leftOut().keySet().stream().map(Parameter::name).toList(), "in the selection's order");
        // a selection the rules empty fails with the first rule that empties it
        RecipeException e = assertThrows(RecipeException.class,
                () -> ChannelLeftOut.of(m, List.of(m.parameter("fc/kernel"), m.parameter("dw/kernel")), "recipe r"));
        assertTrue(e.getMessage().contains("grouped (depthwise)") && e.getMessage().contains("dw/kernel"), e.getMessage());
    }

    @Test
    void sensitivityWithChannelPruningLeavesTheGatedKernelsOutWithTheirReason() {
        Model m = model(4);
        SplittableRandom rnd = new SplittableRandom(11);
        int n = 16;
        float[] x = new float[n * TinySeMobileNet.INPUT.intSize()];
        int[] y = new int[n];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextDouble();
        for (int i = 0; i < n; i++) y[i] = rnd.nextInt(TinySeMobileNet.CLASSES);
        Dataset images = new Dataset("random images", TinySeMobileNet.INPUT, x, y, TinySeMobileNet.CLASSES);
        SensitivityAnalysis a = new SensitivityAnalysis(m, images, 8);
        SensitivityResult r = a.run(ParamSelection.ALL_PRUNABLE, SensitivityPlan.structured(ChannelStructure.CHANNELS, List.of(0.5)),
                new SensitivityListener() {
                    @Override public void evaluated(int done, int total, String param, double target, Evaluator.Result result) {}
                });
        assertEquals(List.of("se_reduce/kernel", "pw/kernel"), r.layers().stream().map(LayerSensitivity::name).toList());
        assertEquals(List.of("conv/kernel", "dw/kernel", "se_expand/kernel", "fc/kernel"), r.leftOut(), "in model order");
        assertEquals(SensitivityResult.GATED_LEFT_OUT, r.leftOutReasons().get("conv/kernel"));
        assertEquals(SensitivityResult.GATED_LEFT_OUT, r.leftOutReasons().get("se_expand/kernel"));
        assertEquals(SensitivityResult.GROUPED_LEFT_OUT, r.leftOutReasons().get("dw/kernel"));
        assertTrue(SensitivityResult.GATED_LEFT_OUT.contains(GatedChannels.REASON));
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
