package dev.shears.io.onnx;

import dev.shears.core.backend.Activation;
import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.Layer;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.layers.ActivationLayer;
import dev.shears.core.nn.layers.Dense;
import dev.shears.core.tensor.Shape;
import dev.shears.io.FloatArray;
import dev.shears.io.ImportException;
import dev.shears.io.onnx.proto.AttributeProto;
import dev.shears.io.onnx.proto.NodeProto;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import static dev.shears.io.onnx.TestGraph.f;
import static dev.shears.io.onnx.TestGraph.in;
import static org.junit.jupiter.api.Assertions.*;

/**
 * ONNX HardSigmoid(x; alpha, beta) = max(0, min(1, alpha*x + beta)) with any alpha and beta
 * imports as one HARD_SIGMOID of that slope and offset, wherever it stands; each import is checked
 * against ONNX Runtime on the same file and against the definition computed here in double. The
 * export writes the slope and offset as alpha and beta, runs in ONNX Runtime and reads back.
 */
class OnnxHardSigmoidTest {
    private static final double RTOL = 1e-5, ATOL = 1e-6;
    private static Backend cpu;
    @TempDir Path dir;

    @BeforeAll static void backend() { cpu = CpuBackend.create(); }
    @AfterAll static void close() { cpu.close(); }

    /** x [2, 3, 5] -> HardSigmoid(attrs) -> y, checked against ONNX Runtime and clip(alpha*x + beta, 0, 1); the one activation. */
    private ActivationLayer imported(String name, double alpha, double beta, AttributeProto... attrs) throws IOException {
        Path file = new TestGraph(13, 13).input("x", 2, 3, 5).op("HardSigmoid", in("x"), "y", attrs).output("y").write(dir, name + ".onnx");
        FloatArray x = Numerics.random(name.hashCode(), -8f, 8f, 2, 3, 5);
        Model m = OnnxImporter.load(file, cpu);
        FloatArray shears = Numerics.shears(m, x);
        Numerics.assertClose(Numerics.onnxRuntime(file, x), shears, RTOL, ATOL, name + " vs ONNX Runtime");
        float[] e = new float[x.data().length];
        for (int i = 0; i < e.length; i++) e[i] = (float) Math.min(1, Math.max(0, alpha * x.data()[i] + beta));
        Numerics.assertClose(new FloatArray(x.shape(), e), shears, RTOL, ATOL, name + " vs its definition");
        List<ActivationLayer> a = m.layers().stream().filter(l -> l instanceof ActivationLayer).map(l -> (ActivationLayer) l).toList();
        assertEquals(1, a.size(), name + ": " + m.layers());
        assertEquals(Activation.HARD_SIGMOID, a.getFirst().function(), name);
        return a.getFirst();
    }

    @Test void theDefaultsAreKeras2s() throws IOException {
        ActivationLayer a = imported("hs_defaults", 0.2, 0.5);
        assertEquals(0.2f, a.alpha());
        assertEquals(0.5f, a.beta());
    }

    @Test void pytorchsHardsigmoidStandingAlone() throws IOException {
        // nn.Hardsigmoid = relu6(x + 3) / 6, exported as HardSigmoid(1/6, 0.5); not read by a Mul of x, so not hard swish
        ActivationLayer a = imported("hs_torch", 1.0 / 6, 0.5, f("alpha", 1f / 6), f("beta", 0.5f));
        assertEquals(1f / 6, a.alpha());
        assertEquals(0.5f, a.beta());
    }

    @Test void anyAlphaAndBetaOnTheGraphInput() throws IOException {
        // on the graph's input, where the old fold into a preceding layer could not go (it was refused)
        ActivationLayer a = imported("hs_any", 0.25f, 0.4f, f("alpha", 0.25f), f("beta", 0.4f));
        assertEquals(0.25f, a.alpha());
        assertEquals(0.4f, a.beta());
        // a negative slope, an offset above 1, and beta alone (alpha's default 0.2)
        imported("hs_negative", -0.3f, 0.6f, f("alpha", -0.3f), f("beta", 0.6f));
        imported("hs_high", 0.5f, 1.5f, f("alpha", 0.5f), f("beta", 1.5f));
        ActivationLayer b = imported("hs_beta_only", 0.2f, 0.1f, f("beta", 0.1f));
        assertEquals(0.2f, b.alpha());
        assertEquals(0.1f, b.beta());
    }

