package dev.shears.io.keras;

import com.fasterxml.jackson.databind.JsonNode;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.DoubleUnaryOperator;

import static dev.shears.io.keras.KerasTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The MobileNet/EfficientNet activations through Keras: the ReLU layer's max_value (a capped
 * ReLU), the relu6 / swish / silu / hard_swish / hard_silu activation names, checked against
 * plain-Java arithmetic; their export to Keras 2 HDF5 (which has no hard swish: refused) and to
 * Keras 3 archives (silu, hard_silu), read back.
 */
class KerasMobileActivationsTest {
    static Backend cpu;
    @TempDir Path dir;

    @BeforeAll static void setUp() { cpu = CpuBackend.create(); }

    @AfterAll static void tearDown() { cpu.close(); }

    private static final DoubleUnaryOperator SWISH = v -> v / (1 + Math.exp(-v));
    private static final DoubleUnaryOperator HARD_SWISH = v -> v * Math.min(Math.max(v + 3, 0), 6) / 6;

    private static float[] map(float[] x, DoubleUnaryOperator f) {
        float[] y = new float[x.length];
        for (int i = 0; i < x.length; i++) y[i] = (float) f.applyAsDouble(x[i]);
        return y;
    }

    static final String CONFIG = """
            {"class_name": "Sequential", "keras_version": "2.4.0", "backend": "tensorflow", "config": {"name": "sequential_1", "layers": [
             {"class_name": "Dense", "config": {"name": "d1", "units": 6, "activation": "relu6", "use_bias": true, "batch_input_shape": [null, 5]}},
             {"class_name": "ReLU", "config": {"name": "r", "max_value": 4.0, "negative_slope": 0.0, "threshold": 0.0}},
             {"class_name": "Dense", "config": {"name": "d2", "units": 6, "activation": "swish", "use_bias": true}},
             {"class_name": "Activation", "config": {"name": "s", "activation": "silu"}},
             {"class_name": "Dense", "config": {"name": "d3", "units": 4, "activation": "%s", "use_bias": true}},
             {"class_name": "Activation", "config": {"name": "h", "activation": "%s"}}
            ]}}
            """;

    /** Imports CONFIG with d3's and h's activations, checks it against arithmetic here, returns it. */
    private Model importAndCheck(String d3Activation, String hActivation, DoubleUnaryOperator last, String name) throws Exception {
        float[] k1 = random(30, 1, 1.5f), b1 = random(6, 2, 1f), k2 = random(36, 3, 1f), b2 = random(6, 4, 0.3f);
        float[] k3 = random(24, 5, 2f), b3 = random(4, 6, 0.5f);
        var w = new KerasH5Writer.Weights().put("d1", "d1/kernel:0", new int[]{5, 6}, k1).put("d1", "d1/bias:0", new int[]{6}, b1)
                .put("d2", "d2/kernel:0", new int[]{6, 6}, k2).put("d2", "d2/bias:0", new int[]{6}, b2)
                .put("d3", "d3/kernel:0", new int[]{6, 4}, k3).put("d3", "d3/bias:0", new int[]{4}, b3);
        Path cfg = dir.resolve(name + ".json"), wf = dir.resolve(name + ".h5");
        Files.writeString(cfg, CONFIG.formatted(d3Activation, hActivation));
        KerasH5Writer.writeLegacy(wf, w, "2.4.0", "tensorflow");
        Model m = KerasImporter.load(cfg, Optional.of(wf), cpu);
        int n = 5;
        float[] x = random(n * 5, 7, 3f);
        float[] h = map(NhwcReference.dense(x, n, 5, k1, b1, 6), v -> Math.min(Math.max(v, 0), 6)); // relu6
        h = map(h, v -> Math.min(Math.max(v, 0), 4)); // ReLU(max_value=4)
        h = map(map(NhwcReference.dense(h, n, 6, k2, b2, 6), SWISH), SWISH); // swish, then silu
        float[] z = map(NhwcReference.dense(h, n, 6, k3, b3, 4), last);
        assertClose(z, predict(m, cpu, x, n), 1e-5, 1e-5, name);
        List<Activation> fns = new ArrayList<>();
        for (var l : m.layers()) if (l instanceof ActivationLayer a) fns.add(a.function());
        assertTrue(fns.containsAll(List.of(Activation.RELU_CAPPED, Activation.SWISH)), fns.toString());
        float cap = ((ActivationLayer) m.layer("r")).alpha();
        assertEquals(4f, cap, "ReLU max_value");
        return m;
    }

