package dev.shears.pruning.thin;

import dev.shears.core.backend.Activation;
import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.Architectures;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.Parameter;
import dev.shears.core.nn.layers.ActivationLayer;
import dev.shears.core.nn.layers.Add;
import dev.shears.core.nn.layers.Conv2D;
import dev.shears.core.nn.layers.Dense;
import dev.shears.core.nn.layers.GlobalAvgPool2D;
import dev.shears.core.nn.layers.Multiply;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import dev.shears.pruning.ChannelGroup;
import dev.shears.pruning.ChannelLayout;
import dev.shears.pruning.ChannelLeftOut;
import dev.shears.pruning.MagnitudePruner;
import dev.shears.pruning.MaskUpdate;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Channel pruning of tied sets ({@link ChannelSets}, {@link MagnitudePruner#updateChannelGroups}):
 * the sets of a residual model (mobilenet-v2-mini) and of a squeeze-and-excitation model, the same
 * channels masked in every member, scored by per-member normalised L1 norms, masks only gaining
 * zeros, and thinning removing the tied channels with the thinned model computing what the masked
 * one computes.
 */
class TiedChannelPruningTest {
    private static final Backend BE = new CpuBackend(1);
    private static final Shape MNIST = Shape.of(1, 28, 28);
    private static final Shape SE_INPUT = Shape.of(3, 8, 8);

    /**
     * A squeeze-and-excitation block with biases: map conv (3x3, 8 channels) and ReLU, a gate of
     * global average pooling, 1x1 reduce to 4 (ReLU), 1x1 expand to 8 (sigmoid), multiplied over
     * the map, then global average pooling and a Dense classifier.
     */
    private static Model seModel() {
        return Model.builder().input("input", SE_INPUT)
                .then(new Conv2D("map", 3, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true))
                .then(new ActivationLayer("map_relu", Activation.RELU))
                .then(new GlobalAvgPool2D("squeeze", true))
                .then(new Conv2D("reduce", 8, 4, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, true))
                .then(new ActivationLayer("reduce_relu", Activation.RELU))
                .then(new Conv2D("expand", 4, 8, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, true))
                .then(new ActivationLayer("gate", Activation.SIGMOID))
                .add(new Multiply("excite"), "map_relu", "gate")
                .then(new GlobalAvgPool2D("pool", false))
                .then(new Dense("fc", 8, 5, true))
                .build();
    }

    /** Seeded weights, and biases of N(0, 0.3) so removed channels carry non-zero constants. */
    private static Model randomBiases(Model m, long seed) {
        m.bind(BE, seed);
        SplittableRandom r = new SplittableRandom(seed);
        for (Parameter p : m.parameters()) {
            if (p.role() != Parameter.Role.BIAS) continue;
            float[] v = BE.download(p.value());
            for (int i = 0; i < v.length; i++) v[i] = (float) (r.nextGaussian() * 0.3);
            p.setValue(BE.upload(v, p.shape()));
        }
        return m;
    }

    /**
     * mobilenet-v2-mini with the residual projections' BatchNorm randomised (so a removed tied
     * channel is a non-zero constant through the Add); the BatchNorms before depthwise
     * convolutions stay fresh, so a removed channel there is 0, which the padding keeps exact.
     */
    private static Model mobileNet(long seed) {
        Model m = Architectures.create("mobilenet-v2-mini", MNIST, 10).bind(BE, seed);
        SplittableRandom r = new SplittableRandom(seed);
        for (Parameter p : m.parameters()) {
            if (!p.name().contains("project_BN")) continue;
            float[] v = BE.download(p.value());
            for (int i = 0; i < v.length; i++) switch (p.role()) {
                case BETA, RUNNING_MEAN -> v[i] = (float) (r.nextGaussian() * 0.3);
                case GAMMA, RUNNING_VAR -> v[i] = (float) (0.5 + r.nextDouble());
                default -> { }
            }
            p.setValue(BE.upload(v, p.shape()));
        }
        return m;
    }

    private static List<Parameter> kernels(Model m) {
        return m.parameters().stream().filter(p -> p.role() == Parameter.Role.KERNEL).toList();
    }

    private static float[] outputs(Model m, Shape input) {
        SplittableRandom r = new SplittableRandom(3);
        float[] x = new float[4 * input.intSize()];
        for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextDouble() * 2 - 1);
        try (Tensor t = BE.upload(x, input.withBatch(4))) {
            return BE.download(m.forward(ExecContext.inference(BE), t)).clone();
        }
    }

    private static void assertSameOutputs(float[] before, float[] after) {
        assertEquals(before.length, after.length);
        for (int i = 0; i < before.length; i++) assertEquals(before[i], after[i], 1e-4 + 1e-4 * Math.abs(before[i]), "output " + i);
    }

    private static boolean[] zeroChannels(Model m, String kernel) {
        Parameter p = m.parameter(kernel);
        return ChannelLayout.of(p.name(), p.shape()).zeroChannels(BE.download(p.value()));
    }

    private static int count(boolean[] b) {
        int n = 0;
        for (boolean x : b) if (x) n++;
        return n;
    }

    private static Conv2D conv(Model m, String name) {
        return (Conv2D) m.layer(name);
    }

    @Test
    void theResidualProjectionsOfMobileNetV2MiniAreTiedSets() {
        Model m = Architectures.create("mobilenet-v2-mini", MNIST, 10);
        List<ChannelGroup> tied = ChannelSets.of(m).stream().filter(ChannelGroup::tied).toList();
        assertEquals(List.of(List.of("Conv1/kernel", "block_1_project/kernel"),
                        List.of("block_2_project/kernel", "block_3_project/kernel"),
                        List.of("block_4_project/kernel", "block_5_project/kernel")),
                tied.stream().map(ChannelGroup::names).toList());
        assertEquals(List.of(16, 24, 32), tied.stream().map(ChannelGroup::units).toList());
        for (ChannelGroup g : tied) {
            assertNull(g.keptReason(), g.names().toString());
            assertArrayEquals(g.unitOf()[0], g.unitOf()[1], "an Add ties channel c to channel c");
        }
        // every other kernel is a set of one; the classifier's is kept (its channels are the outputs)
        long depthwise = m.nodes().stream().filter(n -> n.layer() instanceof Conv2D c && c.groups() > 1).count();
        assertEquals(5, depthwise);
        assertEquals(kernels(m).size() - depthwise - 3, ChannelSets.of(m).size(), "producers only, three pairs as one");
        ChannelGroup head = ChannelSets.of(m).stream().filter(g -> g.names().equals(List.of("predictions/kernel"))).findFirst().orElseThrow();
        assertTrue(head.keptReason().contains("model output"), head.keptReason());
        ChannelLeftOut split = ChannelLeftOut.of(m, kernels(m), "test");
        assertEquals(List.of("predictions/kernel"), split.leftOutBy(ChannelLeftOut.Rule.OUTPUT));
        assertEquals(5, split.leftOutBy(ChannelLeftOut.Rule.GROUPED).size(), "the depthwise convolutions");
        assertTrue(split.leftOutBy(ChannelLeftOut.Rule.KEPT).isEmpty());
    }

    @Test
    void aSetThinningCouldNeverRemoveIsLeftOutWholeWithTheCause() {
        Shape in = Shape.of(4, 6, 6);
        // a residual Add of the graph input: the conv's channels can never leave
        Model viaInput = Model.builder().input("input", in)
                .then(new Conv2D("c", 4, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true))
                .add(new Add("residual"), "input", "c")
                .then(new Conv2D("c2", 4, 6, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, true))
                .then(new GlobalAvgPool2D("pool", false))
                .then(new Dense("fc", 6, 3, true))
                .build();
        ChannelLeftOut split = ChannelLeftOut.of(viaInput, kernels(viaInput), "test");
        assertEquals(List.of("c/kernel"), split.leftOutBy(ChannelLeftOut.Rule.KEPT));
        assertTrue(split.details().get(viaInput.parameter("c/kernel")).contains("graph input 'input'"), split.details().toString());
        assertEquals(List.of("c2/kernel"), split.kept().stream().map(Parameter::name).toList());
        assertTrue(split.describe().stream().anyMatch(l -> l.contains("leaving out [c/kernel]") && l.contains("graph input")), split.describe().toString());
        var e = assertThrows(dev.shears.pruning.recipe.RecipeException.class,
                () -> ChannelLeftOut.of(viaInput, List.of(viaInput.parameter("c/kernel")), "recipe r: pruning[0]"));
        assertTrue(e.getMessage().contains("recipe r: pruning[0]") && e.getMessage().contains("graph input"), e.getMessage());

        // a tied to b, whose channels are the model output through a depthwise convolution: a goes with them
        Model viaOutput = Model.builder().input("input", in)
                .add(new Conv2D("a", 4, 4, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, true), "input")
                .add(new Conv2D("b", 4, 4, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, true), "input")
                .add(new Conv2D("dw", 4, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 4, true), "b")
                .add(new Add("sum"), "a", "dw")
                .then(new GlobalAvgPool2D("pool", false))
                .build();
        // b's channels reach the output through dw (a channel-wise depthwise convolution): its set {a, b} is kept
        ChannelGroup ab = ChannelSets.of(viaOutput).stream().filter(ChannelGroup::tied).findFirst().orElseThrow();
        assertEquals(List.of("a/kernel", "b/kernel"), ab.names());
        assertTrue(ab.keptReason().contains("model output 'pool'"), ab.keptReason());
        e = assertThrows(dev.shears.pruning.recipe.RecipeException.class,
                () -> ChannelLeftOut.of(viaOutput, List.of(viaOutput.parameter("b/kernel")), "recipe r: pruning[0]"));
        assertTrue(e.getMessage().contains("b/kernel: tied with [a/kernel, b/kernel]: it reaches the model output 'pool'"), e.getMessage());
    }

    /** A Concat offsets its inputs' channels: a (2) and b (3) concatenated and added to c (5) are one set of 5 units. */
    @Test
    void concatOffsetsTieEachInputToItsSliceOfTheOtherSide() {
        Shape in = Shape.of(3, 6, 6);
        Model m = Model.builder().input("input", in)
                .add(new Conv2D("a", 3, 2, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, true), "input")
                .add(new Conv2D("b", 3, 3, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, true), "input")
                .add(new Conv2D("c", 3, 5, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, true), "input")
                .add(new dev.shears.core.nn.layers.Concat("ab", 0), "a", "b")
                .add(new Add("sum"), "ab", "c")
                .then(new ActivationLayer("relu", Activation.RELU))
                .then(new GlobalAvgPool2D("pool", false))
                .then(new Dense("fc", 5, 3, true))
                .build();
        randomBiases(m, 9);
        ChannelGroup set = ChannelSets.of(m).getFirst();
        assertEquals(List.of("a/kernel", "b/kernel", "c/kernel"), set.names());
        assertEquals(5, set.units());
        int[] c = set.unitOf()[2];
        assertArrayEquals(new int[]{c[0], c[1]}, set.unitOf()[0], "a is the first two channels of c");
        assertArrayEquals(new int[]{c[2], c[3], c[4]}, set.unitOf()[1], "b the last three");

        new MagnitudePruner(BE).updateChannelGroups(ChannelLeftOut.of(m, kernels(m), "test").groups(), 0.4);
        boolean[] ab = new boolean[5];
        System.arraycopy(zeroChannels(m, "a/kernel"), 0, ab, 0, 2);
        System.arraycopy(zeroChannels(m, "b/kernel"), 0, ab, 2, 3);
        assertArrayEquals(ab, zeroChannels(m, "c/kernel"));
        assertEquals(2, count(ab));
        float[] masked = outputs(m, in);
        ThinnedModel t = ChannelThinning.thin(m);
        assertEquals(3, conv(t.model(), "c").outChannels());
        assertEquals(3, conv(t.model(), "a").outChannels() + conv(t.model(), "b").outChannels());
        assertSameOutputs(masked, outputs(t.model(), in));
    }

    /** A member never loses its last channel: a's two units score lowest, yet only one goes, then b's lowest. */
    @Test
    void aNarrowMemberKeepsOneChannel() {
        Shape in = Shape.of(3, 6, 6);
        Model m = Model.builder().input("input", in)
                .add(new Conv2D("a", 3, 2, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, true), "input")
                .add(new Conv2D("b", 3, 3, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, true), "input")
                .add(new Conv2D("c", 3, 5, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, true), "input")
                .add(new dev.shears.core.nn.layers.Concat("ab", 0), "a", "b")
                .add(new Add("sum"), "ab", "c")
                .then(new GlobalAvgPool2D("pool", false))
                .then(new Dense("fc", 5, 3, true))
                .build();
        randomBiases(m, 9);
        // a: channel 0 smaller than channel 1; b: channels 1.0, 2.0, 3.0; c: channels 0, 1 tiny, the rest 1.0
        m.parameter("a/kernel").setValue(BE.upload(new float[]{1, 1, 1, 2, 2, 2}, m.parameter("a/kernel").shape()));
        m.parameter("b/kernel").setValue(BE.upload(new float[]{1, 1, 1, 2, 2, 2, 3, 3, 3}, m.parameter("b/kernel").shape()));
        float[] c = new float[15];
        Arrays.fill(c, 1f);
        Arrays.fill(c, 0, 6, 0.01f);
        m.parameter("c/kernel").setValue(BE.upload(c, m.parameter("c/kernel").shape()));
        new MagnitudePruner(BE).updateChannelGroups(ChannelLeftOut.of(m, kernels(m), "test").groups(), 0.4);
        assertEquals(List.of(0), zeroIndices(zeroChannels(m, "a/kernel")), "a keeps channel 1, whose unit scores second lowest");
        assertEquals(List.of(0), zeroIndices(zeroChannels(m, "b/kernel")), "b's smallest goes instead");
        assertEquals(List.of(0, 2), zeroIndices(zeroChannels(m, "c/kernel")));
        float[] masked = outputs(m, in);
        assertSameOutputs(masked, outputs(ChannelThinning.thin(m).model(), in));
    }

    @Test
    void seMapAndGateLoseTheSameChannelsAndThinningRemovesThem() {
        Model m = randomBiases(seModel(), 5);
        ChannelLeftOut split = ChannelLeftOut.of(m, kernels(m), "test");
        assertEquals(List.of(List.of("map/kernel", "expand/kernel"), List.of("reduce/kernel")), split.groups().stream().map(ChannelGroup::names).toList());
        MaskUpdate u = new MagnitudePruner(BE).updateChannelGroups(split.groups(), 0.5);
        assertEquals(List.of("map/kernel", "expand/kernel", "reduce/kernel"), u.layers().stream().map(l -> l.name()).toList());
        boolean[] map = zeroChannels(m, "map/kernel");
        assertArrayEquals(map, zeroChannels(m, "expand/kernel"), "the same channels in both members");
        assertEquals(4, count(map));
        assertEquals(2, count(zeroChannels(m, "reduce/kernel")));

        float[] masked = outputs(m, SE_INPUT);
        ThinnedModel t = ChannelThinning.thin(m);
        assertEquals(List.of(4, 4, 2, 2), List.of(conv(t.model(), "map").outChannels(), conv(t.model(), "expand").outChannels(),
                conv(t.model(), "reduce").outChannels(), conv(t.model(), "expand").inChannels()));
        assertEquals(4, ((Dense) t.model().layer("fc")).inFeatures());
        assertTrue(t.warnings().isEmpty(), t.warnings().toString());
        assertSameOutputs(masked, outputs(t.model(), SE_INPUT));
    }

    /**
     * Each member's L1 norms are divided by its mean before they are summed: the map conv's
     * norms, 100 times larger, do not decide alone. Unnormalised, the map (norms 100, ..., 100,
     * 150) would pick channels 3..6 by the gate's norms; normalised, channel 7, the gate's
     * smallest, goes too.
     */
    @Test
    void membersScoreByNormalisedNormsAndMasksOnlyGainZeros() {
        Model m = randomBiases(seModel(), 6);
        Parameter map = m.parameter("map/kernel"), expand = m.parameter("expand/kernel");
        float[] w = new float[(int) map.shape().size()];
        for (int c = 0; c < 8; c++) Arrays.fill(w, c * 27, (c + 1) * 27, (c == 7 ? 150f : 100f) / 27);
        map.setValue(BE.upload(w, map.shape()));
        float[] g = new float[32];
        for (int c = 0; c < 8; c++) Arrays.fill(g, c * 4, (c + 1) * 4, (8 - c) / 4f);
        expand.setValue(BE.upload(g, expand.shape()));
        ChannelGroup set = ChannelSets.of(m).stream().filter(ChannelGroup::tied).findFirst().orElseThrow();
        MagnitudePruner pruner = new MagnitudePruner(BE);

        // masks only gain zeros: channel 0 (the highest score) masked in one member before goes from both, then the lowest (6)
        byte[] mask = new byte[32];
        Arrays.fill(mask, (byte) 1);
        Arrays.fill(mask, 0, 4, (byte) 0);
        expand.setMask(BE.uploadBytes(mask, expand.shape()));
        pruner.updateChannelGroups(List.of(set), 0.25);
        assertEquals(List.of(0, 6), zeroIndices(zeroChannels(m, "map/kernel")));
        assertEquals(List.of(0, 6), zeroIndices(zeroChannels(m, "expand/kernel")));

        pruner.updateChannelGroups(List.of(set), 0.5);
        assertEquals(List.of(0, 5, 6, 7), zeroIndices(zeroChannels(m, "map/kernel")), "normalised: channel 7 (the gate's smallest) before 4");
        assertEquals(List.of(0, 5, 6, 7), zeroIndices(zeroChannels(m, "expand/kernel")));
    }

    private static List<Integer> zeroIndices(boolean[] zero) {
        List<Integer> out = new ArrayList<>();
        for (int c = 0; c < zero.length; c++) if (zero[c]) out.add(c);
        return out;
    }

    /**
     * mobilenet-v2-mini at 50% channels: every member of each residual set loses the same
     * channels, thinning removes them from both projections (and the Adds' consumers), and the
     * thinned model computes what the masked one does. Pruning each projection on its own (as
     * before tied sets) zeroes as many weights but thins far less.
     */
    @Test
    void mobileNetV2MiniResidualSetsThinAtHalfTheChannels() {
        Model m = mobileNet(7);
        ChannelLeftOut split = ChannelLeftOut.of(m, kernels(m), "test");
        new MagnitudePruner(BE).updateChannelGroups(split.groups(), 0.5);
        for (String[] pair : new String[][]{{"Conv1", "block_1_project"}, {"block_2_project", "block_3_project"}, {"block_4_project", "block_5_project"}}) {
            boolean[] a = zeroChannels(m, pair[0] + "/kernel");
            assertArrayEquals(a, zeroChannels(m, pair[1] + "/kernel"), pair[0] + " and " + pair[1]);
            assertEquals(a.length / 2, count(a), pair[0]);
        }
        float[] masked = outputs(m, MNIST);
        ThinnedModel t = ChannelThinning.thin(m);
        assertEquals(List.of(12, 12, 16, 16, 8, 8), List.of(conv(t.model(), "block_2_project").outChannels(), conv(t.model(), "block_3_project").outChannels(),
                conv(t.model(), "block_4_project").outChannels(), conv(t.model(), "block_5_project").outChannels(),
                conv(t.model(), "Conv1").outChannels(), conv(t.model(), "block_1_project").outChannels()));
        assertEquals(12, conv(t.model(), "block_4_expand").inChannels(), "the Add's consumer reads the set's remaining channels");
        assertSameOutputs(masked, outputs(t.model(), MNIST));

        Model alone = mobileNet(7);
        new MagnitudePruner(BE).updateChannels(ChannelLeftOut.of(alone, kernels(alone), "test").kept(), 0.5);
        ThinnedModel t2 = ChannelThinning.thin(alone);
        System.out.printf("mobilenet-v2-mini, 50%% channels, thinned: %d -> %d parameters with tied sets, %d pruning each layer alone%n",
                t.parametersBefore(), t.parametersAfter(), t2.parametersAfter());
        assertTrue(t.parametersAfter() < t2.parametersAfter(), t.parametersAfter() + " vs " + t2.parametersAfter());
        assertTrue(conv(t2.model(), "block_2_project").outChannels() > 12,
                "alone, the projections zero different channels: only those both happen to zero thin");
    }
}
