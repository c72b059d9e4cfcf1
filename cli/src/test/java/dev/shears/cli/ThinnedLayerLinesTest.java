package dev.shears.cli;

import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.layers.Dense;
import dev.shears.core.tensor.Shape;
import dev.shears.pruning.thin.ChannelThinning;
import dev.shears.pruning.thin.ThinnedModel;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** export --thin and eval --thin list the thinned layers in the model's order, one line each, not as a map in name order. */
class ThinnedLayerLinesTest {

    /** Zeroes output channel {@code channel} of Dense {@code d} (kernel [in, out]: column {@code channel}). */
    private static void zeroChannel(Model m, Dense d, int channel) {
        float[] w = m.backend().download(d.kernel().value());
        for (int i = 0; i < d.inFeatures(); i++) w[i * d.outFeatures() + channel] = 0f;
        m.backend().write(w, 0, d.kernel().value(), 0, w.length);
    }

    @Test void layersComeInModelOrderNotNameOrder() {
        try (CpuBackend be = CpuBackend.create()) {
            Dense n3 = new Dense("n3", 8, 6, false), n10 = new Dense("n10", 6, 5, false);
            Model m = Model.builder().input("x", Shape.of(8)).then(n3).then(n10).then(new Dense("n12", 5, 3, false)).build().bind(be, 3);
            zeroChannel(m, n3, 0);
            zeroChannel(m, n3, 4);
            zeroChannel(m, n10, 1);
            ThinnedModel t = ChannelThinning.thin(m);
            assertEquals(List.of("n10", "n3"), List.copyOf(t.removed().keySet()), "the map is in name order");
            assertEquals(List.of("  n3 (Dense): 6 -> 4 output channels", "  n10 (Dense): 5 -> 4 output channels"),
                    ThinningReport.layerLines(m, t));
        }
    }
}
