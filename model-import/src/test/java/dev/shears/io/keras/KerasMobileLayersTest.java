package dev.shears.io.keras;

import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.layers.Conv2D;
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
 * MobileNet's layer classes on hand-written configs (no Keras file with them is at hand):
 * DepthwiseConv2D, SeparableConv2D and GlobalMaxPooling2D, from Keras 2 HDF5 weights and from a
 * Keras 3 {@code .keras} archive, each checked against plain NHWC loops written from the Keras
 * definitions (depthwise output channel c * depth_multiplier + m is input channel c filtered by
 * kernel[:, :, c, m]), then exported to Keras 2 HDF5 and Keras 3 and read back with the same
 * weights and bit-identical outputs.
 */
class KerasMobileLayersTest {
    static Backend cpu;
    @TempDir Path dir;

    @BeforeAll static void setUp() { cpu = CpuBackend.create(); }

    @AfterAll static void tearDown() { cpu.close(); }

    /** Keras depthwise convolution on NHWC: out[..., c*mult + m] = sum over the window of x[..., c] * k[ky, kx, c, m]. */
    static Img depthwise(Img x, float[] k, float[] bias, int kh, int kw, int mult, int sh, int sw, int padTop, int padLeft,
                         int oh, int ow, int dh, int dw) {
        int cout = x.c() * mult;
        float[] out = new float[x.n() * oh * ow * cout];
        for (int b = 0; b < x.n(); b++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++)
                    for (int c = 0; c < x.c(); c++)
                        for (int m = 0; m < mult; m++) {
                            double s = bias == null ? 0 : bias[c * mult + m];
                            for (int ky = 0; ky < kh; ky++)
                                for (int kx = 0; kx < kw; kx++) {
                                    int iy = oy * sh - padTop + ky * dh, ix = ox * sw - padLeft + kx * dw;
                                    if (iy < 0 || iy >= x.h() || ix < 0 || ix >= x.w()) continue;
                                    s += (double) x.at(b, iy, ix, c) * k[((ky * kw + kx) * x.c() + c) * mult + m];
                                }
                            out[((b * oh + oy) * ow + ox) * cout + c * mult + m] = (float) s;
                        }
        return new Img(out, x.n(), oh, ow, cout);
    }

    /** Maximum over H and W of an NHWC batch: [n, c]. */
    static float[] globalMax(Img x) {
        float[] out = new float[x.n() * x.c()];
        for (int b = 0; b < x.n(); b++)
            for (int c = 0; c < x.c(); c++) {
                float m = Float.NEGATIVE_INFINITY;
                for (int y = 0; y < x.h(); y++) for (int xx = 0; xx < x.w(); xx++) m = Math.max(m, x.at(b, y, xx, c));
                out[b * x.c() + c] = m;
            }
        return out;
    }

    static Img relu(Img x) { return new Img(NhwcReference.relu(x.d()), x.n(), x.h(), x.w(), x.c()); }

    // input 9x8x3; dw: 3x3 stride 2 'same', multiplier 2, relu -> 5x4x6 (TF pads rows 1/1, cols 0/1);
    // sep: depthwise 3x3 'valid' multiplier 2 -> 3x2x12, pointwise to 5 with bias -> 3x2x5; global max -> 5; fc -> 4
    static final String KERAS2_CONFIG = """
            {"class_name": "Sequential", "keras_version": "2.2.4", "backend": "tensorflow", "config": {"name": "sequential_1", "layers": [
             {"class_name": "DepthwiseConv2D", "config": {"name": "dw", "trainable": true, "batch_input_shape": [null, 9, 8, 3], "dtype": "float32",
               "kernel_size": [3, 3], "strides": [2, 2], "padding": "same", "data_format": "channels_last", "depth_multiplier": 2,
               "activation": "relu", "use_bias": true, "dilation_rate": [1, 1]}},
             {"class_name": "SeparableConv2D", "config": {"name": "sep", "trainable": true, "filters": 5, "kernel_size": [3, 3],
               "strides": [1, 1], "padding": "valid", "data_format": "channels_last", "dilation_rate": [1, 1], "depth_multiplier": 2,
               "activation": "linear", "use_bias": true}},
             {"class_name": "GlobalMaxPooling2D", "config": {"name": "gmp", "trainable": true, "data_format": "channels_last"}},
             {"class_name": "Dense", "config": {"name": "fc", "units": 4, "activation": "linear", "use_bias": true}}
            ]}}
            """;

