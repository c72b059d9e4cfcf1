package dev.shears.io.keras;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.core.backend.Activation;
import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.Parameter;
import dev.shears.core.nn.layers.*;
import dev.shears.core.tensor.Shape;
import dev.shears.io.ImportException;
import io.jhdf.HdfFile;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static dev.shears.io.keras.KerasTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Export to a Keras 2 full-model HDF5 and read back: same outputs, same weights (zeros of pruned
 * weights included), channels_last layout written without needless Permute layers, atomic write
 * that refuses to overwrite its input.
 */
class KerasExporterTest {
    static Backend cpu;
    @TempDir Path dir;

    @BeforeAll static void setUp() { cpu = CpuBackend.create(); }

    @AfterAll static void tearDown() { cpu.close(); }

    static JsonNode modelConfig(Path h5) throws Exception {
        try (HdfFile f = new HdfFile(h5)) {
            return new ObjectMapper().readTree((String) f.getAttribute("model_config").getData());
        }
    }

    static List<String> kerasClasses(JsonNode config) {
        List<String> out = new ArrayList<>();
        config.get("config").get("layers").forEach(l -> out.add(l.get("class_name").asText()));
        return out;
    }

    @Test
    void mnistMlpRoundTripKeepsStoredPredictions() throws Exception {
        Path cfg = resource("examples/mnist_mlp/mnist_mlp_tf_keras_2_config.json");
        Path w = resource("examples/mnist_mlp/mnist_mlp_tf_keras_2_weights.h5");
        Model first = KerasImporter.load(cfg, Optional.of(w), cpu);
        Path out = dir.resolve("mlp.h5");
        KerasExporter.export(first, out, cfg, w);
        assertEquals(Optional.of(KerasFormat.HDF5_FULL_MODEL), KerasFormat.detect(out));
        assertEquals(List.of(dir.resolve("mlp.h5")), Files.list(dir).toList(), "no temporary file left behind");

        KerasModel back = KerasImporter.importModel(out, Optional.empty(), cpu);
        assertEquals(first.parameterCount(), back.model().parameterCount());
        Path io = resource("examples/mnist_mlp/mnist_mlp_tf_keras_2_inputs_and_outputs.h5");
        Array x = read(io, "inputs/dense_1_input"), want = read(io, "predictions/dense_3");
        float[] a = predict(first, cpu, x.data(), x.batch()), b = predict(back.model(), cpu, x.data(), x.batch());
        assertArrayEquals(a, b, "same weights and graph: bit-identical outputs");
        assertClose(want.data(), b, 1e-5, "round trip vs stored Keras predictions");
        // Every weight travelled unchanged.
        for (Parameter p : first.parameters())
            assertArrayEquals(cpu.download(p.value()), cpu.download(back.model().parameter(p.name()).value()), p.name());
    }

    @Test
    void mnistCnnRoundTripWritesChannelsLastWithoutPermuteLayers() throws Exception {
        Path cfg = resource("examples/mnist_cnn/mnist_cnn_tf_keras_1_config.json");
        Path w = resource("examples/mnist_cnn/mnist_cnn_tf_keras_1_weights.h5");
        Model first = KerasImporter.load(cfg, Optional.of(w), cpu);
        Path out = dir.resolve("cnn.h5");
        KerasExporter.export(first, out, cfg, w);
        JsonNode config = modelConfig(out);
        assertEquals("Model", config.get("class_name").asText());
        List<String> classes = kerasClasses(config);
        assertFalse(classes.contains("Permute"), "the NHWC<->NCHW permutes of the IR need no Keras layer: " + classes);
        assertEquals(List.of("InputLayer", "Conv2D", "Activation", "Conv2D", "Activation", "MaxPooling2D", "Dropout", "Flatten",
                "Dense", "Activation", "Dropout", "Dense", "Softmax"), mapSoftmax(config));
        for (JsonNode l : config.get("config").get("layers"))
            if (l.get("class_name").asText().equals("Conv2D")) assertEquals("channels_last", l.get("config").get("data_format").asText());
        // Kernels written back in Keras' (kh, kw, in, out) layout, equal to the original file's.
        try (HdfFile f = new HdfFile(out)) {
            var ds = f.getDatasetByPath("model_weights/convolution2d_2/convolution2d_2/kernel:0");
            assertArrayEquals(new int[]{3, 3, 32, 32}, ds.getDimensions());
        }
        assertArrayEquals(read(w, "convolution2d_2/convolution2d_2_W:0").data(),
                read(out, "model_weights/convolution2d_2/convolution2d_2/kernel:0").data());

        Model back = KerasImporter.load(out, Optional.empty(), cpu);
        assertEquals(2, back.layers().stream().filter(l -> l instanceof Permute).count());
        float[] x = random(2 * 784, 3, 0.5f);
        for (int i = 0; i < x.length; i++) x[i] += 0.5f;
        assertArrayEquals(predict(first, cpu, x, 2), predict(back, cpu, x, 2));
    }

