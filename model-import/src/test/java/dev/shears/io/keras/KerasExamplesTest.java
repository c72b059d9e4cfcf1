package dev.shears.io.keras;

import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.layers.Dense;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static dev.shears.io.keras.KerasTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The MNIST MLPs saved by real Keras 1.2.1 and 2.0.6 (config JSON + weights-only HDF5) reproduce
 * the predictions and every per-layer activation Keras stored for 100 inputs.
 */
class KerasExamplesTest {
    /** Float32 sums over 784 and 512 terms, in another order than TensorFlow's: ~1e-6 observed. */
    static final double ATOL = 1e-5;
    /**
     * Pre-softmax logits reach |x| ~ 110, where one float32 ulp is 7.6e-6: for activations the
     * bound grows with the value (2e-6 relative, about 16 ulps of a 512-term dot product).
     */
    static final double RTOL = 2e-6;
    static Backend cpu;

    @BeforeAll static void setUp() { cpu = CpuBackend.create(); }

    @AfterAll static void tearDown() { cpu.close(); }

    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void mnistMlpReproducesKerasPredictionsAndActivations(int kerasMajor) {
        String base = "examples/mnist_mlp/mnist_mlp_tf_keras_" + kerasMajor;
        Path config = resource(base + "_config.json"), weights = resource(base + "_weights.h5");
        Path io = resource(base + "_inputs_and_outputs.h5");
        KerasModel km = KerasImporter.importModel(config, Optional.of(weights), cpu);
        assertEquals(KerasFormat.CONFIG_JSON, km.format());
        assertEquals(kerasMajor == 1 ? "1.2.1" : "2.0.6", km.kerasVersion());
        assertEquals(Shape.of(784), km.model().inputs().get(0).shape());
        assertEquals(Shape.of(10), km.model().outputShape());
        assertEquals(784 * 512 + 512 + 512 * 512 + 512 + 512 * 10 + 10, km.model().parameterCount());

        String inputName = children(io, "inputs").get(0);
        Array x = read(io, "inputs/" + inputName);
        assertEquals(100, x.batch());
        String outName = children(io, "predictions").get(0);
        Array expected = read(io, "predictions/" + outName);

        Tensor input = cpu.upload(x.data(), Shape.of(x.dims()));
        Map<String, float[]> all = forwardAll(km.model(), cpu, List.of(input));
        float[] predicted = all.get(km.model().outputName());
        assertClose(expected.data(), predicted, ATOL, base + " predictions");
        // The same through Model.forward, the path the CLI takes.
        assertClose(expected.data(), predict(km.model(), cpu, x.data(), x.batch()), ATOL, base + " Model.forward");

        List<String> layers = children(io, "activations");
        assertFalse(layers.isEmpty());
        for (String layer : layers) {
            KerasModel.LayerOutput where = km.layerOutputs().get(layer);
            assertNotNull(where, "no IR node for Keras layer " + layer);
            Array act = read(io, "activations/" + layer);
            assertClose(act.data(), where.toKerasLayout(all.get(where.node()), act.batch()), ATOL, RTOL, base + " activations/" + layer);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void mnistMlpIrStructure(int kerasMajor) {
        String base = "examples/mnist_mlp/mnist_mlp_tf_keras_" + kerasMajor;
        KerasModel km = KerasImporter.importModel(resource(base + "_config.json"), Optional.of(resource(base + "_weights.h5")), cpu);
        List<String> types = km.model().layers().stream().map(l -> l.type()).toList();
        // Keras 2 fuses relu/softmax into Dense (split into their own nodes); Keras 1 has Activation layers.
        assertEquals(List.of("Dense", "Activation", "Dropout", "Dense", "Activation", "Dropout", "Dense", "Softmax"), types);
        Dense d1 = (Dense) km.model().layer("dense_1");
        assertEquals(Shape.of(784, 512), d1.kernel().shape());
        // Kernel values land unchanged ([in, out] in both): compare with the raw dataset.
        Path w = resource(base + "_weights.h5");
        Array raw = read(w, kerasMajor == 1 ? "dense_1/dense_1_W:0" : "dense_1/dense_1/kernel:0");
        assertArrayEquals(raw.data(), cpu.download(d1.kernel().value()));
    }
}
