package dev.shears.io.keras;

import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.tensor.Shape;
import dev.shears.io.keras.NhwcReference.Img;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static dev.shears.io.keras.KerasTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Keras 3 {@code .keras} archives: two written by real Keras 3.15.1 (src/test/resources/keras3),
 * whose predictions Shears must reproduce, and others built here by hand from known models:
 * {@code config.json} in Keras 3's serialisation (module/class_name/config, {@code batch_shape},
 * {@code __keras_tensor__} inbound nodes, bare {@code input_layers}), {@code metadata.json}, and
 * {@code model.weights.h5} with {@code layers/<name>/vars/<i>}. The MLP archive carries the real
 * Keras 2.0.6 MNIST MLP weights and must reproduce that model's stored predictions.
 */
class Keras3ArchiveTest {
    static Backend cpu;
    @TempDir Path dir;

    @BeforeAll static void setUp() { cpu = CpuBackend.create(); }

    @AfterAll static void tearDown() { cpu.close(); }

    static String dense(String name, int units, String activation, String from, int inFeatures) {
        return """
                {"module": "keras.layers", "class_name": "Dense", "config": {"name": "%s", "trainable": true,
                  "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": null},
                  "units": %d, "activation": "%s", "use_bias": true,
                  "kernel_initializer": {"module": "keras.initializers", "class_name": "GlorotUniform", "config": {"seed": null}, "registered_name": null},
                  "bias_initializer": {"module": "keras.initializers", "class_name": "Zeros", "config": {}, "registered_name": null},
                  "kernel_regularizer": null, "bias_regularizer": null, "kernel_constraint": null, "bias_constraint": null},
                 "registered_name": null, "build_config": {"input_shape": [null, %d]}, "name": "%s",
                 "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"shape": [null, %d], "dtype": "float32", "keras_history": ["%s", 0, 0]}}], "kwargs": {}}]}
                """.formatted(name, units, activation, inFeatures, name, inFeatures, from);
    }

    static String dropout(String name, String from, int features) {
        return """
                {"module": "keras.layers", "class_name": "Dropout", "config": {"name": "%s", "trainable": true, "dtype": "float32", "rate": 0.2, "seed": null, "noise_shape": null},
                 "registered_name": null, "name": "%s",
                 "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"shape": [null, %d], "dtype": "float32", "keras_history": ["%s", 0, 0]}}], "kwargs": {"training": false}}]}
                """.formatted(name, name, features, from);
    }

    static final String MLP_CONFIG = """
            {"module": "keras.src.models.functional", "class_name": "Functional", "config": {"name": "functional", "trainable": true, "layers": [
             {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [null, 784], "dtype": "float32", "sparse": false, "name": "input_layer"}, "registered_name": null, "name": "input_layer", "inbound_nodes": []},
             %s, %s, %s, %s, %s],
             "input_layers": ["input_layer", 0, 0], "output_layers": ["dense_2", 0, 0]},
             "registered_name": "Functional", "build_config": {"input_shape": null},
             "compile_config": {"optimizer": "rmsprop", "loss": "categorical_crossentropy", "metrics": ["accuracy"]}}
            """.formatted(dense("dense", 512, "relu", "input_layer", 784), dropout("dropout", "dense", 512),
            dense("dense_1", 512, "relu", "dropout", 512), dropout("dropout_1", "dense_1", 512), dense("dense_2", 10, "softmax", "dropout_1", 512));

    static void zip(Path archive, Map<String, byte[]> entries) throws IOException {
        try (OutputStream os = Files.newOutputStream(archive); ZipOutputStream z = new ZipOutputStream(os)) {
            for (var e : entries.entrySet()) {
                z.putNextEntry(new ZipEntry(e.getKey()));
                z.write(e.getValue());
                z.closeEntry();
            }
        }
    }

    static Path archive(Path dir, String name, String config, KerasH5Writer.Weights w) throws IOException {
        Path h5 = dir.resolve(name + ".weights.h5");
        KerasH5Writer.writeKeras3(h5, w);
        Path archive = dir.resolve(name + ".keras");
        zip(archive, Map.of("config.json", config.getBytes(StandardCharsets.UTF_8),
                "metadata.json", "{\"keras_version\": \"3.3.3\", \"date_saved\": \"2024-05-01@12:00:00\"}".getBytes(StandardCharsets.UTF_8),
                "model.weights.h5", Files.readAllBytes(h5)));
        return archive;
    }

