package dev.shears.io.keras;

import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.layers.Multiply;
import dev.shears.io.ImportException;
import dev.shears.io.keras.NhwcReference.Img;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static dev.shears.io.keras.KerasTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Squeeze-and-excitation as Keras writes it, on hand-written configs checked against plain NHWC
 * loops: EfficientNet's (GlobalAveragePooling2D, Reshape((1, 1, C)), Conv2D 1x1 relu, Conv2D 1x1
 * sigmoid, multiply([x, se])) and the Dense form (GlobalAveragePooling2D, Dense, Dense sigmoid,
 * Reshape((1, 1, C)), multiply([se, x])) from Keras 2 HDF5; MobileNetV3's
 * GlobalAveragePooling2D(keepdims=True) gate from a Keras 3 archive; the broadcast Multiply
 * exported to Keras 2 HDF5 and Keras 3 and read back bit-identical; other broadcasts refused.
 */
class KerasSqueezeExcitationTest {
    static Backend cpu;
    @TempDir Path dir;

    @BeforeAll static void setUp() { cpu = CpuBackend.create(); }

    @AfterAll static void tearDown() { cpu.close(); }

    private static final int H = 5, W = 6, C = 8, R = 4, OUT = 3;

    private static String layer(String name, String cls, String config, String... from) {
        StringBuilder in = new StringBuilder();
        for (String f : from) in.append(in.isEmpty() ? "" : ", ").append("[\"").append(f).append("\", 0, 0, {}]");
        return "{\"name\": \"%s\", \"class_name\": \"%s\", \"config\": {\"name\": \"%s\", \"trainable\": true%s}, \"inbound_nodes\": [[%s]]}"
                .formatted(name, cls, name, config.isEmpty() ? "" : ", " + config, in);
    }

    private static String conv(int filters, int k, String act) {
        return "\"filters\": %d, \"kernel_size\": [%d, %d], \"strides\": [1, 1], \"padding\": \"same\", \"data_format\": \"channels_last\", \"dilation_rate\": [1, 1], \"activation\": \"%s\", \"use_bias\": true"
                .formatted(filters, k, k, act);
    }

    // c: 3x3 conv relu (5x6x8); SE 1 (EfficientNet): gap, reshape (1,1,8), 1x1 conv relu to 4, 1x1 conv sigmoid to 8, multiply([c, e1]);
    // SE 2 (Dense): gap, dense relu 4, dense sigmoid 8, reshape (1,1,8), multiply([r2, m1]); flatten; dense 3
    static final String KERAS2 = """
            {"class_name": "Model", "keras_version": "2.2.4", "backend": "tensorflow", "config": {"name": "se", "layers": [
             {"name": "input_1", "class_name": "InputLayer", "config": {"batch_input_shape": [null, 5, 6, 8], "dtype": "float32", "sparse": false, "name": "input_1"}, "inbound_nodes": []},
             %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s
            ], "input_layers": [["input_1", 0, 0]], "output_layers": [["fc", 0, 0]]}}
            """.formatted(
            layer("c", "Conv2D", conv(C, 3, "relu"), "input_1"),
            layer("g1", "GlobalAveragePooling2D", "\"data_format\": \"channels_last\"", "c"),
            layer("r1", "Reshape", "\"target_shape\": [1, 1, 8]", "g1"),
            layer("s1", "Conv2D", conv(R, 1, "relu"), "r1"),
            layer("e1", "Conv2D", conv(C, 1, "sigmoid"), "s1"),
            layer("m1", "Multiply", "", "c", "e1"),
            layer("g2", "GlobalAveragePooling2D", "\"data_format\": \"channels_last\"", "m1"),
            layer("d1", "Dense", "\"units\": 4, \"activation\": \"relu\", \"use_bias\": true", "g2"),
            layer("d2", "Dense", "\"units\": 8, \"activation\": \"sigmoid\", \"use_bias\": true", "d1"),
            layer("r2", "Reshape", "\"target_shape\": [1, 1, 8]", "d2"),
            layer("m2", "Multiply", "", "r2", "m1"),
            layer("fl", "Flatten", "", "m2"),
            layer("fc", "Dense", "\"units\": 3, \"activation\": \"linear\", \"use_bias\": true", "fl"));

    static float[] sigmoid(float[] x) {
        float[] y = new float[x.length];
        for (int i = 0; i < x.length; i++) y[i] = (float) (1 / (1 + Math.exp(-x[i])));
        return y;
    }

    /** x (NHWC) times gate [n, c] broadcast over H and W. */
    static Img gate(Img x, float[] g) {
        float[] out = new float[x.d().length];
        for (int i = 0; i < out.length; i++) out[i] = x.d()[i] * g[(i / (x.h() * x.w() * x.c())) * x.c() + i % x.c()];
        return new Img(out, x.n(), x.h(), x.w(), x.c());
    }

