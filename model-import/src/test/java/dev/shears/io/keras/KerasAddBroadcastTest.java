package dev.shears.io.keras;

import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.layers.Add;
import dev.shears.io.ImportException;
import dev.shears.io.keras.NhwcReference.Img;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

import static dev.shears.io.keras.KerasTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Keras Add of an image (H, W, C) and a per-channel tensor (1, 1, C) (computed from the image:
 * GlobalAveragePooling2D, Reshape((1, 1, C)), Conv2D 1x1), which Keras' Add broadcasts as its
 * Multiply does, in either input order, on a hand-written Keras 2 config checked against plain NHWC
 * loops (and channels_first (C, H, W) plus (C, 1, 1)); exported to Keras 2 HDF5 and Keras 3 and read back bit-identical, the exported Adds
 * taking (H, W, C) and (1, 1, C); other broadcasts refused naming the layer and shapes.
 */
class KerasAddBroadcastTest {
    static Backend cpu;
    @TempDir Path dir;

    @BeforeAll static void setUp() { cpu = CpuBackend.create(); }

    @AfterAll static void tearDown() { cpu.close(); }

    private static final int H = 5, W = 6, C = 8, OUT = 3;

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

    /** A Keras 2 functional config over a (5, 6, 8) input with these layers, the output being {@code output}. */
    private static String model(String output, String... layers) {
        return """
                {"class_name": "Model", "keras_version": "2.2.4", "backend": "tensorflow", "config": {"name": "shift", "layers": [
                 {"name": "input_1", "class_name": "InputLayer", "config": {"batch_input_shape": [null, 5, 6, 8], "dtype": "float32", "sparse": false, "name": "input_1"}, "inbound_nodes": []},
                 %s
                ], "input_layers": [["input_1", 0, 0]], "output_layers": [["%s", 0, 0]]}}
                """.formatted(String.join(", ", layers), output);
    }

    /** x (NHWC) plus per [n, c] at every position of channel c. */
    static Img shift(Img x, float[] per) {
        float[] out = new float[x.d().length];
        for (int i = 0; i < out.length; i++) out[i] = x.d()[i] + per[(i / (x.h() * x.w() * x.c())) * x.c() + i % x.c()];
        return new Img(out, x.n(), x.h(), x.w(), x.c());
    }

    @Test
    void keras2AddOfImageAndPerChannelTensorInEitherOrderMatchesLoopsAndRoundTrips() throws Exception {
        // c: 3x3 conv relu; s: gap, reshape (1,1,8), 1x1 conv tanh; a1 = add([c, s]); a2 = add([s, a1]); flatten; dense 3
        String cfg = model("fc",
                layer("c", "Conv2D", conv(C, 3, "relu"), "input_1"),
                layer("g", "GlobalAveragePooling2D", "\"data_format\": \"channels_last\"", "c"),
                layer("r", "Reshape", "\"target_shape\": [1, 1, 8]", "g"),
                layer("s", "Conv2D", conv(C, 1, "tanh"), "r"),
                layer("a1", "Add", "", "c", "s"),
                layer("a2", "Add", "", "s", "a1"),
                layer("fl", "Flatten", "", "a2"),
                layer("fc", "Dense", "\"units\": 3, \"activation\": \"linear\", \"use_bias\": true", "fl"));
        float[] cK = random(3 * 3 * C * C, 1, 0.3f), cB = random(C, 2, 0.2f), sK = random(C * C, 3, 1f), sB = random(C, 4, 0.5f);
        float[] fcK = random(H * W * C * OUT, 5, 0.2f), fcB = random(OUT, 6, 0.2f);
        var w = new KerasH5Writer.Weights()
                .put("c", "c/kernel:0", new int[]{3, 3, C, C}, cK).put("c", "c/bias:0", new int[]{C}, cB)
                .put("s", "s/kernel:0", new int[]{1, 1, C, C}, sK).put("s", "s/bias:0", new int[]{C}, sB)
                .put("fc", "fc/kernel:0", new int[]{H * W * C, OUT}, fcK).put("fc", "fc/bias:0", new int[]{OUT}, fcB);
        Path cf = dir.resolve("shift.json"), wf = dir.resolve("shift.h5");
        Files.writeString(cf, cfg);
        KerasH5Writer.writeLegacy(wf, w, "2.2.4", "tensorflow");
        Model m = KerasImporter.load(cf, Optional.of(wf), cpu);
        assertEquals(2, m.nodes().stream().filter(nd -> nd.layer() instanceof Add).count(), m.nodes().toString());

        int n = 2;
        float[] x = random(n * H * W * C, 7, 1f);
        Img c = NhwcReference.conv(new Img(x, n, H, W, C), cK, cB, 3, 3, C, 1, 1, 1, 1, H, W, 1, 1);
        c = new Img(NhwcReference.relu(c.d()), n, H, W, C);
        float[] s = NhwcReference.dense(NhwcReference.globalAvg(c), n, C, sK, sB, C);
        for (int i = 0; i < s.length; i++) s[i] = (float) Math.tanh(s[i]);
        Img a2 = shift(shift(c, s), s);
        float[] want = NhwcReference.dense(a2.d(), n, H * W * C, fcK, fcB, OUT);
        assertClose(want, predict(m, cpu, x, n), 1e-5, 1e-5, "two broadcasting Adds");

        for (String ext : new String[]{".h5", ".keras"}) {
            Path out = dir.resolve("shift_round_trip" + ext);
            KerasExporter.export(m, out);
            Model back = KerasImporter.load(out, Optional.empty(), cpu);
            assertEquals(2, back.nodes().stream().filter(nd -> nd.layer() instanceof Add).count(), ext + ": " + back.nodes());
            assertArrayEquals(predict(m, cpu, x, n), predict(back, cpu, x, n), "export round trip " + ext);
        }
        KerasConfigWriter writer = new KerasConfigWriter(m, dir.resolve("x.h5"), KerasConfigWriter.Target.KERAS2_HDF5);
        writer.write();
        List<KerasConfigWriter.KerasLayer> adds = writer.layers().stream().filter(l -> l.className().equals("Add")).toList();
        assertEquals(2, adds.size());
        for (var add : adds) // channels_last (H, W, C) and (1, 1, C)
            assertEquals(List.of(List.of(H, W, C), List.of(1, 1, C)), add.inputDims().stream()
                    .map(d -> Arrays.stream(d).boxed().toList()).sorted((a, b) -> b.get(0) - a.get(0)).toList());
    }