    /** The Keras class list with the IR's Softmax node shown as what it is written as. */
    private static List<String> mapSoftmax(JsonNode config) {
        List<String> out = new ArrayList<>();
        for (JsonNode l : config.get("config").get("layers")) {
            String cls = l.get("class_name").asText();
            boolean softmax = cls.equals("Activation") && l.get("config").get("activation").asText().equals("softmax");
            out.add(softmax ? "Softmax" : cls);
        }
        return out;
    }

    @Test
    void functionalGraphRoundTrip() throws Exception {
        var w = KerasFunctionalTest.functionalWeights();
        KerasFunctionalTest.cpu = cpu;
        Model first = KerasFunctionalTest.importFunctional(dir, w).model();
        Path out = dir.resolve("functional_export.h5");
        KerasExporter.export(first, out);
        Model back = KerasImporter.load(out, Optional.empty(), cpu);
        float[] x = random(3 * 7 * 6 * 3, 77, 1f);
        assertClose(predict(first, cpu, x, 3), predict(back, cpu, x, 3), 1e-6, "functional round trip");
        assertClose(KerasFunctionalTest.functionalReference(x, 3, w).get("out"), predict(back, cpu, x, 3), 1e-5, 1e-5, "vs reference");
    }

    /**
     * A model built natively in NCHW, with paddings Keras cannot say with 'same'/'valid'
     * (written as ZeroPadding2D), count-include-pad average pooling, PReLU per channel,
     * Concat over channels, a Permute, and a softmax over a rank-2 tensor.
     */
    @Test
    void nativeNchwModelRoundTrip() throws Exception {
        Model m = Model.builder()
                .input("image", Shape.of(1, 12, 12))
                .then(new Conv2D("conv1", 1, 4, 3, 3, 1, 1, 1, 0, 2, 1, 1, 1, 1, true))         // -> [4, 13, 11]
                .then(new BatchNorm("bn", 4, 1e-3f, 0.99f))
                .then(new ActivationLayer("relu", Activation.RELU))
                .then(new AvgPool2D("ap", 2, 2, 2, 2, 1, 1, 1, 1, false, true))                     // -> [4, 7, 6]
                .then(new MaxPool2D("mp", 2, 2, 1, 1, 0, 0, 1, 1, false))                            // 'same' -> [4, 7, 6]
                .then(new Conv2D("conv2", 4, 6, 3, 3, 2, 2, 1, 0, 1, 1, 1, 1, 1, true))            // 'same' -> [6, 4, 3]
                .then(new PReLU("pr", Shape.of(6)))
                .add(new Conv2D("conv3", 4, 2, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, 1, false), "mp")      // -> [2, 4, 3]
                .add(new Concat("cat", 0), "pr", "conv3")                                           // -> [8, 4, 3]
                .then(new ActivationLayer("tanh", Activation.TANH))
                .add(new Add("add"), "cat", "tanh")
                .then(new Permute("perm", 0, 2, 1))                                                 // -> [8, 3, 4]
                .then(new Flatten("flat"))                                                          // -> [96]
                .add(new GlobalAvgPool2D("gap", false), "add")                                      // -> [8]
                .add(new Concat("cat2", 0), "flat", "gap")                                          // -> [104]
                .then(new Dense("fc", 104, 10, true))
                .then(new ActivationLayer("lrelu", Activation.LEAKY_RELU, 0.2f))
                .then(new Dropout("drop", 0.25f))
                .then(new Reshape("rs", Shape.of(2, 5)))
                .then(new Softmax("sm", false))
                .build();
        m.bind(cpu, 42);
        BatchNorm bn = (BatchNorm) m.layer("bn");
        cpu.write(new float[]{0.1f, -0.2f, 0.3f, 0f}, 0, bn.movingMean().value(), 0, 4);
        cpu.write(new float[]{0.5f, 1.5f, 0.8f, 2f}, 0, bn.movingVariance().value(), 0, 4);
        cpu.write(random(6, 5, 0.5f), 0, ((PReLU) m.layer("pr")).slope().value(), 0, 6);

        Path out = dir.resolve("native.h5");
        KerasExporter.export(m, out);
        List<String> classes = kerasClasses(modelConfig(out));
        assertTrue(classes.contains("ZeroPadding2D"), "asymmetric conv padding and count-include-pad pooling: " + classes);
        assertTrue(classes.contains("Permute"), "the NCHW input needs one Permute to channels_last: " + classes);
        Model back = KerasImporter.load(out, Optional.empty(), cpu);
        assertEquals(m.inputs().get(0).shape(), back.inputs().get(0).shape());
        assertEquals(m.outputShape(), back.outputShape());
        float[] x = random(3 * 144, 8, 1f);
        assertClose(predict(m, cpu, x, 3), predict(back, cpu, x, 3), 1e-6, 1e-5, "native model round trip");
    }

