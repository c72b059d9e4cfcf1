package dev.shears.pruning.thin;

import dev.shears.core.backend.Activation;
import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.data.DataSources;
import dev.shears.core.data.Dataset;
import dev.shears.core.nn.Architectures;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Layer;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.Parameter;
import dev.shears.core.nn.layers.*;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import dev.shears.pruning.ChannelLayout;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Thinning computes what the channel-masked model computes, on bundled Fashion-MNIST test images,
 * with fewer parameters; and keeps whole what it cannot thin exactly, saying so.
 */
class ChannelThinningTest {
    private static final Backend BE = new CpuBackend(1);
    private static final Dataset TEST = DataSources.bundledFashionMnist().test().head(64);
    private static final Shape IMAGE = Shape.of(1, 28, 28);

    /** Sets every parameter to seeded values with non-zero biases and BatchNorm statistics, so removed channels carry constants. */
    private static Model randomised(Model m, long seed) {
        m.bind(BE, seed);
        SplittableRandom r = new SplittableRandom(seed);
        for (Parameter p : m.parameters()) {
            float[] v = BE.download(p.value());
            for (int i = 0; i < v.length; i++) switch (p.role()) {
                case BIAS, BETA, RUNNING_MEAN -> v[i] = (float) (r.nextGaussian() * 0.3);
                case GAMMA, RUNNING_VAR -> v[i] = (float) (0.5 + r.nextDouble());
                default -> { }
            }
            p.setValue(BE.upload(v, p.shape()));
        }
        return m;
    }

    /** Zeroes whole output channels of a layer's kernel (what channel masks leave behind). */
    private static void zeroChannels(Model m, String kernel, int... channels) {
        Parameter p = m.parameter(kernel);
        float[] w = BE.download(p.value());
        ChannelLayout l = ChannelLayout.of(p.name(), p.shape());
        for (int c : channels) for (int k = 0; k < l.span(); k++) w[l.index(c, k)] = 0f;
        p.setValue(BE.upload(w, p.shape()));
    }

    private static void set(Model m, String param, int index, float value) {
        Parameter p = m.parameter(param);
        float[] v = BE.download(p.value());
        v[index] = value;
        p.setValue(BE.upload(v, p.shape()));
    }

    private static int[] range(int from, int to, int step) {
        return java.util.stream.IntStream.iterate(from, i -> i < to, i -> i + step).toArray();
    }

    private static float[] outputs(Model m) {
        try (Tensor x = BE.upload(TEST.features(), IMAGE.withBatch(TEST.count()))) {
            return BE.download(m.forward(ExecContext.inference(BE), x));
        }
    }

    /** |thin - masked| <= 1e-4 + 1e-4 |masked|: the folded biases sum in another order than the masked model's GEMMs. */
    private static void assertSameOutputs(Model masked, Model thin) {
        float[] a = outputs(masked), b = outputs(thin);
        assertEquals(a.length, b.length);
        for (int i = 0; i < a.length; i++)
            assertTrue(Math.abs(a[i] - b[i]) <= 1e-4 + 1e-4 * Math.abs(a[i]),
                    "output " + i + ": masked " + a[i] + ", thinned " + b[i]);
    }

    @Test void lenet300100LosesHalfItsHiddenUnitsAndComputesTheSame() {
        Model m = randomised(Architectures.create("lenet-300-100", IMAGE, 10), 1);
        zeroChannels(m, "fc1/kernel", range(0, 300, 2));
        zeroChannels(m, "fc2/kernel", range(1, 100, 2));
        ThinnedModel t = ChannelThinning.thin(m);
        assertEquals(150, t.removed().get("fc1"));
        assertEquals(50, t.removed().get("fc2"));
        assertNull(t.removed().get("fc3"), "the output layer is never thinned");
        assertEquals(t.warnings(), java.util.List.of());
        Dense fc1 = (Dense) t.model().layer("fc1"), fc2 = (Dense) t.model().layer("fc2"), fc3 = (Dense) t.model().layer("fc3");
        assertEquals(784, fc1.inFeatures());
        assertEquals(150, fc1.outFeatures());
        assertEquals(150, fc2.inFeatures());
        assertEquals(50, fc2.outFeatures());
        assertEquals(50, fc3.inFeatures());
        assertEquals(784 * 150 + 150 + 150 * 50 + 50 + 50 * 10 + 10, t.parametersAfter());
        assertEquals(m.parameterCount(), t.parametersBefore());
        assertSameOutputs(m, t.model());
    }

