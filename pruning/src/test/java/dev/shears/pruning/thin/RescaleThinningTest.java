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
import dev.shears.core.nn.layers.GlobalAvgPool2D;
import dev.shears.core.nn.layers.Rescale;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import dev.shears.pruning.ChannelWise;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A Rescale (scalar {@code scale * x + offset}, Keras' Rescaling) is channel-wise: a constant channel
 * stays constant through it, so thinning removes a zero-kernel producer channel across it, folding
 * the rescaled constant into the next convolution's bias, and keeps the Rescale's scale and offset;
 * one on the graph's input (MobileNetV3's preprocessing) leaves the input's channels alone.
 */
class RescaleThinningTest {
    private static final Backend BE = new CpuBackend(1);
    private static final Shape IMAGE = Shape.of(3, 6, 6);

    private static Model model() {
        Model m = Model.builder().input("input", IMAGE)
                .then(new Rescale("preprocess", 1f / 127.5f, -1f))
                .then(new Conv2D("conv", 3, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true))
                .then(new Rescale("rescale", 2f, -0.5f))
                .then(new ActivationLayer("relu", Activation.RELU))
                .then(new Conv2D("pw", 6, 4, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, true))
                .then(new GlobalAvgPool2D("pool", false))
                .then(new Dense("fc", 4, 3, true))
                .build().bind(BE, 9);
        // channel 2 of conv: zero filter, bias 0.3 -> the constant 0.3 * 2 - 0.5 = 0.1 after the Rescale, 0.1 after ReLU
        Parameter k = m.parameter("conv/kernel"), b = m.parameter("conv/bias");
        float[] kv = BE.download(k.value()), bv = BE.download(b.value());
        java.util.Arrays.fill(kv, 2 * 27, 3 * 27, 0f);
        SplittableRandom r = new SplittableRandom(4);
        for (int i = 0; i < bv.length; i++) bv[i] = (float) (r.nextGaussian() * 0.3);
        bv[2] = 0.3f;
        k.setValue(BE.upload(kv, k.shape()));
        b.setValue(BE.upload(bv, b.shape()));
        return m;
    }

    private static float[] outputs(Model m) {
        SplittableRandom r = new SplittableRandom(3);
        float[] x = new float[4 * IMAGE.intSize()];
        for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextDouble() * 255);
        try (Tensor t = BE.upload(x, IMAGE.withBatch(4))) {
            return BE.download(m.forward(ExecContext.inference(BE), t));
        }
    }

    @Test
    void aConstantChannelLeavesAcrossARescale() {
        Model m = model();
        assertTrue(ChannelWise.is(m.layer("rescale")));
        float[] before = outputs(m);
        ThinnedModel t = ChannelThinning.thin(m);
        assertEquals(1, t.removed().get("conv"), t.warnings().toString());
        Conv2D conv = (Conv2D) t.model().layer("conv"), pw = (Conv2D) t.model().layer("pw");
        assertEquals(5, conv.outChannels());
        assertEquals(5, pw.inChannels());
        assertEquals(3, conv.inChannels(), "the input's channels stay");
        Rescale rescale = (Rescale) t.model().layer("rescale"), pre = (Rescale) t.model().layer("preprocess");
        assertEquals(2f, rescale.scale());
        assertEquals(-0.5f, rescale.offset());
        assertEquals(1f / 127.5f, pre.scale());
        assertEquals(-1f, pre.offset());
        float[] after = outputs(t.model());
        for (int i = 0; i < before.length; i++)
            assertEquals(before[i], after[i], 1e-5 + 1e-5 * Math.abs(before[i]), "output " + i);
    }
}