    @Test
    void keras2NamesAndTheCappedReLULayerRoundTripThroughHdf5AndKeras3() throws Exception {
        // d3 linear and h relu6 (the activation name, not a layer): Keras 2 can hold all of it
        Model m = importAndCheck("linear", "relu6", v -> Math.min(Math.max(v, 0), 6), "keras2");
        int n = 3;
        float[] x = random(n * 5, 8, 3f);
        float[] want = predict(m, cpu, x, n);
        Path h5 = dir.resolve("rt.h5");
        KerasExporter.export(m, h5);
        assertArrayEquals(want, predict(KerasImporter.load(h5, Optional.empty(), cpu), cpu, x, n), "HDF5 round trip");
        Path k3 = dir.resolve("rt.keras");
        KerasExporter.export(m, k3);
        assertArrayEquals(want, predict(KerasImporter.load(k3, Optional.empty(), cpu), cpu, x, n), "Keras 3 round trip");
    }

    @Test
    void hardSwishNamesImportAndExportToKeras3Only() throws Exception {
        for (String[] names : new String[][]{{"hard_swish", "linear"}, {"linear", "hard_silu"}}) {
            Model m = importAndCheck(names[0], names[1], HARD_SWISH, names[0] + "_" + names[1]);
            float[] x = random(3 * 5, 9, 3f);
            Path k3 = dir.resolve(names[0] + ".keras");
            KerasExporter.export(m, k3);
            assertArrayEquals(predict(m, cpu, x, 3), predict(KerasImporter.load(k3, Optional.empty(), cpu), cpu, x, 3), "Keras 3 round trip");
            Path h5 = dir.resolve(names[0] + ".h5");
            ImportException e = assertThrows(ImportException.class, () -> KerasExporter.export(m, h5));
            assertEquals(h5, e.file());
            assertNotNull(e.node(), "the refusal names the layer");
            assertTrue(e.getMessage().contains("hard swish") && e.getMessage().contains(".keras") && e.getMessage().contains("ONNX"), e.getMessage());
            assertFalse(Files.exists(h5), "nothing written");
        }
    }

    @Test
    void theConfigWriterRefusesHardSwishForAKeras2TargetWhereItWritesTheActivation() {
        Model m = Model.builder().input("x", Shape.of(6))
                .then(new Dense("fc", 6, 8, true))
                .then(new ActivationLayer("hswish", Activation.HARD_SWISH))
                .then(new Dense("fc2", 8, 2, true))
                .build().bind(cpu, 4);
        Path h5 = dir.resolve("w.h5");
        KerasConfigWriter keras2 = new KerasConfigWriter(m, h5, KerasConfigWriter.Target.KERAS2_HDF5);
        ImportException e = assertThrows(ImportException.class, keras2::write);
        assertEquals(h5, e.file());
        assertEquals("hswish", e.node());
        assertTrue(e.getMessage().contains("Keras 2 (tf.keras HDF5) has no hard swish") && e.getMessage().contains(".keras")
                && e.getMessage().contains("ONNX"), e.getMessage());
        assertFalse(keras2.layers().stream().anyMatch(l -> l.name().equals("fc2")), "the writer stops at the hard swish");
        assertFalse(Files.exists(h5), "nothing written");
        // the same model for a Keras 3 archive writes hard_silu
        KerasConfigWriter keras3 = new KerasConfigWriter(m, dir.resolve("w.keras"), KerasConfigWriter.Target.KERAS3_ARCHIVE);
        keras3.write();
        assertEquals(List.of("hard_silu"), keras3.layers().stream().filter(l -> l.name().equals("hswish"))
                .map(l -> l.config().path("activation").asText()).toList());
    }