    @Test
    void functionalMlpArchiveReproducesTheKeras2Predictions() throws IOException {
        Path k2 = resource("examples/mnist_mlp/mnist_mlp_tf_keras_2_weights.h5");
        var w = new KerasH5Writer.Weights();
        String[][] names = {{"dense", "dense_1"}, {"dense_1", "dense_2"}, {"dense_2", "dense_3"}};
        for (String[] n : names) {
            Array k = read(k2, n[1] + "/" + n[1] + "/kernel:0"), b = read(k2, n[1] + "/" + n[1] + "/bias:0");
            w.put(n[0], "kernel", k.dims(), k.data()).put(n[0], "bias", b.dims(), b.data());
        }
        Path keras = archive(dir, "mlp", MLP_CONFIG, w);
        assertEquals(Optional.of(KerasFormat.KERAS_ARCHIVE), KerasFormat.detect(keras));
        KerasModel km = KerasImporter.importModel(keras, Optional.empty(), cpu);
        assertEquals("3.3.3", km.kerasVersion());
        assertEquals(KerasFormat.KERAS_ARCHIVE, km.format());

        Path io = resource("examples/mnist_mlp/mnist_mlp_tf_keras_2_inputs_and_outputs.h5");
        Array x = read(io, "inputs/dense_1_input"), want = read(io, "predictions/dense_3");
        assertClose(want.data(), predict(km.model(), cpu, x.data(), x.batch()), 1e-5, "Keras 3 archive predictions");
    }

    static final String CONV_SEQUENTIAL = """
            {"module": "keras", "class_name": "Sequential", "config": {"name": "sequential", "trainable": true,
              "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": null},
              "layers": [
               {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [null, 5, 5, 5], "dtype": "float32", "sparse": false, "name": "input_layer"}, "registered_name": null},
               {"module": "keras.layers", "class_name": "Conv2D", "config": {"name": "conv2d", "trainable": true, "dtype": "float32", "filters": 6,
                 "kernel_size": [3, 3], "strides": [1, 1], "padding": "same", "data_format": "channels_last", "dilation_rate": [1, 1], "groups": 1,
                 "activation": {"module": "keras.activations", "class_name": "function", "config": "relu", "registered_name": "function"},
                 "use_bias": true}, "registered_name": null, "build_config": {"input_shape": [null, 5, 5, 5]}},
               {"module": "keras.layers", "class_name": "BatchNormalization", "config": {"name": "batch_normalization", "trainable": true, "dtype": "float32",
                 "axis": -1, "momentum": 0.99, "epsilon": 0.001, "center": false, "scale": true}, "registered_name": null}
              ], "build_input_shape": [null, 5, 5, 5]}, "registered_name": null}
            """;

    @Test
    void sequentialConvArchiveWithSerialisedActivationAndPositionalBatchNormVariables() throws IOException {
        Path f = resource("weights/conv2d_tensorflow_2.h5");
        Array k = read(f, "model_weights/conv2d_1/conv2d_1/kernel:0"), b = read(f, "model_weights/conv2d_1/conv2d_1/bias:0");
        float[] gamma = random(6, 41, 1f), mean = random(6, 42, 0.3f), var = random(6, 43, 0.3f);
        for (int i = 0; i < 6; i++) var[i] = Math.abs(var[i]) + 0.2f;
        // center=false: no beta, so the variables are gamma, moving_mean, moving_variance in that order.
        var w = new KerasH5Writer.Weights().put("conv2d", "kernel", k.dims(), k.data()).put("conv2d", "bias", b.dims(), b.data())
                .put("batch_normalization", "gamma", new int[]{6}, gamma).put("batch_normalization", "mean", new int[]{6}, mean)
                .put("batch_normalization", "var", new int[]{6}, var);
        Path keras = archive(dir, "conv", CONV_SEQUENTIAL, w);
        var model = KerasImporter.load(keras, Optional.empty(), cpu);
        assertEquals(Shape.of(5, 5, 6), model.outputShape());
        int n = 2;
        float[] x = random(n * 125, 44, 1f);
        Img c = NhwcReference.conv(new Img(x, n, 5, 5, 5), k.data(), b.data(), 3, 3, 6, 1, 1, 1, 1, 5, 5, 1, 1);
        float[] want = NhwcReference.batchNorm(NhwcReference.relu(c.d()), 6, gamma, new float[6], mean, var, 1e-3);
        assertClose(want, predict(model, cpu, x, n), 1e-5, 1e-5, "Keras 3 sequential conv + batch norm");
    }

