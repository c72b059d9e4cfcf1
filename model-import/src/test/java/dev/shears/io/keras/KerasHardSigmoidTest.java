package dev.shears.io.keras;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.core.backend.Activation;
import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.layers.ActivationLayer;
import dev.shears.core.nn.layers.Dense;
import dev.shears.core.tensor.Shape;
import dev.shears.io.ImportException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.function.DoubleUnaryOperator;
import java.util.zip.ZipFile;

import static dev.shears.io.keras.KerasTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * hard_sigmoid means two functions: Keras 2's clip(0.2x + 0.5, 0, 1) and Keras 3's relu6(x + 3) / 6
 * = clip(x/6 + 0.5, 0, 1). Keras 3 archives import it as slope 1/6 (activation name on a Dense and
 * the Activation layer), checked against arithmetic here; Keras 2 files keep 0.2 (KerasSmallLayersTest
 * checks their outputs). Export writes hard_sigmoid only to the Keras version whose function it is,
 * and refuses the rest naming the layer and the slope and offset.
 */
class KerasHardSigmoidTest {
    static Backend cpu;
    @TempDir Path dir;

    @BeforeAll static void setUp() { cpu = CpuBackend.create(); }

    @AfterAll static void tearDown() { cpu.close(); }

    private static final DoubleUnaryOperator KERAS3 = v -> Math.min(Math.max(v + 3, 0), 6) / 6;

    private static float[] map(float[] x, DoubleUnaryOperator f) {
        float[] y = new float[x.length];
        for (int i = 0; i < x.length; i++) y[i] = (float) f.applyAsDouble(x[i]);
        return y;
    }

    private static String activationLayer(String name, String activation, String from, int features) {
        return """
                {"module": "keras.layers", "class_name": "Activation", "config": {"name": "%s", "trainable": true, "dtype": "float32", "activation": "%s"},
                 "registered_name": null, "name": "%s",
                 "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"shape": [null, %d], "dtype": "float32", "keras_history": ["%s", 0, 0]}}], "kwargs": {}}]}
                """.formatted(name, activation, name, features, from);
    }

    /** input [5] -> Dense d1 (4, linear) -> Activation act (hard_sigmoid) -> Dense d2 (3, hard_sigmoid): a Keras 3 archive. */
    @Test
    void keras3HardSigmoidIsReLU6OfXPlus3OverSix() throws Exception {
        String config = """
                {"module": "keras.src.models.functional", "class_name": "Functional", "config": {"name": "functional", "trainable": true, "layers": [
                 {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [null, 5], "dtype": "float32", "sparse": false, "name": "input_layer"}, "registered_name": null, "name": "input_layer", "inbound_nodes": []},
                 %s, %s, %s],
                 "input_layers": ["input_layer", 0, 0], "output_layers": ["d2", 0, 0]},
                 "registered_name": "Functional", "build_config": {"input_shape": null}}
                """.formatted(Keras3ArchiveTest.dense("d1", 4, "linear", "input_layer", 5), activationLayer("act", "hard_sigmoid", "d1", 4),
                Keras3ArchiveTest.dense("d2", 3, "hard_sigmoid", "act", 4));
        // weights large enough that both layers' inputs cross -3 and 3
        float[] k1 = random(20, 1, 3f), b1 = random(4, 2, 1f), k2 = random(12, 3, 8f), b2 = random(3, 4, 1f);
        var w = new KerasH5Writer.Weights().put("d1", "kernel", new int[]{5, 4}, k1).put("d1", "bias", new int[]{4}, b1)
                .put("d2", "kernel", new int[]{4, 3}, k2).put("d2", "bias", new int[]{3}, b2);
        Path archive = Keras3ArchiveTest.archive(dir, "hs3", config, w);
        Model m = KerasImporter.load(archive, Optional.empty(), cpu);
        int n = 6;
        float[] x = random(n * 5, 5, 3f);
        float[] h = map(NhwcReference.dense(x, n, 5, k1, b1, 4), KERAS3);
        float[] z = NhwcReference.dense(h, n, 4, k2, b2, 3);
        float[] want = map(z, KERAS3);
        assertClose(want, predict(m, cpu, x, n), 1e-6, 1e-6, "Keras 3 hard_sigmoid");
        int below = 0, above = 0;
        for (float v : z) { if (v <= -3) below++; if (v >= 3) above++; }
        assertTrue(below > 0 && above > 0, "the test's inputs cross both kinks: " + below + " below, " + above + " above");
        List<ActivationLayer> hs = m.layers().stream().filter(l -> l instanceof ActivationLayer a && a.function() == Activation.HARD_SIGMOID)
                .map(l -> (ActivationLayer) l).toList();
        assertEquals(2, hs.size(), m.layers().toString());
        for (ActivationLayer a : hs) {
            assertEquals(1f / 6, a.alpha(), a.name());
            assertEquals(0.5f, a.beta(), a.name());
        }
    }