    @Test
    void keras2DepthwiseSeparableAndGlobalMaxMatchLoopsAndRoundTrip() throws Exception {
        float[] dwK = random(3 * 3 * 3 * 2, 1, 1f), dwB = random(6, 2, 0.5f);
        float[] sepD = random(3 * 3 * 6 * 2, 3, 1f), sepP = random(12 * 5, 4, 1f), sepB = random(5, 5, 0.5f);
        float[] fcK = random(5 * 4, 6, 1f), fcB = random(4, 7, 0.5f);
        var w = new KerasH5Writer.Weights()
                .put("dw", "dw/depthwise_kernel:0", new int[]{3, 3, 3, 2}, dwK).put("dw", "dw/bias:0", new int[]{6}, dwB)
                .put("sep", "sep/depthwise_kernel:0", new int[]{3, 3, 6, 2}, sepD)
                .put("sep", "sep/pointwise_kernel:0", new int[]{1, 1, 12, 5}, sepP).put("sep", "sep/bias:0", new int[]{5}, sepB)
                .put("fc", "fc/kernel:0", new int[]{5, 4}, fcK).put("fc", "fc/bias:0", new int[]{4}, fcB);
        Path cfg = dir.resolve("mobile.json"), wf = dir.resolve("mobile.h5");
        Files.writeString(cfg, KERAS2_CONFIG);
        KerasH5Writer.writeLegacy(wf, w, "2.2.4", "tensorflow");
        Model m = KerasImporter.load(cfg, Optional.of(wf), cpu);

        int n = 2;
        float[] x = random(n * 9 * 8 * 3, 8, 1f);
        Img h = relu(depthwise(new Img(x, n, 9, 8, 3), dwK, dwB, 3, 3, 2, 2, 2, 1, 0, 5, 4, 1, 1));
        Img d = depthwise(h, sepD, null, 3, 3, 2, 1, 1, 0, 0, 3, 2, 1, 1);
        Img p = NhwcReference.conv(d, sepP, sepB, 1, 1, 5, 1, 1, 0, 0, 3, 2, 1, 1);
        float[] want = NhwcReference.dense(globalMax(p), n, 5, fcK, fcB, 4);
        assertClose(want, predict(m, cpu, x, n), 1e-5, 1e-5, "DepthwiseConv2D + SeparableConv2D + GlobalMaxPooling2D");

        // the separable layer is two IR convolutions named after it; the depthwise ones have one group per channel
        Conv2D sepDw = (Conv2D) layer(m, "sep/depthwise"), sepPw = (Conv2D) layer(m, "sep/pointwise"), dw = (Conv2D) layer(m, "dw");
        assertEquals(List.of(6, 12, 6), List.of(sepDw.groups(), sepDw.outChannels(), sepDw.inChannels()));
        assertEquals(List.of(1, 5, 1), List.of(sepPw.groups(), sepPw.outChannels(), sepPw.kernelH()));
        assertEquals(List.of(3, 6), List.of(dw.groups(), dw.outChannels()));

        for (String ext : new String[]{".h5", ".keras"}) {
            Path out = dir.resolve("round_trip" + ext);
            KerasExporter.export(m, out);
            Model back = KerasImporter.load(out, Optional.empty(), cpu);
            assertSameWeightsInOrder(m, back, ext);
            assertArrayEquals(predict(m, cpu, x, n), predict(back, cpu, x, n), "export round trip " + ext);
        }
        // DepthwiseConv2D for the depthwise convolutions (TensorFlow's grouped Conv2D does not run on the CPU), a 1x1 Conv2D after
        KerasConfigWriter writer = new KerasConfigWriter(m, dir.resolve("x.h5"), KerasConfigWriter.Target.KERAS2_HDF5);
        writer.write();
        List<String> classes = writer.layers().stream().map(KerasConfigWriter.KerasLayer::className).toList();
        assertEquals(List.of("InputLayer", "DepthwiseConv2D", "Activation", "DepthwiseConv2D", "Conv2D", "GlobalMaxPooling2D", "Dense"),
                classes.stream().filter(c -> !c.equals("Permute")).toList());
        var dwLayer = writer.layers().stream().filter(l -> l.className().equals("DepthwiseConv2D")).findFirst().orElseThrow();
        assertEquals(2, dwLayer.config().get("depth_multiplier").asInt());
        assertEquals("same", dwLayer.config().get("padding").asText());
        assertArrayEquals(dwK, dwLayer.weights().get(0).data(), "the depthwise kernel is written in Keras' own layout");
        assertArrayEquals(new int[]{3, 3, 3, 2}, dwLayer.weights().get(0).dims());
    }