    @Test
    void keras2ConvAndDenseGatesMatchLoopsAndRoundTrip() throws Exception {
        float[] cK = random(3 * 3 * C * C, 1, 0.3f), cB = random(C, 2, 0.2f);
        float[] s1K = random(C * R, 3, 1f), s1B = random(R, 4, 0.5f), e1K = random(R * C, 5, 1f), e1B = random(C, 6, 0.5f);
        float[] d1K = random(C * R, 7, 1f), d1B = random(R, 8, 0.5f), d2K = random(R * C, 9, 1f), d2B = random(C, 10, 0.5f);
        float[] fcK = random(H * W * C * OUT, 11, 0.2f), fcB = random(OUT, 12, 0.2f);
        var w = new KerasH5Writer.Weights()
                .put("c", "c/kernel:0", new int[]{3, 3, C, C}, cK).put("c", "c/bias:0", new int[]{C}, cB)
                .put("s1", "s1/kernel:0", new int[]{1, 1, C, R}, s1K).put("s1", "s1/bias:0", new int[]{R}, s1B)
                .put("e1", "e1/kernel:0", new int[]{1, 1, R, C}, e1K).put("e1", "e1/bias:0", new int[]{C}, e1B)
                .put("d1", "d1/kernel:0", new int[]{C, R}, d1K).put("d1", "d1/bias:0", new int[]{R}, d1B)
                .put("d2", "d2/kernel:0", new int[]{R, C}, d2K).put("d2", "d2/bias:0", new int[]{C}, d2B)
                .put("fc", "fc/kernel:0", new int[]{H * W * C, OUT}, fcK).put("fc", "fc/bias:0", new int[]{OUT}, fcB);
        Path cfg = dir.resolve("se.json"), wf = dir.resolve("se.h5");
        Files.writeString(cfg, KERAS2);
        KerasH5Writer.writeLegacy(wf, w, "2.2.4", "tensorflow");
        Model m = KerasImporter.load(cfg, Optional.of(wf), cpu);

        int n = 2;
        float[] x = random(n * H * W * C, 13, 1f);
        Img c = NhwcReference.conv(new Img(x, n, H, W, C), cK, cB, 3, 3, C, 1, 1, 1, 1, H, W, 1, 1);
        c = new Img(NhwcReference.relu(c.d()), n, H, W, C);
        float[] s1 = NhwcReference.relu(NhwcReference.dense(NhwcReference.globalAvg(c), n, C, s1K, s1B, R));
        Img m1 = gate(c, sigmoid(NhwcReference.dense(s1, n, R, e1K, e1B, C)));
        float[] d1 = NhwcReference.relu(NhwcReference.dense(NhwcReference.globalAvg(m1), n, C, d1K, d1B, R));
        Img m2 = gate(m1, sigmoid(NhwcReference.dense(d1, n, R, d2K, d2B, C)));
        float[] want = NhwcReference.dense(m2.d(), n, H * W * C, fcK, fcB, OUT);
        assertClose(want, predict(m, cpu, x, n), 1e-5, 1e-5, "two SE gates");
        assertEquals(2, m.nodes().stream().filter(nd -> nd.layer() instanceof Multiply).count(), m.nodes().toString());

        for (String ext : new String[]{".h5", ".keras"}) {
            Path out = dir.resolve("se_round_trip" + ext);
            KerasExporter.export(m, out);
            Model back = KerasImporter.load(out, Optional.empty(), cpu);
            assertEquals(m.parameters().size(), back.parameters().size(), ext);
            for (int i = 0; i < m.parameters().size(); i++)
                assertArrayEquals(cpu.download(m.parameters().get(i).value()), cpu.download(back.parameters().get(i).value()),
                        ext + ": " + m.parameters().get(i).name());
            assertArrayEquals(predict(m, cpu, x, n), predict(back, cpu, x, n), "export round trip " + ext);
        }
        KerasConfigWriter writer = new KerasConfigWriter(m, dir.resolve("x.h5"), KerasConfigWriter.Target.KERAS2_HDF5);
        writer.write();
        List<KerasConfigWriter.KerasLayer> muls = writer.layers().stream().filter(l -> l.className().equals("Multiply")).toList();
        assertEquals(2, muls.size());
        for (var mul : muls) // channels_last (H, W, C) by (1, 1, C), in the model's input order
            assertEquals(List.of(List.of(H, W, C), List.of(1, 1, C)), mul.inputDims().stream()
                    .map(d -> java.util.Arrays.stream(d).boxed().toList()).sorted((a, b) -> b.get(0) - a.get(0)).toList());
    }

