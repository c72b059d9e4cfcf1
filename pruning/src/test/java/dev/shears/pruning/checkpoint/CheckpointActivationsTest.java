package dev.shears.pruning.checkpoint;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.core.backend.Activation;
import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.layers.ActivationLayer;
import dev.shears.core.nn.layers.Dense;
import dev.shears.core.tensor.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The MobileNet/EfficientNet activations survive a checkpoint: function, the capped ReLU's cap, and the outputs. */
class CheckpointActivationsTest {
    final Backend be = CpuBackend.create();

    @Test
    void cappedReluHardSwishAndSwishRoundTrip(@TempDir Path dir) throws Exception {
        Model m = Model.builder().input("x", Shape.of(5))
                .then(new Dense("fc1", 5, 6, true)).then(new ActivationLayer("clip", Activation.RELU_CAPPED, 2.5f))
                .then(new Dense("fc2", 6, 6, true)).then(new ActivationLayer("hswish", Activation.HARD_SWISH))
                .then(new Dense("fc3", 6, 3, true)).then(new ActivationLayer("swish", Activation.SWISH))
                .build().bind(be, 5);
        Path file = dir.resolve("m.shears");
        new Checkpoint(m, "name: r\n", new ObjectMapper().createObjectNode()).write(file);
        Model back = Checkpoint.read(file, be).model();
        ActivationLayer clip = (ActivationLayer) back.layer("clip");
        assertEquals(Activation.RELU_CAPPED, clip.function());
        assertEquals(2.5f, clip.alpha());
        assertEquals(Activation.HARD_SWISH, ((ActivationLayer) back.layer("hswish")).function());
        assertEquals(Activation.SWISH, ((ActivationLayer) back.layer("swish")).function());
        float[] x = new float[4 * 5];
        SplittableRandom r = new SplittableRandom(1);
        for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextDouble() * 8 - 4);
        assertArrayEquals(out(m, x), out(back, x));
    }

    /** HARD_SIGMOID's slope and offset survive a checkpoint: Keras 2's, Keras 3's 1/6, 0.5 and a negative slope. */
    @Test
    void hardSigmoidSlopeAndOffsetRoundTrip(@TempDir Path dir) throws Exception {
        Model m = hardSigmoids();
        Path file = dir.resolve("m.shears");
        new Checkpoint(m, null, null).write(file);
        Model back = Checkpoint.read(file, be).model();
        for (String[] l : new String[][] {{"k2", "0.2", "0.5"}, {"k3", "" + (1f / 6), "0.5"}, {"neg", "-0.4", "0.3"}}) {
            ActivationLayer a = (ActivationLayer) back.layer(l[0]);
            assertEquals(Activation.HARD_SIGMOID, a.function(), l[0]);
            assertEquals(Float.parseFloat(l[1]), a.alpha(), l[0] + " slope");
            assertEquals(Float.parseFloat(l[2]), a.beta(), l[0] + " offset");
        }
        float[] x = new float[4 * 5];
        SplittableRandom r = new SplittableRandom(2);
        for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextDouble() * 8 - 4);
        assertArrayEquals(out(m, x), out(back, x));
    }

    /**
     * A file from before hard sigmoid took parameters has no "beta" and slope 0: it loads as Keras
     * 2's 0.2x + 0.5, as it computed then. Without "beta", any other slope is refused by path.
     */
    @Test
    void aHardSigmoidWithoutOffsetIsKeras2sOrRefused(@TempDir Path dir) throws Exception {
        Model m = Model.builder().input("x", Shape.of(5)).then(new ActivationLayer("hs", Activation.HARD_SIGMOID)).build().bind(be, 4);
        Path file = dir.resolve("m.shears"), old = dir.resolve("old.shears"), bad = dir.resolve("bad.shears");
        new Checkpoint(m, null, null).write(file);
        java.util.regex.Pattern params = java.util.regex.Pattern.compile("\"alpha\"\\s*:\\s*0\\.2\\d*\\s*,\\s*\"beta\"\\s*:\\s*0\\.5");
        CheckpointTest.rewriteEntry(file, old, "model.json", t -> {
            assertTrue(params.matcher(t).find(), t);
            return params.matcher(t).replaceFirst("\"alpha\" : 0.0");
        });
        ActivationLayer a = (ActivationLayer) Checkpoint.read(old, be).model().layer("hs");
        assertEquals(0.2f, a.alpha());
        assertEquals(0.5f, a.beta());
        CheckpointTest.rewriteEntry(file, bad, "model.json", t -> params.matcher(t).replaceFirst("\"alpha\" : 0.25"));
        var e = assertThrows(CheckpointException.class, () -> Checkpoint.read(bad, be));
        assertTrue(e.getMessage().contains(".beta' is missing: a HARD_SIGMOID with slope 0.25 needs its offset"), e.getMessage());
    }

    private Model hardSigmoids() {
        return Model.builder().input("x", Shape.of(5))
                .then(new Dense("fc1", 5, 6, true)).then(new ActivationLayer("k2", Activation.HARD_SIGMOID))
                .then(new Dense("fc2", 6, 6, true)).then(new ActivationLayer("k3", Activation.HARD_SIGMOID, 1f / 6, 0.5f))
                .then(new Dense("fc3", 6, 3, true)).then(new ActivationLayer("neg", Activation.HARD_SIGMOID, -0.4f, 0.3f))
                .build().bind(be, 5);
    }

    private float[] out(Model m, float[] x) {
        return be.download(m.forward(ExecContext.inference(be), be.upload(x, Shape.of(4, 5))));
    }
}
