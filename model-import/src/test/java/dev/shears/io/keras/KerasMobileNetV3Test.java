package dev.shears.io.keras;

import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.Parameter;
import dev.shears.core.nn.layers.Rescale;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import dev.shears.io.keras.NhwcReference.Img;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static dev.shears.io.keras.KerasTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * A small model laid out as Keras 3's {@code keras.applications.MobileNetV3Small} builds one
 * (keras/src/applications/mobilenet_v3.py), in a hand-built Keras 3 {@code .keras} archive (no
 * real MobileNetV3 file is at hand): Rescaling(1/127.5, -1); the stem Conv2D 3x3 stride 2 'same'
 * without bias, BatchNormalization, hard swish; an inverted residual block of stride 2 with
 * ZeroPadding2D (correct_pad) before a 'valid' DepthwiseConv2D, BN, ReLU, squeeze-and-excitation
 * (GlobalAveragePooling2D(keepdims=True), Conv2D 1x1 with bias, ReLU, Conv2D 1x1, hard_sigmoid,
 * Multiply) and a projection; a block of stride 1 with an expansion and a residual Add; conv_1 + BN
 * + hard swish; and the head: GlobalAveragePooling2D(keepdims=True), Conv2D 1x1, hard swish,
 * Dropout, Conv2D 1x1 logits, Flatten, Activation("softmax"). Hard swish is written both ways Keras
 * versions write it: Multiply([x, Activation("hard_sigmoid")(x)]) and Activation("hard_swish").
 * Checked against plain NHWC loops written from the Keras definitions, then trained one step and
 * exported to Keras 3 and read back bit-identical.
 */
class KerasMobileNetV3Test {
    static Backend cpu;
    @TempDir Path dir;

    @BeforeAll static void setUp() { cpu = CpuBackend.create(); }

    @AfterAll static void tearDown() { cpu.close(); }

    /** input 8x8x3; stem 8 channels (4x4); block 0: 8 -> 2x2x8, SE squeeze 4; block 1: expand 16, project 8; conv_1 16; head 12; 5 classes */
    private static final int S = 8, C0 = 3, C = 8, R = 4, E = 16, LAST = 16, HEAD = 12, K = 5;
    private static final float SCALE = 1f / 127.5f, OFFSET = -1f;

    private static final String BN = "\"axis\": -1, \"momentum\": 0.999, \"epsilon\": 0.001, \"center\": true, \"scale\": true";
    private static final String HARD_SIGMOID_FN = "{\"module\": \"keras.activations\", \"class_name\": \"function\", \"config\": \"hard_sigmoid\", \"registered_name\": \"function\"}";

    private static String conv(int filters, int k, int stride, boolean bias) {
        return ("\"filters\": %d, \"kernel_size\": [%d, %d], \"strides\": [%d, %d], \"padding\": \"same\", \"data_format\": \"channels_last\", "
                + "\"dilation_rate\": [1, 1], \"groups\": 1, \"activation\": \"linear\", \"use_bias\": %b").formatted(filters, k, k, stride, stride, bias);
    }

    private static String depthwise(int stride, String padding) {
        return ("\"kernel_size\": [3, 3], \"strides\": [%d, %d], \"padding\": \"%s\", \"data_format\": \"channels_last\", "
                + "\"dilation_rate\": [1, 1], \"depth_multiplier\": 1, \"activation\": \"linear\", \"use_bias\": false").formatted(stride, stride, padding);
    }

    private static String shape(int h, int w, int c) { return "[null, %d, %d, %d]".formatted(h, w, c); }

    /** A Keras 3 merge layer (Add, Multiply) of two inputs. */
    private static String merge(String cls, String name, String a, String aShape, String b, String bShape) {
        String tensor = "{\"class_name\": \"__keras_tensor__\", \"config\": {\"shape\": %s, \"dtype\": \"float32\", \"keras_history\": [\"%s\", 0, 0]}}";
        return """
                {"module": "keras.layers", "class_name": "%s", "config": {"name": "%s", "trainable": true,
                  "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": null}},
                 "registered_name": null, "build_config": {"input_shape": [%s, %s]}, "name": "%s",
                 "inbound_nodes": [{"args": [[%s, %s]], "kwargs": {}}]}
                """.formatted(cls, name, aShape, bShape, name, tensor.formatted(aShape, a), tensor.formatted(bShape, b));
    }

