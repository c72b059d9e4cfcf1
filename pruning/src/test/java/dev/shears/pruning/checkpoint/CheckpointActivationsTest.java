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

    private float[] out(Model m, float[] x) {
        return be.download(m.forward(ExecContext.inference(be), be.upload(x, Shape.of(4, 5))));
    }
}