    /** conv(pad 1) - BN - relu - conv(no pad) - BN - relu - maxpool - flatten - dense - relu - dense. */
    private static Model cnn(int padOfSecondConv) {
        int h = 28 + 2 * padOfSecondConv - 2;
        return Model.builder().input("x", IMAGE)
                .then(Conv2D.of("conv1", 1, 8, 3, 1, 1, true)).then(new BatchNorm("bn1", 8, 1e-3f, 0.99f))
                .then(new ActivationLayer("relu1", Activation.RELU))
                .then(Conv2D.of("conv2", 8, 12, 3, 1, padOfSecondConv, false)).then(new BatchNorm("bn2", 12, 1e-3f, 0.99f))
                .then(new ActivationLayer("relu2", Activation.RELU))
                .then(new MaxPool2D("pool", 2, 2, 2, 2, 0, 0, 0, 0, false))
                .then(new Flatten("flatten"))
                .then(new Dense("fc1", 12 * (h / 2) * (h / 2), 16, true)).then(new ActivationLayer("relu3", Activation.RELU))
                .then(new Dense("fc2", 16, 10, true))
                .build();
    }

    @Test void cnnWithBatchNormFoldsTheRemovedChannelsConstantsAndComputesTheSame() {
        Model m = randomised(cnn(0), 2);
        zeroChannels(m, "conv1/kernel", 0, 3, 5);
        zeroChannels(m, "conv2/kernel", 1, 2, 7, 11);
        zeroChannels(m, "fc1/kernel", 4);
        ThinnedModel t = ChannelThinning.thin(m);
        assertEquals(3, t.removed().get("conv1"));
        assertEquals(4, t.removed().get("conv2"));
        assertEquals(1, t.removed().get("fc1"));
        assertEquals(java.util.List.of(), t.warnings());
        assertEquals(5, ((BatchNorm) t.model().layer("bn1")).channels());
        assertEquals(8 * 13 * 13, ((Dense) t.model().layer("fc1")).inFeatures());
        assertNotNull(((Conv2D) t.model().layer("conv2")).bias(), "conv2 gains a bias to hold bn1's folded constants");
        assertTrue(t.parametersAfter() < t.parametersBefore());
        assertSameOutputs(m, t.model());
    }

    @Test void aPaddedConsumerKeepsChannelsWhoseConstantIsNotZero() {
        Model m = randomised(cnn(1), 3);
        zeroChannels(m, "conv1/kernel", 0, 3);
        zeroChannels(m, "conv2/kernel", 2);
        // channel 0 is relu(bn1(bias)) > 0 everywhere, but conv2 sees zeros in its padding: it stays;
        // channel 3 is relu(negative) = 0, which padding cannot tell apart: it goes
        set(m, "bn1/beta", 0, 1f);
        set(m, "bn1/moving_mean", 0, 0f);
        set(m, "bn1/beta", 3, -5f);
        set(m, "bn1/moving_mean", 3, 0f);
        ThinnedModel t = ChannelThinning.thin(m);
        assertEquals(1, t.removed().get("conv1"));
        assertEquals(7, ((BatchNorm) t.model().layer("bn1")).channels());
        assertEquals(1, t.removed().get("conv2"));
        assertEquals(1, t.warnings().size(), t.warnings().toString());
        assertTrue(t.warnings().getFirst().startsWith("layer 'conv1': 1 of 8 output channels")
                && t.warnings().getFirst().contains("pads its input"), t.warnings().getFirst());
        assertSameOutputs(m, t.model());
    }

    /** stem conv - relu - [conv - relu - conv] + stem - relu - global pool - dense. */
    private static Model residual() {
        return Model.builder().input("x", IMAGE)
                .add(Conv2D.of("stem", 1, 8, 3, 2, 1, true), "x").then(new ActivationLayer("stem_relu", Activation.RELU))
                .then(Conv2D.of("conv_a", 8, 6, 3, 1, 1, true)).then(new ActivationLayer("a_relu", Activation.RELU))
                .then(Conv2D.of("conv_b", 6, 8, 3, 1, 1, true))
                .add(new Add("add"), "stem_relu", "conv_b").then(new ActivationLayer("add_relu", Activation.RELU))
                .then(new GlobalAvgPool2D("gap", false))
                .then(new Dense("fc", 8, 10, true))
                .build();
    }

    @Test void addJoinsChannelsThatCanOnlyGoTogether() {
        Model m = randomised(residual(), 4);
        zeroChannels(m, "stem/kernel", 1, 4, 6);
        zeroChannels(m, "conv_b/kernel", 1, 4, 5);   // 1 and 4 are zero on both sides of the Add; 5 and 6 on one side only
        zeroChannels(m, "conv_a/kernel", 2);          // conv_b pads: conv_a's channel goes only if relu(bias) is 0
        float aBias = BE.download(m.parameter("conv_a/bias").value())[2];
        // conv_a pads too: stem's channels can go only where relu(bias) is 0
        set(m, "stem/bias", 1, -0.5f);
        set(m, "stem/bias", 4, -0.1f);
        ThinnedModel t = ChannelThinning.thin(m);
        assertEquals(2, t.removed().get("stem"));
        assertEquals(2, t.removed().get("conv_b"));
        assertEquals(aBias <= 0 ? 1 : null, t.removed().get("conv_a"));
        assertEquals(6, ((Dense) t.model().layer("fc")).inFeatures());
        assertTrue(t.warnings().stream().anyMatch(w -> w.contains("'stem'") && w.contains("Add 'add'")), t.warnings().toString());
        assertTrue(t.warnings().stream().anyMatch(w -> w.contains("'conv_b'") && w.contains("Add 'add'")), t.warnings().toString());
        assertSameOutputs(m, t.model());
    }