    static String k3(String cls, String name, String config, String from, String buildShape) {
        return """
                {"module": "keras.layers", "class_name": "%s", "config": {"name": "%s", "trainable": true,
                  "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": null}, %s},
                 "registered_name": null, %s"name": "%s",
                 "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"shape": %s, "dtype": "float32", "keras_history": ["%s", 0, 0]}}], "kwargs": {}}]}
                """.formatted(cls, name, config, buildShape == null ? "" : "\"build_config\": {\"input_shape\": " + buildShape + "}, ", name, buildShape, from);
    }

    // input 7x7x2; dw: 3x3 dilation 2 'same', multiplier 1, no bias -> 7x7x2 (pads 2/2);
    // sep: 3x3 stride 2 'same' multiplier 3, relu -> 4x4x4 (pads 1/1); global max (keepdims) -> 1x1x4; flatten; fc -> 3
    static final String KERAS3_CONFIG = """
            {"module": "keras.src.models.functional", "class_name": "Functional", "config": {"name": "functional", "trainable": true, "layers": [
             {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [null, 7, 7, 2], "dtype": "float32", "sparse": false, "name": "input_layer"}, "registered_name": null, "name": "input_layer", "inbound_nodes": []},
             %s, %s, %s, %s, %s],
             "input_layers": ["input_layer", 0, 0], "output_layers": ["head", 0, 0]},
             "registered_name": "Functional", "build_config": {"input_shape": null}, "compile_config": null}
            """.formatted(
            k3("DepthwiseConv2D", "dwc", "\"kernel_size\": [3, 3], \"strides\": [1, 1], \"padding\": \"same\", \"data_format\": \"channels_last\", "
                    + "\"dilation_rate\": [2, 2], \"depth_multiplier\": 1, \"activation\": \"linear\", \"use_bias\": false", "input_layer", "[null, 7, 7, 2]"),
            k3("SeparableConv2D", "sepc", "\"filters\": 4, \"kernel_size\": [3, 3], \"strides\": [2, 2], \"padding\": \"same\", "
                    + "\"data_format\": \"channels_last\", \"dilation_rate\": [1, 1], \"depth_multiplier\": 3, "
                    + "\"activation\": {\"module\": \"keras.activations\", \"class_name\": \"function\", \"config\": \"relu\", \"registered_name\": null}, \"use_bias\": true",
                    "dwc", "[null, 7, 7, 2]"),
            k3("GlobalMaxPooling2D", "gmax", "\"data_format\": \"channels_last\", \"keepdims\": true", "sepc", null),
            k3("Flatten", "flat", "\"data_format\": \"channels_last\"", "gmax", "[null, 1, 1, 4]"),
            k3("Dense", "head", "\"units\": 3, \"activation\": \"linear\", \"use_bias\": true", "flat", "[null, 4]"));

    @Test
    void keras3ArchiveWithDepthwiseSeparableAndGlobalMax() throws Exception {
        float[] dwK = random(3 * 3 * 2, 11, 1f);
        float[] sepD = random(3 * 3 * 2 * 3, 12, 1f), sepP = random(6 * 4, 13, 1f), sepB = random(4, 14, 0.5f);
        float[] fcK = random(4 * 3, 15, 1f), fcB = random(3, 16, 0.5f);
        // Keras 3 stores variables by position in groups named after the class (Keras3Paths), not the layer
        var w = new KerasH5Writer.Weights()
                .put("depthwise_conv2d", "kernel", new int[]{3, 3, 2, 1}, dwK)
                .put("separable_conv2d", "depthwise_kernel", new int[]{3, 3, 2, 3}, sepD)
                .put("separable_conv2d", "pointwise_kernel", new int[]{1, 1, 6, 4}, sepP).put("separable_conv2d", "bias", new int[]{4}, sepB)
                .put("dense", "kernel", new int[]{4, 3}, fcK).put("dense", "bias", new int[]{3}, fcB);
        Path archive = Keras3ArchiveTest.archive(dir, "mobile3", KERAS3_CONFIG, w);
        Model m = KerasImporter.load(archive, Optional.empty(), cpu);

        int n = 3;
        float[] x = random(n * 7 * 7 * 2, 17, 1f);
        Img h = depthwise(new Img(x, n, 7, 7, 2), dwK, null, 3, 3, 1, 1, 1, 2, 2, 7, 7, 2, 2);
        Img d = depthwise(h, sepD, null, 3, 3, 3, 2, 2, 1, 1, 4, 4, 1, 1);
        Img p = relu(NhwcReference.conv(d, sepP, sepB, 1, 1, 4, 1, 1, 0, 0, 4, 4, 1, 1));
        float[] want = NhwcReference.dense(globalMax(p), n, 4, fcK, fcB, 3);
        assertClose(want, predict(m, cpu, x, n), 1e-5, 1e-5, "Keras 3 DepthwiseConv2D + SeparableConv2D + GlobalMaxPooling2D");

        for (String ext : new String[]{".keras", ".h5"}) {
            Path out = dir.resolve("round_trip3" + ext);
            KerasExporter.export(m, out);
            Model back = KerasImporter.load(out, Optional.empty(), cpu);
            assertSameWeightsInOrder(m, back, ext);
            assertArrayEquals(predict(m, cpu, x, n), predict(back, cpu, x, n), "export round trip " + ext);
        }
    }