    @Test
    void exportWritesReLUWithMaxValueSiluAndHardSilu() throws Exception {
        Model m = Model.builder().input("x", Shape.of(6))
                .then(new Dense("fc", 6, 8, true))
                .then(new ActivationLayer("relu6", Activation.RELU_CAPPED))
                .then(new Dense("fc2", 8, 8, true))
                .then(new ActivationLayer("clip", Activation.RELU_CAPPED, 1.5f))
                .then(new Dense("fc3", 8, 8, true))
                .then(new ActivationLayer("swish", Activation.SWISH))
                .then(new Dense("fc4", 8, 8, true))
                .then(new ActivationLayer("hswish", Activation.HARD_SWISH))
                .build().bind(cpu, 3);
        Path k3 = dir.resolve("mobile.keras");
        KerasExporter.export(m, k3);
        JsonNode layers = KerasArchiveExporterTest.configOf(k3).get("config").get("layers");
        java.util.Map<String, JsonNode> byName = new java.util.HashMap<>();
        for (JsonNode l : layers) byName.put(l.get("name").asText(), l);
        assertEquals("ReLU", byName.get("relu6").get("class_name").asText());
        assertEquals(6.0, byName.get("relu6").get("config").get("max_value").asDouble());
        assertEquals(0.0, byName.get("relu6").get("config").get("negative_slope").asDouble());
        assertEquals(1.5, byName.get("clip").get("config").get("max_value").asDouble());
        assertEquals("silu", byName.get("swish").get("config").get("activation").asText());
        assertEquals("hard_silu", byName.get("hswish").get("config").get("activation").asText());
        float[] x = random(4 * 6, 10, 4f);
        Model back = KerasImporter.load(k3, Optional.empty(), cpu);
        assertArrayEquals(predict(m, cpu, x, 4), predict(back, cpu, x, 4), "Keras 3 round trip");
        assertEquals(1.5f, ((ActivationLayer) back.layer("clip")).alpha());
        assertEquals(Activation.HARD_SWISH, ((ActivationLayer) back.layer("hswish")).function());
    }

    @Test
    void reluLayerFormsShearsCannotHoldAreRefused() throws Exception {
        String[][] cases = {
                {"\"max_value\": 6.0, \"negative_slope\": 0.1, \"threshold\": 0.0", "negative_slope"},
                {"\"max_value\": 0.0, \"negative_slope\": 0.0, \"threshold\": 0.0", "cap above 0"},
                {"\"max_value\": 6.0, \"negative_slope\": 0.0, \"threshold\": 1.0", "threshold"}};
        for (String[] c : cases) {
            String cfgText = """
                    {"class_name": "Sequential", "keras_version": "2.4.0", "backend": "tensorflow", "config": {"name": "s", "layers": [
                     {"class_name": "Dense", "config": {"name": "d", "units": 3, "activation": "linear", "use_bias": false, "batch_input_shape": [null, 2]}},
                     {"class_name": "ReLU", "config": {"name": "capped", %s}}
                    ]}}
                    """.formatted(c[0]);
            Path cfg = dir.resolve("bad.json"), wf = dir.resolve("bad.h5");
            Files.writeString(cfg, cfgText);
            KerasH5Writer.writeLegacy(wf, new KerasH5Writer.Weights().put("d", "d/kernel:0", new int[]{2, 3}, random(6, 1, 1f)), "2.4.0", "tensorflow");
            ImportException e = assertThrows(ImportException.class, () -> KerasImporter.load(cfg, Optional.of(wf), cpu));
            assertEquals("capped", e.node());
            assertTrue(e.getMessage().contains(c[1]), e.getMessage());
        }
    }
}