    /**
     * ResNet-50 as caffe2 exports it to ONNX ends GlobalAveragePool [C, 1, 1] -> Reshape [C] -> Gemm:
     * a Reshape to one dimension is a Flatten, so the convolution before it thins (it was kept whole,
     * with a warning naming the Reshape).
     */
    @Test void aReshapeToOneDimensionAfterTheGlobalPoolIsSeenThroughLikeAFlatten() {
        Model m = Model.builder().input("x", IMAGE)
                .add(Conv2D.of("conv", 1, 8, 3, 2, 1, true), "x").then(new ActivationLayer("relu", Activation.RELU))
                .then(new GlobalAvgPool2D("gap", true))
                .then(new Reshape("reshape", Shape.of(8)))
                .then(new Dense("fc", 8, 10, true))
                .build();
        randomised(m, 6);
        zeroChannels(m, "conv/kernel", 2, 5);
        ThinnedModel t = ChannelThinning.thin(m);
        assertEquals(2, t.removed().get("conv"), t.warnings().toString());
        assertTrue(t.warnings().isEmpty(), t.warnings().toString());
        assertEquals(6, ((Dense) t.model().layer("fc")).inFeatures());
        assertEquals(Shape.of(6), t.model().shapeOf("reshape"));
        assertSameOutputs(m, t.model());
    }

    @Test void aReshapeOnThePathKeepsTheProducerWholeAndWarns() {
        Model m = Model.builder().input("x", IMAGE)
                .then(new Flatten("flatten"))
                .then(new Dense("fc1", 784, 32, true)).then(new ActivationLayer("relu1", Activation.RELU))
                .then(new Reshape("reshape", Shape.of(2, 16)))
                .then(new Flatten("flatten2"))
                .then(new Dense("fc2", 32, 16, true)).then(new ActivationLayer("relu2", Activation.RELU))
                .then(new Dense("fc3", 16, 10, true))
                .build();
        randomised(m, 5);
        zeroChannels(m, "fc1/kernel", 3, 9);
        zeroChannels(m, "fc2/kernel", 0);
        ThinnedModel t = ChannelThinning.thin(m);
        assertNull(t.removed().get("fc1"));
        assertEquals(1, t.removed().get("fc2"));
        assertEquals(1, t.warnings().size(), t.warnings().toString());
        assertTrue(t.warnings().getFirst().startsWith("layer 'fc1': 2 of 32 output channels are all zero")
                && t.warnings().getFirst().contains("Reshape 'reshape'"), t.warnings().getFirst());
        assertEquals(32, ((Dense) t.model().layer("fc1")).outFeatures());
        assertSameOutputs(m, t.model());
    }

    /** A Keras channels_last CNN imports its Flatten as Permute [C, H, W] -> [H, W, C] then Flatten: thinning sees through both. */
    @Test void aPermuteIntoFlattenAsKerasImportsItThinsTheConvolutionBeforeIt() {
        assertThinsThroughPermuteInto(new Flatten("flatten"));
    }

    /** The same with the Flatten written as a Reshape to one dimension (an ONNX Transpose -> Reshape): seen through alike. */
    @Test void aPermuteIntoAReshapeToOneDimensionThinsTheConvolutionBeforeIt() {
        assertThinsThroughPermuteInto(new Reshape("reshape", Shape.of(26 * 26 * 8)));
    }

    /** conv1 (8 filters, 3 zeroed) -> relu -> Permute to channels-last -> {@code flatten} -> fc1 -> fc2 thins conv1 and fc1's inputs, outputs unchanged. */
    private static void assertThinsThroughPermuteInto(Layer flatten) {
        Model m = Model.builder().input("x", IMAGE)
                .then(Conv2D.of("conv1", 1, 8, 3, 1, 0, true)).then(new ActivationLayer("relu1", Activation.RELU))
                .then(new Permute("to_channels_last", 1, 2, 0))
                .then(flatten)
                .then(new Dense("fc1", 26 * 26 * 8, 16, true)).then(new ActivationLayer("relu2", Activation.RELU))
                .then(new Dense("fc2", 16, 10, true))
                .build();
        randomised(m, 7);
        zeroChannels(m, "conv1/kernel", 1, 4, 6);
        ThinnedModel t = ChannelThinning.thin(m);
        assertEquals(java.util.List.of(), t.warnings());
        assertEquals(3, t.removed().get("conv1"));
        assertEquals(5 * 26 * 26, ((Dense) t.model().layer("fc1")).inFeatures());
        assertSameOutputs(m, t.model());
    }

    @Test void aModelWithNothingZeroComesBackTheSameSize() {
        Model m = randomised(Architectures.create("lenet-300-100", IMAGE, 10), 6);
        ThinnedModel t = ChannelThinning.thin(m);
        assertEquals(0, t.removedChannels());
        assertEquals(t.parametersBefore(), t.parametersAfter());
        assertSameOutputs(m, t.model());
    }
}