    @Test
    void prunedZerosSurviveExactly() throws Exception {
        Path cfg = resource("examples/mnist_mlp/mnist_mlp_tf_keras_1_config.json");
        Path w = resource("examples/mnist_mlp/mnist_mlp_tf_keras_1_weights.h5");
        Model m = KerasImporter.load(cfg, Optional.of(w), cpu);
        Dense d = (Dense) m.layer("dense_2");
        float[] k = cpu.download(d.kernel().value());
        int zeros = 0;
        for (int i = 0; i < k.length; i++) if (i % 10 != 0) { k[i] = 0f; zeros++; }
        cpu.write(k, 0, d.kernel().value(), 0, k.length);
        Path out = dir.resolve("pruned.h5");
        KerasExporter.export(m, out, cfg, w);
        float[] stored = read(out, "model_weights/dense_2/dense_2/kernel:0").data();
        assertArrayEquals(k, stored);
        int storedZeros = 0;
        for (float v : stored) if (v == 0f) storedZeros++;
        assertTrue(storedZeros >= zeros);
        Model back = KerasImporter.load(out, Optional.empty(), cpu);
        assertArrayEquals(k, cpu.download(((Dense) back.layer("dense_2")).kernel().value()));
    }

    @Test
    void refusesToOverwriteItsInputAndLeavesItIntact() throws Exception {
        Path src = dir.resolve("model.h5");
        Files.copy(resource("fullconfigs/cnn/cnn_batch_norm.h5"), src);
        byte[] before = Files.readAllBytes(src);
        Model m = KerasImporter.load(src, Optional.empty(), cpu);
        ImportException e = assertThrows(ImportException.class, () -> KerasExporter.export(m, src, src));
        assertTrue(e.getMessage().contains("input"), e.getMessage());
        assertArrayEquals(before, Files.readAllBytes(src));
        assertEquals(List.of(src), Files.list(dir).toList());
    }

    @Test
    void layerWithoutKerasEquivalentIsRefused() {
        Model m = Model.builder().input("x", Shape.of(3, 4, 4)).then(new LRN("norm", 3, 1e-4f, 0.75f, 1f)).build().bind(cpu, 1);
        ImportException e = assertThrows(ImportException.class, () -> KerasExporter.export(m, dir.resolve("lrn.h5")));
        assertEquals("norm", e.node());
        assertTrue(e.getMessage().contains("LRN"), e.getMessage());
        assertTrue(e.supported().contains("Conv2D"));
        assertFalse(Files.exists(dir.resolve("lrn.h5")));
    }
}