    @Test
    void depthwiseKernelOfTheWrongShapeNamesLayerAndShapes() throws Exception {
        var w = new KerasH5Writer.Weights()
                .put("dw", "dw/depthwise_kernel:0", new int[]{3, 3, 3, 1}, random(27, 1, 1f)).put("dw", "dw/bias:0", new int[]{6}, random(6, 2, 1f))
                .put("sep", "sep/depthwise_kernel:0", new int[]{3, 3, 6, 2}, random(108, 3, 1f))
                .put("sep", "sep/pointwise_kernel:0", new int[]{1, 1, 12, 5}, random(60, 4, 1f)).put("sep", "sep/bias:0", new int[]{5}, random(5, 5, 1f))
                .put("fc", "fc/kernel:0", new int[]{5, 4}, random(20, 6, 1f)).put("fc", "fc/bias:0", new int[]{4}, random(4, 7, 1f));
        Path cfg = dir.resolve("bad.json"), wf = dir.resolve("bad.h5");
        Files.writeString(cfg, KERAS2_CONFIG);
        KerasH5Writer.writeLegacy(wf, w, "2.2.4", "tensorflow");
        ImportException e = assertThrows(ImportException.class, () -> KerasImporter.load(cfg, Optional.of(wf), cpu));
        assertTrue(e.getMessage().contains("DepthwiseConv2D layer") && e.getMessage().contains("[3, 3, 3, 1]")
                && e.getMessage().contains("[3, 3, 3, 2]") && e.getMessage().contains("depth_multiplier"), e.getMessage());
        assertEquals("dw", e.node());
    }

    @Test
    void separableWeightNamesOfEveryKerasVersionHaveTheirRoles() {
        // Keras 1 SeparableConvolution2D (layer name + suffix), Keras 2 (layer/variable:0), Keras 3 legacy .h5 (DepthwiseConv2D's 'kernel')
        assertEquals("depthwise_kernel", StoredWeight.roleOf("sep_1_depthwise_kernel"));
        assertEquals("pointwise_kernel", StoredWeight.roleOf("sep_1_pointwise_kernel"));
        assertEquals("bias", StoredWeight.roleOf("sep_1_b"));
        assertEquals("depthwise_kernel", StoredWeight.roleOf("separable_conv2d_1/depthwise_kernel:0"));
        assertEquals("pointwise_kernel", StoredWeight.roleOf("separable_conv2d_1/pointwise_kernel:0"));
        assertEquals("kernel", StoredWeight.roleOf("depthwise_conv2d/kernel:0"));
        assertEquals("kernel", StoredWeight.roleOf("my_depthwise/kernel:0"), "a layer named like the role is not the role");
    }

    private static dev.shears.core.nn.Layer layer(Model m, String name) {
        return m.nodes().stream().filter(nd -> nd.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no node " + name + " in " + m.nodes().stream().map(Model.Node::name).toList())).layer();
    }

    /** Same parameter shapes and bit-identical values, in order (the exporter renames 'sep/depthwise' to 'sep_depthwise'). */
    private static void assertSameWeightsInOrder(Model a, Model b, String what) {
        assertEquals(a.parameters().size(), b.parameters().size(), what + ": parameter count");
        for (int i = 0; i < a.parameters().size(); i++) {
            var p = a.parameters().get(i);
            var q = b.parameters().get(i);
            assertEquals(p.shape(), q.shape(), what + ": " + p.name() + " vs " + q.name());
            assertArrayEquals(cpu.download(p.value()), cpu.download(q.value()), what + ": " + p.name() + " vs " + q.name());
        }
    }
}
