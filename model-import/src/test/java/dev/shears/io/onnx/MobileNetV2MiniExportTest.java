package dev.shears.io.onnx;

import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.Architectures;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.Parameter;
import dev.shears.core.tensor.Shape;
import dev.shears.io.FloatArray;
import dev.shears.io.keras.KerasExporter;
import dev.shears.io.keras.KerasImporter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The built-in mobilenet-v2-mini (depthwise convolutions, BatchNorm, ReLU6, residual Adds, global
 * average pooling) exported to ONNX, a Keras 3 archive and Keras 2 HDF5 and read back gives the
 * same outputs as the model it came from; the ONNX file also runs in ONNX Runtime to the same
 * outputs. BatchNorm statistics, scales and shifts are randomised first so that no BatchNorm is
 * the identity and a misplaced one shows.
 */
class MobileNetV2MiniExportTest {
    private static Backend cpu;
    @TempDir Path dir;

    @BeforeAll static void backend() { cpu = CpuBackend.create(); }
    @AfterAll static void close() { cpu.close(); }

    private static Model model() {
        Model m = Architectures.create("mobilenet-v2-mini", Shape.of(1, 28, 28), 10).bind(cpu, 9);
        SplittableRandom r = new SplittableRandom(17);
        for (Parameter p : m.parameters()) {
            float lo, hi;
            switch (p.role()) {
                case GAMMA -> { lo = 0.5f; hi = 1.5f; }
                case BETA, RUNNING_MEAN, BIAS -> { lo = -0.3f; hi = 0.3f; }
                case RUNNING_VAR -> { lo = 0.2f; hi = 2f; }
                default -> { continue; }
            }
            float[] v = new float[(int) p.shape().size()];
            for (int i = 0; i < v.length; i++) v[i] = (float) (lo + (hi - lo) * r.nextDouble());
            p.setValue(cpu.upload(v, p.shape()));
        }
        return m;
    }

    @Test void onnxRoundTripAndOnnxRuntimeGiveTheSameOutputs() throws IOException {
        Model m = model();
        FloatArray x = Numerics.random(4, 0f, 1f, 3, 1, 28, 28);
        FloatArray want = Numerics.shears(m, x);
        Path out = dir.resolve("mobilenet-v2-mini.onnx");
        OnnxExporter.write(m, out, OnnxExporter.Options.defaults());
        Model back = OnnxImporter.load(out, cpu);
        assertEquals(m.parameterCount(), back.parameterCount());
        assertArrayEquals(want.data(), Numerics.shears(back, x).data(), "ONNX round trip: bit-identical outputs");
        Numerics.assertClose(Numerics.onnxRuntime(out, x), want, 1e-4, 1e-5, "exported, ONNX Runtime vs Shears");
    }

    @Test void kerasRoundTripsGiveTheSameOutputs() {
        Model m = model();
        FloatArray x = Numerics.random(5, 0f, 1f, 3, 1, 28, 28);
        FloatArray want = Numerics.shears(m, x);
        for (String name : new String[]{"mobilenet-v2-mini.keras", "mobilenet-v2-mini.h5"}) {
            Path out = dir.resolve(name);
            KerasExporter.export(m, out);
            Model back = KerasImporter.load(out, Optional.empty(), cpu);
            assertEquals(m.parameterCount(), back.parameterCount(), name);
            // the importer may reorder layout (channels-last kernels transposed back), not arithmetic: allow rounding only
            Numerics.assertClose(want, Numerics.shears(back, x), 1e-5, 1e-6, name + " round trip");
        }
    }
}