    /** A real Keras 3.15.1 Functional model with every layer class Shears exports, and Keras' own predictions. */
    @Test
    void realKeras3FunctionalFileReproducesKerasPredictions() throws IOException {
        Path keras = KerasArchiveExporterTest.keras3Resource("all_layers.keras");
        KerasModel km = KerasImporter.importModel(keras, Optional.empty(), cpu);
        assertEquals("3.15.1", km.kerasVersion());
        var x = dev.shears.io.FloatArray.of(dev.shears.core.data.Npy.read(KerasArchiveExporterTest.keras3Resource("all_layers_input.npy")));
        var want = dev.shears.io.FloatArray.of(dev.shears.core.data.Npy.read(KerasArchiveExporterTest.keras3Resource("all_layers_output.npy")));
        assertEquals(Shape.of(8, 8, 3), km.model().inputs().get(0).shape());
        assertClose(want.data(), predict(km.model(), cpu, x.data(), x.shape().dim(0)), 1e-5, 1e-4, "Keras 3.15 predictions");
    }

    /**
     * Keras 3 names weight groups by class and position, not by layer name: layer "hidden" is
     * layers/dense and "logits" layers/dense_1 (a Sequential model's InputLayer is not counted).
     * Looking groups up by layer name would find nothing here.
     */
    @Test
    void realKeras3SequentialFileWithCustomLayerNames() throws IOException {
        Path keras = KerasArchiveExporterTest.keras3Resource("mlp_sequential.keras");
        var model = KerasImporter.load(keras, Optional.empty(), cpu);
        var x = dev.shears.io.FloatArray.of(dev.shears.core.data.Npy.read(KerasArchiveExporterTest.keras3Resource("mlp_sequential_input.npy")));
        var want = dev.shears.io.FloatArray.of(dev.shears.core.data.Npy.read(KerasArchiveExporterTest.keras3Resource("mlp_sequential_output.npy")));
        assertClose(want.data(), predict(model, cpu, x.data(), x.shape().dim(0)), 1e-6, 1e-5, "Keras 3.15 Sequential predictions");
    }

    @Test
    void keras3GroupNamesFollowKerasSnakeCase() {
        assertEquals("dense", Keras3Paths.snakeCase("Dense"));
        assertEquals("conv2d", Keras3Paths.snakeCase("Conv2D"));
        assertEquals("batch_normalization", Keras3Paths.snakeCase("BatchNormalization"));
        assertEquals("global_average_pooling2d", Keras3Paths.snakeCase("GlobalAveragePooling2D"));
        assertEquals("p_re_lu", Keras3Paths.snakeCase("PReLU"));
        assertEquals("leaky_re_lu", Keras3Paths.snakeCase("LeakyReLU"));
        assertEquals("elu", Keras3Paths.snakeCase("ELU"));
        assertEquals("zero_padding2d", Keras3Paths.snakeCase("ZeroPadding2D"));
        var paths = Keras3Paths.assign(java.util.List.of(new Keras3Paths.SavedLayer("Dense", "a"), new Keras3Paths.SavedLayer("Dropout", "b"),
                new Keras3Paths.SavedLayer("Dense", "c"), new Keras3Paths.SavedLayer("Dense", "d")));
        assertEquals(java.util.Map.of("a", "layers/dense", "b", "layers/dropout", "c", "layers/dense_1", "d", "layers/dense_2"), paths);
    }
}