    @Test
    void channelsFirstAddOfImageAndPerChannelTensorMatchesLoops() throws Exception {
        // input (C, H, W) channels_first; s = 1x1 conv of the reshaped (C, 1, 1) channel means; y = add([s, input])
        String cfg = """
                {"class_name": "Model", "keras_version": "2.2.4", "backend": "tensorflow", "config": {"name": "cf", "layers": [
                 {"name": "input_1", "class_name": "InputLayer", "config": {"batch_input_shape": [null, 8, 5, 6], "dtype": "float32", "sparse": false, "name": "input_1"}, "inbound_nodes": []},
                 %s, %s, %s, %s
                ], "input_layers": [["input_1", 0, 0]], "output_layers": [["a", 0, 0]]}}
                """.formatted(layer("g", "GlobalAveragePooling2D", "\"data_format\": \"channels_first\"", "input_1"),
                layer("r", "Reshape", "\"target_shape\": [8, 1, 1]", "g"),
                layer("s", "Conv2D", conv(C, 1, "linear").replace("channels_last", "channels_first"), "r"),
                layer("a", "Add", "", "s", "input_1"));
        float[] sK = random(C * C, 11, 1f), sB = random(C, 12, 0.5f);
        Path f = dir.resolve("cf.json"), wf = dir.resolve("cf.h5");
        Files.writeString(f, cfg);
        KerasH5Writer.writeLegacy(wf, new KerasH5Writer.Weights().put("s", "s/kernel:0", new int[]{1, 1, C, C}, sK)
                .put("s", "s/bias:0", new int[]{C}, sB), "2.2.4", "tensorflow");
        Model m = KerasImporter.load(f, Optional.of(wf), cpu);
        assertEquals(1, m.nodes().stream().filter(nd -> nd.layer() instanceof Add).count(), m.nodes().toString());
        int n = 2, hw = H * W;
        float[] x = random(n * C * hw, 8, 1f), mean = new float[n * C], want = new float[x.length];
        for (int p = 0; p < n * C; p++) {
            double sum = 0;
            for (int i = 0; i < hw; i++) sum += x[p * hw + i];
            mean[p] = (float) (sum / hw);
        }
        float[] shift = NhwcReference.dense(mean, n, C, sK, sB, C); // a 1x1 conv of a 1x1 image is a Dense
        for (int p = 0; p < n * C; p++)
            for (int i = 0; i < hw; i++) want[p * hw + i] = x[p * hw + i] + shift[p];
        assertClose(want, predict(m, cpu, x, n), 1e-5, 1e-5, "channels_first Add of a per-channel tensor");
    }

    @Test
    void otherBroadcastsAreRefusedNamingLayerAndShapes() throws Exception {
        String cfg = model("a", layer("c", "Conv2D", conv(C, 1, "linear"), "input_1"),
                layer("g", "GlobalAveragePooling2D", "\"data_format\": \"channels_last\"", "input_1"),
                layer("r", "Reshape", "\"target_shape\": [1, 8, 1]", "g"),
                layer("a", "Add", "", "c", "r"));
        Path f = dir.resolve("bad.json"), wf = dir.resolve("bad.h5");
        Files.writeString(f, cfg);
        KerasH5Writer.writeLegacy(wf, new KerasH5Writer.Weights().put("c", "c/kernel:0", new int[]{1, 1, C, C}, random(C * C, 1, 1f))
                .put("c", "c/bias:0", new int[]{C}, random(C, 2, 1f)), "2.2.4", "tensorflow");
        ImportException e = assertThrows(ImportException.class, () -> KerasImporter.load(f, Optional.of(wf), cpu));
        assertTrue(e.getMessage().contains("adds inputs of shapes") && e.getMessage().contains("[5, 6, 8]")
                && e.getMessage().contains("[1, 8, 1]") && e.getMessage().contains("(1, 1, C)"), e.getMessage());
        assertEquals("a", e.node());
    }
}
