package dev.shears.io.keras;

import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.layers.Rescale;
import dev.shears.io.ImportException;
import dev.shears.io.keras.NhwcReference.Img;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import static dev.shears.io.keras.KerasTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Keras' Rescaling layer ({@code x * scale + offset}, Keras 2.6+ and 3) from a Keras 2 config with
 * HDF5 weights: a scalar, a list of equal values and Keras 3's NumPy form all import as one
 * {@link Rescale}; a per-channel list of different values is refused naming the layer and field;
 * the layer is exported as Rescaling to Keras 2 HDF5 and Keras 3 and read back bit-identical.
 */
class KerasRescalingTest {
    static Backend cpu;
    @TempDir Path dir;

    @BeforeAll static void setUp() { cpu = CpuBackend.create(); }

    @AfterAll static void tearDown() { cpu.close(); }

    /** input 4x4x3 pixels; Rescaling; Conv2D 3x3 'valid' to 2 channels; Flatten; Dense 3 */
    private static String config(String scale, String offset) {
        return """
                {"class_name": "Sequential", "keras_version": "2.9.0", "backend": "tensorflow", "config": {"name": "sequential", "layers": [
                 {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4, 4, 3], "dtype": "float32", "sparse": false, "ragged": false, "name": "input_1"}},
                 {"class_name": "Rescaling", "config": {"name": "rescaling", "trainable": true, "dtype": "float32", "scale": %s, "offset": %s}},
                 {"class_name": "Conv2D", "config": {"name": "conv", "trainable": true, "filters": 2, "kernel_size": [3, 3], "strides": [1, 1],
                   "padding": "valid", "data_format": "channels_last", "dilation_rate": [1, 1], "activation": "linear", "use_bias": true}},
                 {"class_name": "Flatten", "config": {"name": "flat", "data_format": "channels_last"}},
                 {"class_name": "Dense", "config": {"name": "fc", "units": 3, "activation": "linear", "use_bias": true}}
                ]}}
                """.formatted(scale, offset);
    }

    private final float[] convK = random(3 * 3 * 3 * 2, 1, 0.5f), convB = random(2, 2, 0.3f);
    private final float[] fcK = random(2 * 2 * 2 * 3, 3, 0.5f), fcB = random(3, 4, 0.3f);

    private Model load(String name, String scale, String offset) throws Exception {
        var w = new KerasH5Writer.Weights()
                .put("conv", "conv/kernel:0", new int[]{3, 3, 3, 2}, convK).put("conv", "conv/bias:0", new int[]{2}, convB)
                .put("fc", "fc/kernel:0", new int[]{8, 3}, fcK).put("fc", "fc/bias:0", new int[]{3}, fcB);
        Path cfg = dir.resolve(name + ".json"), wf = dir.resolve(name + ".h5");
        Files.writeString(cfg, config(scale, offset));
        KerasH5Writer.writeLegacy(wf, w, "2.9.0", "tensorflow");
        return KerasImporter.load(cfg, Optional.of(wf), cpu);
    }

    private float[] reference(float[] x, int n, float scale, float offset) {
        float[] r = new float[x.length];
        for (int i = 0; i < x.length; i++) r[i] = x[i] * scale + offset;
        Img c = NhwcReference.conv(new Img(r, n, 4, 4, 3), convK, convB, 3, 3, 2, 1, 1, 0, 0, 2, 2, 1, 1);
        return NhwcReference.dense(c.d(), n, 8, fcK, fcB, 3);
    }

    private static Rescale rescale(Model m) {
        return (Rescale) m.nodes().stream().filter(nd -> nd.layer() instanceof Rescale).findFirst()
                .orElseThrow(() -> new AssertionError("no Rescale in " + m.nodes())).layer();
    }

    @Test
    void scalarAndEqualListsImportMatchLoopsAndRoundTrip() throws Exception {
        int n = 2;
        float[] x = random(n * 4 * 4 * 3, 5, 1f);
        for (int i = 0; i < x.length; i++) x[i] = (x[i] + 1) * 127.5f;

        Model m = load("scalar", "0.00392156862745098", "0.0"); // 1/255, EfficientNet's
        assertEquals(1f / 255, rescale(m).scale());
        assertEquals(0f, rescale(m).offset());
        assertClose(reference(x, n, 1f / 255, 0f), predict(m, cpu, x, n), 1e-5, 1e-5, "Rescaling(1/255)");

        Model list = load("list", "[0.5, 0.5, 0.5]", "[[-0.25]]");
        assertEquals(0.5f, rescale(list).scale());
        assertEquals(-0.25f, rescale(list).offset());
        assertClose(reference(x, n, 0.5f, -0.25f), predict(list, cpu, x, n), 1e-4, 1e-5, "Rescaling with equal lists");

        Model numpy = load("numpy", "{\"class_name\": \"__numpy__\", \"config\": {\"value\": [2.0, 2.0, 2.0], \"dtype\": \"float32\"}}", "1.5");
        assertEquals(2f, rescale(numpy).scale());
        assertEquals(1.5f, rescale(numpy).offset());

        for (String ext : new String[]{".h5", ".keras"}) {
            Path out = dir.resolve("rescaling_round_trip" + ext);
            KerasExporter.export(list, out);
            Model back = KerasImporter.load(out, Optional.empty(), cpu);
            assertEquals(0.5f, rescale(back).scale(), ext);
            assertEquals(-0.25f, rescale(back).offset(), ext);
            assertArrayEquals(predict(list, cpu, x, n), predict(back, cpu, x, n), "export round trip " + ext);
        }
        KerasConfigWriter writer = new KerasConfigWriter(m, dir.resolve("x.h5"), KerasConfigWriter.Target.KERAS2_HDF5);
        writer.write();
        var written = writer.layers().stream().filter(l -> l.className().equals("Rescaling")).findFirst().orElseThrow();
        assertEquals(1f / 255, written.config().get("scale").floatValue());
        assertEquals(0f, written.config().get("offset").floatValue());
        assertTrue(written.weights().isEmpty());
    }

    @Test
    void perChannelListsAndBadValuesAreRefusedNamingLayerAndField() {
        ImportException e = assertThrows(ImportException.class, () -> load("per_channel", "[0.1, 0.2, 0.3]", "0.0"));
        assertTrue(e.getMessage().contains("Rescaling layer") && e.getMessage().contains("config.scale")
                && e.getMessage().contains("per-channel"), e.getMessage());
        assertEquals("rescaling", e.node());
        ImportException text = assertThrows(ImportException.class, () -> load("text", "1.0", "\"-1\""));
        assertTrue(text.getMessage().contains("config.offset") && text.getMessage().contains("\"-1\""), text.getMessage());
        ImportException big = assertThrows(ImportException.class, () -> load("big", "1e300", "0.0"));
        assertTrue(big.getMessage().contains("config.scale") && big.getMessage().contains("finite"), big.getMessage());
    }
}