    private static String relu(String name, String from, String shape) {
        return KerasMobileLayersTest.k3("ReLU", name, "\"max_value\": null, \"negative_slope\": 0.0, \"threshold\": 0.0", from, shape);
    }

    private static String activation(String name, String fn, String from, String shape) {
        return KerasMobileLayersTest.k3("Activation", name, "\"activation\": " + fn, from, shape);
    }

    static final String CONFIG;

    static {
        String s4 = shape(4, 4, C), s2 = shape(2, 2, C), s2e = shape(2, 2, E), g8 = shape(1, 1, C), g4 = shape(1, 1, R);
        List<String> l = List.of(
                KerasMobileLayersTest.k3("Rescaling", "rescaling", "\"scale\": 0.00784313725490196, \"offset\": -1.0", "input_layer", shape(S, S, C0)),
                KerasMobileLayersTest.k3("Conv2D", "conv", conv(C, 3, 2, false), "rescaling", shape(S, S, C0)),
                KerasMobileLayersTest.k3("BatchNormalization", "conv_bn", BN, "conv", s4),
                // hard swish as Multiply([x, hard_sigmoid(x)])
                activation("conv_hard_sigmoid", "\"hard_sigmoid\"", "conv_bn", s4),
                merge("Multiply", "conv_hard_swish", "conv_bn", s4, "conv_hard_sigmoid", s4),
                // block 0: correct_pad for an even 4x4 input and kernel 3 is ((0, 1), (0, 1))
                KerasMobileLayersTest.k3("ZeroPadding2D", "expanded_conv_depthwise_pad",
                        "\"padding\": [[0, 1], [0, 1]], \"data_format\": \"channels_last\"", "conv_hard_swish", s4),
                KerasMobileLayersTest.k3("DepthwiseConv2D", "expanded_conv_depthwise", depthwise(2, "valid"), "expanded_conv_depthwise_pad", shape(5, 5, C)),
                KerasMobileLayersTest.k3("BatchNormalization", "expanded_conv_depthwise_bn", BN, "expanded_conv_depthwise", s2),
                relu("expanded_conv_relu", "expanded_conv_depthwise_bn", s2),
                KerasMobileLayersTest.k3("GlobalAveragePooling2D", "expanded_conv_squeeze_excite_avg_pool",
                        "\"data_format\": \"channels_last\", \"keepdims\": true", "expanded_conv_relu", null),
                KerasMobileLayersTest.k3("Conv2D", "expanded_conv_squeeze_excite_conv", conv(R, 1, 1, true), "expanded_conv_squeeze_excite_avg_pool", g8),
                relu("expanded_conv_squeeze_excite_relu", "expanded_conv_squeeze_excite_conv", g4),
                KerasMobileLayersTest.k3("Conv2D", "expanded_conv_squeeze_excite_conv_1", conv(C, 1, 1, true), "expanded_conv_squeeze_excite_relu", g4),
                activation("expanded_conv_squeeze_excite_hard_sigmoid", HARD_SIGMOID_FN, "expanded_conv_squeeze_excite_conv_1", g8),
                merge("Multiply", "expanded_conv_squeeze_excite_mul", "expanded_conv_relu", s2, "expanded_conv_squeeze_excite_hard_sigmoid", g8),
                KerasMobileLayersTest.k3("Conv2D", "expanded_conv_project", conv(C, 1, 1, false), "expanded_conv_squeeze_excite_mul", s2),
                KerasMobileLayersTest.k3("BatchNormalization", "expanded_conv_project_bn", BN, "expanded_conv_project", s2),
                // block 1: stride 1, expansion 2, hard swish as Activation("hard_swish"), residual Add
                KerasMobileLayersTest.k3("Conv2D", "expanded_conv_1_expand", conv(E, 1, 1, false), "expanded_conv_project_bn", s2),
                KerasMobileLayersTest.k3("BatchNormalization", "expanded_conv_1_expand_bn", BN, "expanded_conv_1_expand", s2e),
                activation("expanded_conv_1_expand_activation", "\"hard_swish\"", "expanded_conv_1_expand_bn", s2e),
                KerasMobileLayersTest.k3("DepthwiseConv2D", "expanded_conv_1_depthwise", depthwise(1, "same"), "expanded_conv_1_expand_activation", s2e),
                KerasMobileLayersTest.k3("BatchNormalization", "expanded_conv_1_depthwise_bn", BN, "expanded_conv_1_depthwise", s2e),
                activation("expanded_conv_1_depthwise_activation", "\"hard_swish\"", "expanded_conv_1_depthwise_bn", s2e),
                KerasMobileLayersTest.k3("Conv2D", "expanded_conv_1_project", conv(C, 1, 1, false), "expanded_conv_1_depthwise_activation", s2e),
                KerasMobileLayersTest.k3("BatchNormalization", "expanded_conv_1_project_bn", BN, "expanded_conv_1_project", s2),
                merge("Add", "expanded_conv_1_add", "expanded_conv_project_bn", s2, "expanded_conv_1_project_bn", s2),
                // last conv and head
                KerasMobileLayersTest.k3("Conv2D", "conv_1", conv(LAST, 1, 1, false), "expanded_conv_1_add", s2),
                KerasMobileLayersTest.k3("BatchNormalization", "conv_1_bn", BN, "conv_1", shape(2, 2, LAST)),
                activation("conv_1_activation", "\"hard_swish\"", "conv_1_bn", shape(2, 2, LAST)),
                KerasMobileLayersTest.k3("GlobalAveragePooling2D", "global_average_pooling2d",
                        "\"data_format\": \"channels_last\", \"keepdims\": true", "conv_1_activation", null),
                KerasMobileLayersTest.k3("Conv2D", "conv_2", conv(HEAD, 1, 1, true), "global_average_pooling2d", shape(1, 1, LAST)),
                activation("conv_2_activation", "\"hard_swish\"", "conv_2", shape(1, 1, HEAD)),
                KerasMobileLayersTest.k3("Dropout", "dropout", "\"rate\": 0.2, \"seed\": null, \"noise_shape\": null", "conv_2_activation", null),
                KerasMobileLayersTest.k3("Conv2D", "logits", conv(K, 1, 1, true), "dropout", shape(1, 1, HEAD)),
                KerasMobileLayersTest.k3("Flatten", "flatten", "\"data_format\": \"channels_last\"", "logits", shape(1, 1, K)),
                activation("predictions", "\"softmax\"", "flatten", "[null, " + K + "]"));
        CONFIG = """
                {"module": "keras.src.models.functional", "class_name": "Functional", "config": {"name": "MobileNetV3Small", "trainable": true, "layers": [
                 {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [null, 8, 8, 3], "dtype": "float32", "sparse": false, "name": "input_layer"}, "registered_name": null, "name": "input_layer", "inbound_nodes": []},
                 %s],
                 "input_layers": ["input_layer", 0, 0], "output_layers": ["predictions", 0, 0]},
                 "registered_name": "Functional", "build_config": {"input_shape": null}, "compile_config": null}
                """.formatted(String.join(", ", l));
    }