    private Model model(float alpha, float beta) {
        Model m = Model.builder().input("x", Shape.of(4)).then(new Dense("fc", 4, 5, true))
                .then(new ActivationLayer("gate", Activation.HARD_SIGMOID, alpha, beta)).build().bind(cpu, 3);
        for (var p : m.parameters()) { // inputs to the gate across both kinks
            float[] v = cpu.download(p.value());
            for (int i = 0; i < v.length; i++) v[i] *= 8;
            cpu.copy(cpu.upload(v, p.value().shape()), p.value());
        }
        return m;
    }

    @Test
    void keras3sHardSigmoidExportsToKeras3AsHardSigmoidAndIsRefusedForHdf5() throws Exception {
        Model m = model(1f / 6, 0.5f);
        Path k3 = dir.resolve("hs.keras");
        KerasExporter.export(m, k3);
        try (ZipFile z = new ZipFile(k3.toFile())) {
            JsonNode cfg = new ObjectMapper().readTree(z.getInputStream(z.getEntry("config.json")));
            JsonNode gate = null;
            for (JsonNode l : cfg.path("config").path("layers")) if (l.path("name").asText().equals("gate")) gate = l;
            assertNotNull(gate, cfg.toString());
            assertEquals("Activation", gate.path("class_name").asText());
            assertEquals("hard_sigmoid", gate.path("config").path("activation").asText());
        }
        float[] x = random(3 * 4, 11, 2f);
        float[] want = predict(m, cpu, x, 3);
        Model back = KerasImporter.load(k3, Optional.empty(), cpu);
        assertArrayEquals(want, predict(back, cpu, x, 3), "Keras 3 round trip");
        ActivationLayer gate = (ActivationLayer) back.layer("gate");
        assertEquals(1f / 6, gate.alpha());
        assertEquals(0.5f, gate.beta());

        Path h5 = dir.resolve("hs.h5");
        ImportException e = assertThrows(ImportException.class, () -> KerasExporter.export(m, h5));
        assertEquals(h5, e.file());
        assertEquals("gate", e.node());
        assertTrue(e.getMessage().contains("slope 1/6, offset 0.5") && e.getMessage().contains("not Keras 2's hard_sigmoid")
                && e.getMessage().contains(".keras") && e.getMessage().contains("ONNX"), e.getMessage());
        assertFalse(Files.exists(h5), "nothing written");
    }

    @Test
    void keras2sHardSigmoidExportsToHdf5AndIsRefusedForKeras3() throws Exception {
        Model m = model(0.2f, 0.5f);
        Path h5 = dir.resolve("hs.h5");
        KerasExporter.export(m, h5);
        float[] x = random(3 * 4, 12, 2f);
        Model back = KerasImporter.load(h5, Optional.empty(), cpu);
        assertArrayEquals(predict(m, cpu, x, 3), predict(back, cpu, x, 3), "HDF5 round trip");
        assertEquals(0.2f, ((ActivationLayer) back.layer("gate")).alpha());

        Path k3 = dir.resolve("hs.keras");
        ImportException e = assertThrows(ImportException.class, () -> KerasExporter.export(m, k3));
        assertEquals("gate", e.node());
        assertTrue(e.getMessage().contains("slope 0.2, offset 0.5") && e.getMessage().contains("not Keras 3's hard_sigmoid")
                && e.getMessage().contains(".h5") && e.getMessage().contains("ONNX"), e.getMessage());
        assertFalse(Files.exists(k3), "nothing written");
    }

    @Test
    void anyOtherSlopeOrOffsetIsRefusedForBothNamingTheValues() {
        for (float[] ab : new float[][]{{0.25f, 0.4f}, {1f / 6, 0.25f}, {-0.2f, 0.5f}}) {
            Model m = model(ab[0], ab[1]);
            for (String name : new String[]{"hs.h5", "hs.keras"}) {
                Path out = dir.resolve(name);
                ImportException e = assertThrows(ImportException.class, () -> KerasExporter.export(m, out));
                assertEquals("gate", e.node(), name);
                assertEquals(out, e.file(), name);
                assertTrue(e.getMessage().contains("slope " + ab[0] + ", offset " + ab[1]) && e.getMessage().contains("no Keras activation")
                        && e.getMessage().contains("ONNX"), e.getMessage());
                assertFalse(Files.exists(out), "nothing written");
            }
        }
    }
}