    @Test
    void keras3KeepdimsGateMatchesLoops() throws Exception {
        String k3 = """
                {"module": "keras.src.models.functional", "class_name": "Functional", "config": {"name": "functional", "trainable": true, "layers": [
                 {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [null, 5, 6, 8], "dtype": "float32", "sparse": false, "name": "input_layer"}, "registered_name": null, "name": "input_layer", "inbound_nodes": []},
                 %s, %s, %s, %s, %s],
                 "input_layers": ["input_layer", 0, 0], "output_layers": ["head", 0, 0]},
                 "registered_name": "Functional", "build_config": {"input_shape": null}, "compile_config": null}
                """.formatted(
                KerasMobileLayersTest.k3("GlobalAveragePooling2D", "squeeze", "\"data_format\": \"channels_last\", \"keepdims\": true", "input_layer", null),
                KerasMobileLayersTest.k3("Conv2D", "reduce", conv(R, 1, "relu"), "squeeze", "[null, 1, 1, 8]"),
                KerasMobileLayersTest.k3("Conv2D", "expand", conv(C, 1, "sigmoid"), "reduce", "[null, 1, 1, 4]"),
                k3Multiply("excite", "expand", "[null, 1, 1, 8]", "input_layer", "[null, 5, 6, 8]"),
                KerasMobileLayersTest.k3("GlobalAveragePooling2D", "head", "\"data_format\": \"channels_last\"", "excite", null));
        float[] rK = random(C * R, 21, 1f), rB = random(R, 22, 0.5f), eK = random(R * C, 23, 1f), eB = random(C, 24, 0.5f);
        var w = new KerasH5Writer.Weights()
                .put("conv2d", "kernel", new int[]{1, 1, C, R}, rK).put("conv2d", "bias", new int[]{R}, rB)
                .put("conv2d_1", "kernel", new int[]{1, 1, R, C}, eK).put("conv2d_1", "bias", new int[]{C}, eB);
        Path archive = Keras3ArchiveTest.archive(dir, "se3", k3, w);
        Model m = KerasImporter.load(archive, Optional.empty(), cpu);
        int n = 2;
        float[] x = random(n * H * W * C, 25, 1f);
        Img in = new Img(x, n, H, W, C);
        float[] r = NhwcReference.relu(NhwcReference.dense(NhwcReference.globalAvg(in), n, C, rK, rB, R));
        float[] want = NhwcReference.globalAvg(gate(in, sigmoid(NhwcReference.dense(r, n, R, eK, eB, C))));
        assertClose(want, predict(m, cpu, x, n), 1e-5, 1e-5, "Keras 3 GlobalAveragePooling2D(keepdims=True) gate, gate first");
    }

    /** A Keras 3 Multiply node of two inputs (the k3 helper writes one). */
    private static String k3Multiply(String name, String a, String aShape, String b, String bShape) {
        String tensor = "{\"class_name\": \"__keras_tensor__\", \"config\": {\"shape\": %s, \"dtype\": \"float32\", \"keras_history\": [\"%s\", 0, 0]}}";
        return """
                {"module": "keras.layers", "class_name": "Multiply", "config": {"name": "%s", "trainable": true,
                  "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": null}},
                 "registered_name": null, "build_config": {"input_shape": [%s, %s]}, "name": "%s",
                 "inbound_nodes": [{"args": [[%s, %s]], "kwargs": {}}]}
                """.formatted(name, aShape, bShape, name, tensor.formatted(aShape, a), tensor.formatted(bShape, b));
    }

    @Test
    void otherBroadcastsAreRefusedNamingLayerAndShapes() throws Exception {
        String cfg = """
                {"class_name": "Model", "keras_version": "2.2.4", "backend": "tensorflow", "config": {"name": "bad", "layers": [
                 {"name": "input_1", "class_name": "InputLayer", "config": {"batch_input_shape": [null, 5, 6, 8], "dtype": "float32", "sparse": false, "name": "input_1"}, "inbound_nodes": []},
                 %s, %s, %s, %s
                ], "input_layers": [["input_1", 0, 0]], "output_layers": [["m", 0, 0]]}}
                """.formatted(layer("c", "Conv2D", conv(C, 1, "linear"), "input_1"), layer("g", "GlobalAveragePooling2D", "\"data_format\": \"channels_last\"", "input_1"),
                layer("r", "Reshape", "\"target_shape\": [1, 8, 1]", "g"),
                layer("m", "Multiply", "", "c", "r"));
        Path f = dir.resolve("bad.json"), wf = dir.resolve("bad.h5");
        Files.writeString(f, cfg);
        KerasH5Writer.writeLegacy(wf, new KerasH5Writer.Weights().put("c", "c/kernel:0", new int[]{1, 1, C, C}, random(C * C, 1, 1f))
                .put("c", "c/bias:0", new int[]{C}, random(C, 2, 1f)), "2.2.4", "tensorflow");
        ImportException e = assertThrows(ImportException.class, () -> KerasImporter.load(f, Optional.of(wf), cpu));
        assertTrue(e.getMessage().contains("[5, 6, 8]") && e.getMessage().contains("[1, 8, 1]") && e.getMessage().contains("(1, 1, C)"),
                e.getMessage());
        assertEquals("m", e.node());
    }
}