    @Test void aNonFiniteAlphaIsRefusedNamingTheNode() throws IOException {
        Path file = new TestGraph(13, 14).input("x", 2, 3).op("HardSigmoid", in("x"), "y", f("alpha", Float.POSITIVE_INFINITY))
                .output("y").write(dir, "hs_inf.onnx");
        ImportException e = assertThrows(ImportException.class, () -> OnnxImporter.read(file));
        assertTrue(e.getMessage().contains("HardSigmoid with alpha Infinity, beta 0.5") && e.getMessage().contains("finite"), e.getMessage());
        assertEquals(file, e.file());
        assertTrue(e.node().contains("HardSigmoid"), e.node());
    }

    @Test void exportWritesAlphaAndBetaRunsInOnnxRuntimeAndReadsBack() throws IOException {
        Model m = Model.builder().input("x", Shape.of(10))
                .then(new Dense("fc", 10, 8, true)).then(new ActivationLayer("keras2", Activation.HARD_SIGMOID))
                .then(new Dense("fc2", 8, 8, true)).then(new ActivationLayer("keras3", Activation.HARD_SIGMOID, 1f / 6, 0.5f))
                .then(new Dense("fc3", 8, 8, true)).then(new ActivationLayer("other", Activation.HARD_SIGMOID, -0.3f, 0.6f))
                .build().bind(cpu, 3);
        // larger weights so the hard sigmoids' inputs cross both kinks
        for (var p : m.parameters()) {
            float[] v = cpu.download(p.value());
            for (int i = 0; i < v.length; i++) v[i] *= 6;
            cpu.copy(cpu.upload(v, p.value().shape()), p.value());
        }
        Path out = dir.resolve("hs.onnx");
        OnnxExporter.write(m, out, OnnxExporter.Options.defaults());
        List<NodeProto> hs = OnnxExporter.toProto(m, OnnxExporter.Options.defaults()).getGraph().getNodeList().stream()
                .filter(n -> n.getOpType().equals("HardSigmoid")).toList();
        assertEquals(3, hs.size());
        float[][] want = {{0.2f, 0.5f}, {1f / 6, 0.5f}, {-0.3f, 0.6f}};
        for (int i = 0; i < 3; i++) {
            assertEquals(want[i][0], attribute(hs.get(i), "alpha"), hs.get(i).getName());
            assertEquals(want[i][1], attribute(hs.get(i), "beta"), hs.get(i).getName());
        }
        FloatArray x = Numerics.random(21, -3f, 3f, 4, 10);
        FloatArray shears = Numerics.shears(m, x);
        Numerics.assertClose(Numerics.onnxRuntime(out, x), shears, 1e-4, 1e-5, "export vs ONNX Runtime");
        Model back = OnnxImporter.load(out, cpu);
        Numerics.assertClose(shears, Numerics.shears(back, x), 1e-6, 1e-7, "re-imported");
        List<ActivationLayer> a = back.layers().stream().filter(l -> l instanceof ActivationLayer).map(l -> (ActivationLayer) l).toList();
        assertEquals(List.of("keras2", "keras3", "other"), a.stream().map(Layer::name).toList());
        for (int i = 0; i < 3; i++) {
            assertEquals(Activation.HARD_SIGMOID, a.get(i).function());
            assertEquals(want[i][0], a.get(i).alpha());
            assertEquals(want[i][1], a.get(i).beta());
        }
    }

    private static float attribute(NodeProto n, String name) {
        return n.getAttributeList().stream().filter(at -> at.getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError(n.getName() + " has no attribute " + name)).getF();
    }
}