    /** One BatchNormalization's variables, Keras 3 order: gamma, beta, moving_mean, moving_variance. */
    private record Bn(float[] gamma, float[] beta, float[] mean, float[] var) {
        static Bn random(int c, long seed) {
            float[] var = KerasTestSupport.random(c, seed + 3, 0.5f);
            for (int i = 0; i < c; i++) var[i] = Math.abs(var[i]) + 0.5f;
            float[] gamma = KerasTestSupport.random(c, seed, 0.5f);
            for (int i = 0; i < c; i++) gamma[i] += 1f;
            return new Bn(gamma, KerasTestSupport.random(c, seed + 1, 0.3f), KerasTestSupport.random(c, seed + 2, 0.3f), var);
        }

        void put(KerasH5Writer.Weights w, String group) {
            int[] d = {gamma.length};
            w.put(group, "gamma", d, gamma).put(group, "beta", d, beta).put(group, "moving_mean", d, mean).put(group, "moving_variance", d, var);
        }

        Img apply(Img x) {
            return new Img(NhwcReference.batchNorm(x.d(), x.c(), gamma, beta, mean, var, 1e-3), x.n(), x.h(), x.w(), x.c());
        }
    }

    /** Keras 3's hard_sigmoid, relu6(x + 3) / 6, which is clip(x / 6 + 0.5, 0, 1). */
    static double hardSigmoid(double x) { return Math.min(1, Math.max(0, x / 6 + 0.5)); }

