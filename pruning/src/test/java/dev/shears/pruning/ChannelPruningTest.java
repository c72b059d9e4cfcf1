package dev.shears.pruning;

import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.data.Dataset;
import dev.shears.core.nn.Evaluator;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.Parameter;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import dev.shears.pruning.recipe.ChannelStructure;
import dev.shears.pruning.thin.ChannelThinning;
import dev.shears.pruning.thin.ThinnedModel;
import dev.shears.pruning.train.PruningEvent;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** {@link MagnitudePruner#updateChannels}, and channel GMP end to end on Fashion-MNIST followed by thinning. */
class ChannelPruningTest {
    private final Backend be = new CpuBackend(1);
    private final MagnitudePruner pruner = new MagnitudePruner(be);

    /** The channels the test expects to go: the {@code k} smallest L1 norms, equal norms by index. */
    private static List<Integer> smallest(double[] norm, int k) {
        return java.util.stream.IntStream.range(0, norm.length).boxed()
                .sorted(java.util.Comparator.<Integer>comparingDouble(c -> norm[c]).thenComparingInt(c -> c)).limit(k).sorted().toList();
    }

    private static List<Integer> zeroChannels(ChannelLayout l, float[] w) {
        boolean[] z = l.zeroChannels(w);
        List<Integer> out = new ArrayList<>();
        for (int c = 0; c < z.length; c++) if (z[c]) out.add(c);
        return out;
    }

    @Test void removesRoundSCChannelsWithTheSmallestL1NormAsWholes() {
        for (Shape s : List.of(Shape.of(20, 13), Shape.of(13, 3, 3, 3))) {
            Parameter p = TestModels.kernel(be, "k", s, 5);
            ChannelLayout l = ChannelLayout.of(p.name(), s);
            float[] w0 = be.download(p.value());
            double[] norm = l.l1Norms(w0);
            MaskUpdate u = pruner.updateChannels(List.of(p), 0.4);
            int k = (int) Math.round(0.4 * 13); // 5
            float[] w = be.download(p.value());
            assertEquals(smallest(norm, k), zeroChannels(l, w), s.toString());
            byte[] mask = be.downloadBytes(p.mask());
            for (int i = 0; i < w.length; i++) {
                boolean gone = smallest(norm, k).contains(l.channelOf(i));
                assertEquals(gone ? 0 : 1, mask[i], "mask at " + i + " of " + s);
                assertEquals(gone ? 0f : w0[i], w[i], "weight at " + i + " of " + s);
            }
            assertEquals(ChannelStructure.CHANNELS, u.structure());
            assertEquals((double) k / 13, u.layers().getFirst().sparsity(), 1e-12);
            // a lower target later removes nothing and brings nothing back (masks only gain zeros)
            pruner.updateChannels(List.of(p), 0.1);
            assertArrayEquals(mask, be.downloadBytes(p.mask()));
        }
    }

    @Test void equalNormsGoLowerChannelFirstAndALayerKeepsOneChannel() {
        Parameter p = new Parameter("tie", Parameter.Role.KERNEL, Shape.of(2, 6), true);
        // Dense [in 2, out 6]: columns 1, 3, 4 have L1 norm 2, the rest 3
        float[] w = {1, 1, 1, 1, 1, 2, 2, 1, 2, 1, 1, 1};
        p.setValue(be.upload(w, p.shape()));
        pruner.updateChannels(List.of(p), 0.34); // round(2.04) = 2
        assertEquals(List.of(1, 3), zeroChannels(ChannelLayout.of("tie", p.shape()), be.download(p.value())));
        pruner.updateChannels(List.of(p), 0.99); // round(5.94) = 6, capped at 5
        assertEquals(5, zeroChannels(ChannelLayout.of("tie", p.shape()), be.download(p.value())).size());
        assertEquals(5, ChannelStructure.removed(0.99, 6));
    }

    @Test void channelGmpOnFashionMnistKeepsWholeChannelsAndThinsToTheSameModel() {
        FashionMnistGmpRun run = FashionMnistGmpRun.of(be,
                "{type: gmp, structure: channels, initSparsity: 0.1, finalSparsity: 0.5, startEpoch: 0, endEpoch: 2, updateFrequency: 0.5}", "ch");
        Model model = run.model();
        Dataset test = run.test();
        List<PruningEvent> events = run.events();

        assertFalse(events.isEmpty());
        for (PruningEvent e : events) {
            assertEquals(List.of("fc1/kernel", "fc2/kernel"), e.update().layers().stream().map(LayerSparsity::name).toList(),
                    "the output layer fc3 is never channel-pruned");
            for (LayerSparsity l : e.update().layers()) {
                int channels = l.name().startsWith("fc1") ? 300 : 100;
                assertEquals(ChannelStructure.removed(e.update().target(), channels) / (double) channels, l.sparsity(), 1e-12,
                        l.name() + " at step " + e.step());
            }
        }
        assertNull(model.parameter("fc3/kernel").mask());
        // after the training steps that followed the last update, the masked weights are still zero and whole
        for (String name : List.of("fc1/kernel", "fc2/kernel")) {
            Parameter p = model.parameter(name);
            ChannelLayout l = ChannelLayout.of(name, p.shape());
            float[] w = be.download(p.value());
            byte[] mask = be.downloadBytes(p.mask());
            for (int i = 0; i < w.length; i++) if (mask[i] == 0) assertEquals(0f, w[i], name + "[" + i + "] masked but non-zero");
            for (int c = 0; c < l.channels(); c++) {
                int masked = 0;
                for (int k = 0; k < l.span(); k++) masked += mask[l.index(c, k)] == 0 ? 1 : 0;
                assertTrue(masked == 0 || masked == l.span(), name + " channel " + c + " is masked in part: " + masked);
            }
            assertEquals(l.channels() / 2, zeroChannels(l, w).size(), name);
        }

        ThinnedModel t = ChannelThinning.thin(model);
        assertEquals(150, t.removed().get("fc1"));
        assertEquals(50, t.removed().get("fc2"));
        assertEquals(784 * 150 + 150 + 150 * 50 + 50 + 50 * 10 + 10, t.parametersAfter());
        var ctx = ExecContext.inference(be);
        try (Tensor x = be.upload(test.features(), test.sampleShape().withBatch(test.count()))) {
            float[] masked = be.download(model.forward(ctx, x)).clone();
            float[] thin = be.download(t.model().forward(ctx, x));
            for (int i = 0; i < masked.length; i++)
                assertEquals(masked[i], thin[i], 1e-4 + 1e-4 * Math.abs(masked[i]), "logit " + i);
        }
        assertEquals(Evaluator.evaluate(model, test, 100).accuracy(), Evaluator.evaluate(t.model(), test, 100).accuracy(), 1e-9);
    }
}
