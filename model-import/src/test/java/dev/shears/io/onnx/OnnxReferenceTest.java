package dev.shears.io.onnx;

import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.Model;
import dev.shears.core.tensor.Shape;
import dev.shears.io.FloatArray;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Must-show 2: every ONNX case in the test data (PyTorch-converted single-op models and the
 * light AlexNet, Inception v1, ResNet-50 and SqueezeNet graphs) matches its reference output
 * within rtol 1e-3, atol 1e-7.
 */
class OnnxReferenceTest {
    private static Backend cpu;

    @BeforeAll static void backend() { cpu = CpuBackend.create(); }
    @AfterAll static void close() { cpu.close(); }

    static List<String> pytorchCases() { return TestData.PYTORCH_CASES; }
    static List<String> lightModels() { return TestData.LIGHT_MODELS; }

    @ParameterizedTest @MethodSource("pytorchCases")
    void pytorchConvertedCaseMatchesItsReferenceOutput(String c) {
        Model m = OnnxImporter.load(TestData.pytorchModel(c), cpu);
        FloatArray input = TensorProtoFiles.read(TestData.pytorchInput(c));
        FloatArray expected = TensorProtoFiles.read(TestData.pytorchOutput(c));
        FloatArray actual = Numerics.shears(m, input);
        assertEquals(expected.shape(), actual.shape(), c);
        Numerics.assertClose(expected, actual, Numerics.RTOL, Numerics.ATOL, c);
    }

    @ParameterizedTest @MethodSource("lightModels")
    void lightModelMatchesItsReferenceOutput(String net) {
        long t0 = System.nanoTime();
        Model m = OnnxImporter.load(TestData.lightModel(net), cpu);
        Shape in = m.inputs().get(0).shape().withBatch(1);
        FloatArray expected = TensorProtoFiles.read(TestData.lightOutput(net));
        FloatArray actual = Numerics.shears(m, Numerics.arange(in.dims()));
        System.err.printf("light %s: import + forward %.1f s%n", net, (System.nanoTime() - t0) / 1e9);
        assertEquals(expected.shape().size(), actual.shape().size(), net);
        Numerics.assertClose(expected, actual, Numerics.RTOL, Numerics.ATOL, net);
    }
}