    static Img hardSigmoid(Img x) {
        float[] y = new float[x.d().length];
        for (int i = 0; i < y.length; i++) y[i] = (float) hardSigmoid(x.d()[i]);
        return new Img(y, x.n(), x.h(), x.w(), x.c());
    }

    static Img hardSwish(Img x) {
        float[] y = new float[x.d().length];
        for (int i = 0; i < y.length; i++) y[i] = (float) (x.d()[i] * hardSigmoid(x.d()[i]));
        return new Img(y, x.n(), x.h(), x.w(), x.c());
    }

    /** All the model's weights in Keras layouts, written to a Keras 3 archive and run by the reference. */
    private static final class Weights {
        final float[] stem = random(3 * 3 * C0 * C, 1, 0.4f);
        final Bn stemBn = Bn.random(C, 10);
        final float[] dw0 = random(3 * 3 * C, 2, 0.6f);
        final Bn dw0Bn = Bn.random(C, 20);
        final float[] seK = random(C * R, 3, 0.6f), seB = random(R, 4, 0.3f), se1K = random(R * C, 5, 0.6f), se1B = random(C, 6, 0.3f);
        final float[] proj0 = random(C * C, 7, 0.5f);
        final Bn proj0Bn = Bn.random(C, 30);
        final float[] expand1 = random(C * E, 8, 0.5f);
        final Bn expand1Bn = Bn.random(E, 40);
        final float[] dw1 = random(3 * 3 * E, 9, 0.5f);
        final Bn dw1Bn = Bn.random(E, 50);
        final float[] proj1 = random(E * C, 11, 0.4f);
        final Bn proj1Bn = Bn.random(C, 60);
        final float[] last = random(C * LAST, 12, 0.5f);
        final Bn lastBn = Bn.random(LAST, 70);
        final float[] headK = random(LAST * HEAD, 13, 0.5f), headB = random(HEAD, 14, 0.3f);
        final float[] logitsK = random(HEAD * K, 15, 0.5f), logitsB = random(K, 16, 0.3f);

