package dev.shears.pruning.thin;

import dev.shears.core.backend.Activation;
import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.Parameter;
import dev.shears.core.nn.layers.ActivationLayer;
import dev.shears.core.nn.layers.Conv2D;
import dev.shears.core.nn.layers.Dense;
import dev.shears.core.nn.layers.GlobalMaxPool2D;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import dev.shears.pruning.GroupedKernels;
import dev.shears.pruning.MagnitudePruner;
import dev.shears.pruning.MaskUpdate;
import dev.shears.pruning.recipe.NmStructure;
import dev.shears.pruning.recipe.RecipeException;
import dev.shears.pruning.recipe.Scope;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Pruning a MobileNet-style block (conv -> depthwise conv -> pointwise conv -> global max pool ->
 * dense): thinning removes a depthwise channel together with the producer channel it filters,
 * computing what the masked model computes; channel pruning leaves depthwise kernels out; 2:4 on a
 * depthwise kernel (one input channel per group, K = 1) prunes nothing instead of failing;
 * unstructured pruning masks it like any kernel.
 */
class DepthwiseThinningTest {
    private static final Backend BE = new CpuBackend(1);
    private static final Shape IMAGE = Shape.of(3, 8, 8);

    private static Model block(long seed) {
        Model m = Model.builder().input("input", IMAGE)
                .then(new Conv2D("conv", 3, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true))
                .then(new ActivationLayer("conv_relu", Activation.RELU))
                .then(new Conv2D("dw", 6, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 6, true))
                .then(new ActivationLayer("dw_relu", Activation.RELU))
                .then(new Conv2D("pw", 6, 5, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, true))
                .then(new GlobalMaxPool2D("pool", false))
                .then(new Dense("fc", 5, 3, true))
                .build().bind(BE, seed);
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
        float[] x = new float[4 * IMAGE.intSize()];
        for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextDouble() * 2 - 1);
        try (Tensor t = BE.upload(x, IMAGE.withBatch(4))) {
            return BE.download(m.forward(ExecContext.inference(BE), t));
        }
    }

    private static Conv2D conv(Model m, String name) {
        return (Conv2D) m.nodes().stream().filter(n -> n.name().equals(name)).findFirst().orElseThrow().layer();
    }

    @Test
    void aZeroProducerChannelLeavesWithItsDepthwiseChannel() {
        Model m = block(1);
        int span = 3 * 3 * 3;
        // channel 1: zero filter and zero bias: 0 after ReLU, so the padded depthwise conv outputs its bias, a constant, and it goes
        set(m, "conv/kernel", span, 2 * span, 0f);
        set(m, "conv/bias", 1, 2, 0f);
        // channel 4: zero filter but bias 0.5: the depthwise conv's zero padding makes it vary at the border, so it stays
        set(m, "conv/kernel", 4 * span, 5 * span, 0f);
        set(m, "conv/bias", 4, 5, 0.5f);
        float[] before = outputs(m);
        ThinnedModel t = ChannelThinning.thin(m);
        Conv2D c = conv(t.model(), "conv"), dw = conv(t.model(), "dw"), pw = conv(t.model(), "pw");
        assertEquals(5, c.outChannels());
        assertEquals(List.of(5, 5, 5), List.of(dw.inChannels(), dw.outChannels(), dw.groups()), "the depthwise conv lost channel 1 too");
        assertEquals(5, pw.inChannels());
        assertEquals(1, t.removed().get("conv"));
        assertEquals(1, t.removed().get("dw"), "the depthwise channel is counted as removed too");
        assertFalse(t.removed().containsKey("pw"));
        assertTrue(t.warnings().stream().anyMatch(w -> w.contains("'conv'") && w.contains("not one constant")), t.warnings().toString());
        float[] after = outputs(t.model());
        for (int i = 0; i < before.length; i++)
            assertEquals(before[i], after[i], 1e-5 + 1e-5 * Math.abs(before[i]), "output " + i);
        // the depthwise kernel kept the filters of the channels that stayed, in order
        float[] w0 = BE.download(m.parameter("dw/kernel").value()), w1 = BE.download(t.model().parameter("dw/kernel").value());
        assertArrayEquals(java.util.Arrays.copyOfRange(w0, 0, 9), java.util.Arrays.copyOfRange(w1, 0, 9));
        assertArrayEquals(java.util.Arrays.copyOfRange(w0, 18, 54), java.util.Arrays.copyOfRange(w1, 9, 45));
    }

    @Test
    void channelPruningLeavesDepthwiseKernelsOut() {
        Model m = block(2);
        List<Parameter> convs = List.of(m.parameter("conv/kernel"), m.parameter("dw/kernel"), m.parameter("pw/kernel"));
        assertEquals(List.of("conv/kernel", "pw/kernel"), GroupedKernels.without(m, convs, "test").stream().map(Parameter::name).toList());
        RecipeException e = assertThrows(RecipeException.class, () -> GroupedKernels.without(m, List.of(m.parameter("dw/kernel")), "recipe r"));
        assertTrue(e.getMessage().contains("dw/kernel") && e.getMessage().contains("depthwise"), e.getMessage());
    }

    @Test
    void twoFourOnADepthwiseKernelPrunesNothingAndUnstructuredPrunesIt() {
        Model m = block(3);
        Parameter dw = m.parameter("dw/kernel");
        MagnitudePruner pruner = new MagnitudePruner(BE);
        float[] w0 = BE.download(dw.value());
        MaskUpdate nm = pruner.updateNm(List.of(dw), 0.5, NmStructure.TWO_FOUR);
        assertEquals(0, nm.layers().getFirst().pruned(), "K = 1 (one input channel per group): only short groups, nothing to prune");
        assertArrayEquals(w0, BE.download(dw.value()));

        MaskUpdate u = pruner.update(List.of(dw), 0.5, Scope.LAYER);
        assertEquals(27, u.layers().getFirst().pruned(), "half of 6 x 9 weights");
        float[] w1 = BE.download(dw.value());
        long zeros = 0;
        for (float v : w1) if (v == 0f) zeros++;
        assertEquals(27, zeros);
    }
}
