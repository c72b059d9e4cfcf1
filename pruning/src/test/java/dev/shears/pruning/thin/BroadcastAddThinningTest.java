package dev.shears.pruning.thin;

import dev.shears.core.backend.Activation;
import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.Parameter;
import dev.shears.core.nn.layers.ActivationLayer;
import dev.shears.core.nn.layers.Add;
import dev.shears.core.nn.layers.Conv2D;
import dev.shears.core.nn.layers.Dense;
import dev.shears.core.nn.layers.GlobalAvgPool2D;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import dev.shears.pruning.ChannelGroup;
import dev.shears.pruning.checkpoint.Checkpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Thinning through a broadcasting Add (a [C, H, W] map plus a [C, 1, 1] per-channel shift computed
 * from it): the Add ties channel c of both inputs, so a channel goes when the map's and the shift's
 * filters are both zero (their constants, summed, folded into the next convolution's bias) and
 * stays when only one is; the thinned model computes what the masked model computes, and the
 * model survives a checkpoint round trip. Channel pruning ties the two producers into one set
 * ({@link ChannelSets}), so it zeroes what thinning can remove.
 */
class BroadcastAddThinningTest {
    private static final Backend BE = new CpuBackend(1);
    private static final Shape INPUT = Shape.of(3, 6, 6);
    @TempDir Path dir;

    private static Model model(long seed) {
        Model m = Model.builder().input("input", INPUT)
                .then(new Conv2D("conv", 3, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true))
                .then(new ActivationLayer("relu", Activation.RELU))
                .then(new GlobalAvgPool2D("squeeze", true))
                .then(new Conv2D("shift", 8, 8, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, true))
                .add(new Add("shifted"), "relu", "shift")
                .then(new Conv2D("pw", 8, 5, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, true))
                .then(new GlobalAvgPool2D("pool", false))
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

    private static void zero(Model m, String param, int from, int to) {
        Parameter p = m.parameter(param);
        float[] v = BE.download(p.value());
        for (int i = from; i < to; i++) v[i] = 0f;
        p.setValue(BE.upload(v, p.shape()));
    }

    private static float[] outputs(Model m) {
        SplittableRandom r = new SplittableRandom(3);
        float[] x = new float[4 * INPUT.intSize()];
        for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextDouble() * 2 - 1);
        try (Tensor t = BE.upload(x, INPUT.withBatch(4))) {
            return BE.download(m.forward(ExecContext.inference(BE), t)).clone();
        }
    }

    private static Conv2D conv(Model m, String name) {
        return (Conv2D) m.nodes().stream().filter(n -> n.name().equals(name)).findFirst().orElseThrow().layer();
    }

    @Test
    void channelPruningTiesTheMapsAndTheShiftsProducersIntoOneSet() {
        Model m = model(1);
        assertEquals(List.of(List.of("conv/kernel", "shift/kernel")),
                ChannelSets.of(m).stream().filter(ChannelGroup::tied).map(ChannelGroup::names).toList());
    }

    @Test
    void aChannelZeroInBothInputsThinsAndOneZeroInTheMapOnlyStays() {
        Model m = model(2);
        zero(m, "conv/kernel", 3 * 27, 4 * 27);   // map channel 3
        zero(m, "shift/kernel", 3 * 8, 4 * 8);    // its shift channel 3: the pair goes
        zero(m, "conv/kernel", 5 * 27, 6 * 27);   // map channel 5 alone: its shift is not constant, the pair stays
        float[] before = outputs(m);
        ThinnedModel t = ChannelThinning.thin(m);
        assertEquals(7, conv(t.model(), "conv").outChannels(), t.removed().toString());
        assertEquals(7, conv(t.model(), "shift").outChannels());
        assertEquals(7, conv(t.model(), "shift").inChannels());
        assertEquals(7, conv(t.model(), "pw").inChannels());
        assertTrue(t.model().nodes().stream().anyMatch(n -> n.layer() instanceof Add && n.inputs().size() == 2));
        float[] after = outputs(t.model());
        assertEquals(before.length, after.length);
        for (int i = 0; i < before.length; i++) assertEquals(before[i], after[i], 1e-5 + 1e-5 * Math.abs(before[i]), "output " + i);

        Path file = dir.resolve("shift.shears");
        new Checkpoint(t.model(), "name: r\nepochs: 1\n", null).write(file);
        assertArrayEquals(after, outputs(Checkpoint.read(file, BE).model()), "checkpoint round trip");
    }
}