        /** Keras 3 groups: class snake_case numbered by position among the model's layers of that class. */
        KerasH5Writer.Weights keras3() {
            var w = new KerasH5Writer.Weights();
            w.put("conv2d", "kernel", new int[]{3, 3, C0, C}, stem);
            stemBn.put(w, "batch_normalization");
            w.put("depthwise_conv2d", "kernel", new int[]{3, 3, C, 1}, dw0);
            dw0Bn.put(w, "batch_normalization_1");
            w.put("conv2d_1", "kernel", new int[]{1, 1, C, R}, seK).put("conv2d_1", "bias", new int[]{R}, seB);
            w.put("conv2d_2", "kernel", new int[]{1, 1, R, C}, se1K).put("conv2d_2", "bias", new int[]{C}, se1B);
            w.put("conv2d_3", "kernel", new int[]{1, 1, C, C}, proj0);
            proj0Bn.put(w, "batch_normalization_2");
            w.put("conv2d_4", "kernel", new int[]{1, 1, C, E}, expand1);
            expand1Bn.put(w, "batch_normalization_3");
            w.put("depthwise_conv2d_1", "kernel", new int[]{3, 3, E, 1}, dw1);
            dw1Bn.put(w, "batch_normalization_4");
            w.put("conv2d_5", "kernel", new int[]{1, 1, E, C}, proj1);
            proj1Bn.put(w, "batch_normalization_5");
            w.put("conv2d_6", "kernel", new int[]{1, 1, C, LAST}, last);
            lastBn.put(w, "batch_normalization_6");
            w.put("conv2d_7", "kernel", new int[]{1, 1, LAST, HEAD}, headK).put("conv2d_7", "bias", new int[]{HEAD}, headB);
            w.put("conv2d_8", "kernel", new int[]{1, 1, HEAD, K}, logitsK).put("conv2d_8", "bias", new int[]{K}, logitsB);
            return w;
        }

        /** The Keras model on NHWC pixels x [n, 8, 8, 3]: class probabilities [n, 5]. */
        float[] reference(float[] x, int n) {
            float[] r = new float[x.length];
            for (int i = 0; i < x.length; i++) r[i] = x[i] * SCALE + OFFSET;
            // stem: 'same' with stride 2 on 8x8 pads rows and columns 0 before, 1 after (TensorFlow puts the odd one last)
            Img h = hardSwish(stemBn.apply(NhwcReference.conv(new Img(r, n, S, S, C0), stem, null, 3, 3, C, 2, 2, 0, 0, 4, 4, 1, 1)));
            // block 0
            Img p = NhwcReference.zeroPad(h, 0, 1, 0, 1);
            Img d = KerasMobileLayersTest.relu(dw0Bn.apply(KerasMobileLayersTest.depthwise(p, dw0, null, 3, 3, 1, 2, 2, 0, 0, 2, 2, 1, 1)));
            float[] squeeze = NhwcReference.relu(NhwcReference.dense(NhwcReference.globalAvg(d), n, C, seK, seB, R));
            float[] gate = NhwcReference.dense(squeeze, n, R, se1K, se1B, C);
            for (int i = 0; i < gate.length; i++) gate[i] = (float) hardSigmoid(gate[i]);
            Img excited = KerasSqueezeExcitationTest.gate(d, gate);
            Img b0 = proj0Bn.apply(NhwcReference.conv(excited, proj0, null, 1, 1, C, 1, 1, 0, 0, 2, 2, 1, 1));
            // block 1
            Img e = hardSwish(expand1Bn.apply(NhwcReference.conv(b0, expand1, null, 1, 1, E, 1, 1, 0, 0, 2, 2, 1, 1)));
            Img d1 = hardSwish(dw1Bn.apply(KerasMobileLayersTest.depthwise(e, dw1, null, 3, 3, 1, 1, 1, 1, 1, 2, 2, 1, 1)));
            Img b1p = proj1Bn.apply(NhwcReference.conv(d1, proj1, null, 1, 1, C, 1, 1, 0, 0, 2, 2, 1, 1));
            Img b1 = new Img(NhwcReference.add(b0.d(), b1p.d()), n, 2, 2, C);
            // last conv and head (Dropout is the identity at inference)
            Img l = hardSwish(lastBn.apply(NhwcReference.conv(b1, last, null, 1, 1, LAST, 1, 1, 0, 0, 2, 2, 1, 1)));
            float[] pooled = NhwcReference.globalAvg(l);
            Img head = hardSwish(new Img(NhwcReference.dense(pooled, n, LAST, headK, headB, HEAD), n, 1, 1, HEAD));
            float[] logits = NhwcReference.dense(head.d(), n, HEAD, logitsK, logitsB, K);
            return NhwcReference.softmaxRows(logits, K);
        }
    }

    /** Pixel values in [0, 255], as MobileNetV3 with include_preprocessing takes them. */
    private static float[] pixels(int n, long seed) {
        float[] x = random(n * S * S * C0, seed, 1f);
        for (int i = 0; i < x.length; i++) x[i] = (x[i] + 1) * 127.5f;
        return x;
    }

    @Test
    void keras3MobileNetV3StyleArchiveMatchesLoopsTrainsAndRoundTrips() throws Exception {
        Weights w = new Weights();
        Path archive = Keras3ArchiveTest.archive(dir, "mobilenet_v3", CONFIG, w.keras3());
        Model m = KerasImporter.load(archive, Optional.empty(), cpu);

        Rescale rescale = (Rescale) m.nodes().stream().filter(nd -> nd.name().equals("rescaling")).findFirst().orElseThrow().layer();
        assertEquals(SCALE, rescale.scale());
        assertEquals(OFFSET, rescale.offset());
        assertEquals(Shape.of(K), m.outputShape());

        int n = 3;
        float[] x = pixels(n, 101);
        assertClose(w.reference(x, n), predict(m, cpu, x, n), 1e-5, 1e-4, "MobileNetV3-style model vs NHWC loops");

        // one training step lowers the loss it followed (same batch, same dropout mask: the seed is fixed)
        float[] onehot = new float[n * K];
        for (int i = 0; i < n; i++) onehot[i * K + (i * 2) % K] = 1f;
        double before = trainStep(m, x, n, onehot, 0.05f);
        double after = trainStep(m, x, n, onehot, 0f);
        assertTrue(after < before, "one SGD step lowers the training loss: " + before + " -> " + after);
        for (Parameter p : m.parameters())
            for (float v : cpu.download(p.value())) assertTrue(Float.isFinite(v), p.name() + " is finite after the step");

        // the trained model (new weights and BatchNorm statistics) exports to Keras 3 and reads back bit-identical
        Path out = dir.resolve("mobilenet_v3_trained.keras");
        KerasExporter.export(m, out);
        Model back = KerasImporter.load(out, Optional.empty(), cpu);
        assertEquals(m.parameters().size(), back.parameters().size());
        for (int i = 0; i < m.parameters().size(); i++)
            assertArrayEquals(cpu.download(m.parameters().get(i).value()), cpu.download(back.parameters().get(i).value()),
                    m.parameters().get(i).name());
        float[] x2 = pixels(2, 102);
        assertArrayEquals(predict(m, cpu, x2, 2), predict(back, cpu, x2, 2), "Keras 3 export round trip");
        assertTrue(back.nodes().stream().anyMatch(nd -> nd.layer() instanceof Rescale r && r.scale() == SCALE && r.offset() == OFFSET),
                "the Rescaling layer survives the round trip");
    }

    /**
     * One training forward and backward of 0.5 * |p - target|^2 on the model's probabilities, then
     * SGD with {@code lr} (0: no update); returns the loss of that forward.
     */
    private static double trainStep(Model m, float[] x, int n, float[] target, float lr) {
        ExecContext ctx = new ExecContext(cpu, true, 7);
        m.zeroGrad();
        Tensor in = cpu.upload(x, m.inputs().get(0).shape().withBatch(n));
        float[] p = cpu.download(m.forward(ctx, in));
        float[] g = new float[p.length];
        double loss = 0;
        for (int i = 0; i < p.length; i++) {
            g[i] = p[i] - target[i];
            loss += 0.5 * g[i] * g[i];
        }
        try (Tensor dy = cpu.upload(g, Shape.of(n, K))) {
            m.backward(ctx, dy);
        }
        if (lr > 0) {
            List<String> stepped = new ArrayList<>();
            for (Parameter q : m.parameters()) {
                if (!q.trainable() || q.grad() == null) continue;
                cpu.sgdUpdate(q.value(), q.grad(), null, null, lr, 0f, 0f, false);
                stepped.add(q.name());
            }
            assertTrue(stepped.contains("conv/kernel") && stepped.contains("logits/kernel"), stepped.toString());
        }
        in.close();
        return loss;
    }
}
