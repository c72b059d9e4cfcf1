package dev.shears.io.onnx;

import dev.shears.core.backend.Activation;
import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.Layer;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.layers.ActivationLayer;
import dev.shears.core.nn.layers.Dense;
import dev.shears.core.nn.layers.Multiply;
import dev.shears.core.tensor.Shape;
import dev.shears.io.FloatArray;
import dev.shears.io.ImportException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.DoubleUnaryOperator;

import static dev.shears.io.onnx.TestGraph.f;
import static dev.shears.io.onnx.TestGraph.in;
import static dev.shears.io.onnx.TestGraph.t;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The MobileNet/EfficientNet activations through ONNX: Clip in its opset 6-10 (attributes) and
 * 11+ (optional inputs: initializers, Constant nodes, folded constants, empty names) forms,
 * HardSwish, the x * Sigmoid(x) and x * HardSigmoid(x; 1/6, 0.5) pairs, and the export of
 * RELU_CAPPED, HARD_SWISH and SWISH at opset 13. Each import is checked against ONNX Runtime on
 * the same file and against the definition computed here in double; each export against ONNX
 * Runtime and read back. Inputs span [-8, 8] so ReLU6's cap and hard swish's +-3 are crossed.
 */
class OnnxMobileActivationsTest {
    private static final double RTOL = 1e-5, ATOL = 1e-6;
    private static Backend cpu;
    @TempDir Path dir;

    @BeforeAll static void backend() { cpu = CpuBackend.create(); }
    @AfterAll static void close() { cpu.close(); }

    private static final DoubleUnaryOperator RELU6 = v -> Math.min(Math.max(v, 0), 6);
    private static final DoubleUnaryOperator HARD_SWISH = v -> v * Math.min(Math.max(v + 3, 0), 6) / 6;
    private static final DoubleUnaryOperator SWISH = v -> v / (1 + Math.exp(-v));

    private static FloatArray input(String name) {
        return Numerics.random(name.hashCode(), -8f, 8f, 2, 3, 5);
    }

    /** Imports the graph (input x [2, 3, 5], output y), checks it against ORT and fn element-wise, returns the model. */
    private Model check(TestGraph g, String name, DoubleUnaryOperator fn) throws IOException {
        Path file = g.write(dir, name + ".onnx");
        FloatArray x = input(name);
        Model m = OnnxImporter.load(file, cpu);
        FloatArray shears = Numerics.shears(m, x);
        Numerics.assertClose(Numerics.onnxRuntime(file, x), shears, RTOL, ATOL, name + " vs ONNX Runtime");
        float[] e = new float[x.data().length];
        for (int i = 0; i < e.length; i++) e[i] = (float) fn.applyAsDouble(x.data()[i]);
        Numerics.assertClose(new FloatArray(x.shape(), e), shears, RTOL, ATOL, name + " vs its definition");
        return m;
    }

    private static List<ActivationLayer> activations(Model m) {
        return m.layers().stream().filter(l -> l instanceof ActivationLayer).map(l -> (ActivationLayer) l).toList();
    }

    private static void assertOnly(Model m, Activation f, float alpha, String what) {
        List<ActivationLayer> a = activations(m);
        assertEquals(1, a.size(), what + ": " + m.layers());
        assertEquals(f, a.get(0).function(), what);
        if (f == Activation.RELU_CAPPED) assertEquals(alpha, a.get(0).alpha(), what + " cap");
        assertTrue(m.layers().stream().noneMatch(l -> l instanceof Multiply), what + ": the Mul was fused: " + m.layers());
    }

    private static TestGraph graph(int opset) {
        return new TestGraph(opset, opset).input("x", 2, 3, 5);
    }

    // ---------------------------------------------------------------- Clip

    @Test void clipOpset13WithInitializerBoundsIsReLU6() throws IOException {
        TestGraph g = graph(13).floats("lo", new float[]{0f}).floats("hi", new float[]{6f})
                .op("Clip", in("x", "lo", "hi"), "y").output("y");
        assertOnly(check(g, "clip13", RELU6), Activation.RELU_CAPPED, 6f, "Clip(0, 6)");
    }

    @Test void clipOpset11WithConstantNodesAndACapOtherThanSix() throws IOException {
        TestGraph g = graph(11)
                .op("Constant", in(), "lo", t("value", OnnxTensors.encodeFloats(null, new long[0], new float[]{0f})))
                .op("Constant", in(), "hi", t("value", OnnxTensors.encodeFloats(null, new long[]{1}, new float[]{2.5f})))
                .op("Clip", in("x", "lo", "hi"), "y").output("y");
        assertOnly(check(g, "clip11_constants", v -> Math.min(Math.max(v, 0), 2.5)), Activation.RELU_CAPPED, 2.5f, "Clip(0, 2.5)");
    }

    @Test void clipWithAFoldedConstantMax() throws IOException {
        // max = 3 + 3, computed by an Add of constants that the importer folds
        TestGraph g = graph(13).floats("lo", new float[]{0f}).floats("three", new float[]{3f})
                .op("Add", in("three", "three"), "hi")
                .op("Clip", in("x", "lo", "hi"), "y").output("y");
        assertOnly(check(g, "clip_folded", RELU6), Activation.RELU_CAPPED, 6f, "Clip(0, 3+3)");
    }

    @Test void clipOpset6AttributesIsReLU6() throws IOException {
        TestGraph g = graph(6).op("Clip", in("x"), "y", f("min", 0f), f("max", 6f)).output("y");
        assertOnly(check(g, "clip6", RELU6), Activation.RELU_CAPPED, 6f, "Clip opset 6");
    }

    @Test void clipWithMinZeroOnlyIsReLUAndWithoutBoundsIsIdentity() throws IOException {
        // opset 13: min given, max absent (no input 2) -> ReLU
        Model relu = check(graph(13).floats("lo", new float[]{0f}).op("Clip", in("x", "lo"), "y").output("y"), "clip_min_only", v -> Math.max(v, 0));
        assertEquals(Activation.RELU, activations(relu).get(0).function());
        // opset 10: only the min attribute; the max defaults to the float range
        Model relu10 = check(graph(10).op("Clip", in("x"), "y", f("min", 0f)).output("y"), "clip10_min_only", v -> Math.max(v, 0));
        assertEquals(Activation.RELU, activations(relu10).get(0).function());
        // opset 13: both inputs named empty -> no bounds -> the input itself, no activation
        Model id = check(graph(13).op("Clip", in("x", "", ""), "h").op("Relu", in("h"), "y").output("y"), "clip_unbounded", v -> Math.max(v, 0));
        assertEquals(1, activations(id).size(), "only the Relu: " + id.layers());
        // an infinite max counts as absent
        Model inf = check(graph(13).floats("lo", new float[]{0f}).floats("hi", new float[]{Float.POSITIVE_INFINITY})
                .op("Clip", in("x", "lo", "hi"), "y").output("y"), "clip_inf", v -> Math.max(v, 0));
        assertEquals(Activation.RELU, activations(inf).get(0).function());
    }

    @Test void otherClipsAreRefusedNamingTheNodeTheFileAndTheValues() throws IOException {
        Path sym = graph(13).floats("lo", new float[]{-1f}).floats("hi", new float[]{1f})
                .op("Clip", in("x", "lo", "hi"), "y").output("y").write(dir, "clip_sym.onnx");
        ImportException e = assertThrows(ImportException.class, () -> OnnxImporter.read(sym));
        assertEquals(sym, e.file());
        assertTrue(e.node().contains("clip_0"), e.node());
        assertTrue(e.getMessage().contains("min -1.0 and max 1.0") && e.getMessage().contains("capped ReLU"), e.getMessage());

        Path maxOnly = graph(13).floats("hi", new float[]{6f}).op("Clip", in("x", "", "hi"), "y").output("y").write(dir, "clip_max.onnx");
        e = assertThrows(ImportException.class, () -> OnnxImporter.read(maxOnly));
        assertTrue(e.getMessage().contains("min none and max 6.0"), e.getMessage());

        Path attrs = graph(9).op("Clip", in("x"), "y", f("min", 0f), f("max", 0f)).output("y").write(dir, "clip_zero.onnx");
        e = assertThrows(ImportException.class, () -> OnnxImporter.read(attrs));
        assertTrue(e.getMessage().contains("min 0.0 and max 0.0") && e.getMessage().contains("opset 9"), e.getMessage());

        // a bound computed at run time cannot become a layer parameter
        Path dynamic = graph(13).floats("lo", new float[]{0f}).op("Relu", in("x"), "r")
                .op("Clip", in("x", "lo", "r"), "y").output("y").write(dir, "clip_dynamic.onnx");
        e = assertThrows(ImportException.class, () -> OnnxImporter.read(dynamic));
        assertTrue(e.getMessage().contains("max") && e.getMessage().contains("constant"), e.getMessage());
    }

    // ---------------------------------------------------------------- HardSwish and the gated pairs

    @Test void hardSwishOpset14() throws IOException {
        assertOnly(check(graph(14).op("HardSwish", in("x"), "y").output("y"), "hardswish14", HARD_SWISH), Activation.HARD_SWISH, 0, "HardSwish");
    }

    @Test void xTimesHardSigmoidOfASixthIsHardSwish() throws IOException {
        TestGraph g = graph(13).op("HardSigmoid", in("x"), "g", f("alpha", 1f / 6), f("beta", 0.5f)).op("Mul", in("g", "x"), "y").output("y");
        assertOnly(check(g, "hardswish13", HARD_SWISH), Activation.HARD_SWISH, 0, "x * HardSigmoid(x; 1/6, 0.5)");
        // alone, it is a hard sigmoid of slope 1/6, offset 0.5 (OnnxHardSigmoidTest)
        Model alone = check(graph(13).op("HardSigmoid", in("x"), "y", f("alpha", 1f / 6), f("beta", 0.5f)).output("y"), "hs6",
                v -> Math.min(Math.max(v + 3, 0), 6) / 6);
        assertEquals(Activation.HARD_SIGMOID, activations(alone).get(0).function());
    }

    @Test void xTimesSigmoidIsSwishInEitherOrder() throws IOException {
        assertOnly(check(graph(13).op("Sigmoid", in("x"), "g").op("Mul", in("x", "g"), "y").output("y"), "swish_xg", SWISH),
                Activation.SWISH, 0, "x * Sigmoid(x)");
        assertOnly(check(graph(13).op("Sigmoid", in("x"), "g").op("Mul", in("g", "x"), "y").output("y"), "swish_gx", SWISH),
                Activation.SWISH, 0, "Sigmoid(x) * x");
    }

    @Test void aSigmoidReadTwiceOrTimesAnotherValueIsNotFused() throws IOException {
        // g feeds the Mul and the output sum: g stays a Sigmoid, the Mul a Multiply
        Model twice = check(graph(13).op("Sigmoid", in("x"), "g").op("Mul", in("x", "g"), "p").op("Add", in("p", "g"), "y").output("y"),
                "swish_shared", v -> SWISH.applyAsDouble(v) + 1 / (1 + Math.exp(-v)));
        assertEquals(Activation.SIGMOID, activations(twice).get(0).function());
        assertTrue(twice.layers().stream().anyMatch(l -> l instanceof Multiply), twice.layers().toString());
        // sigmoid(x) * relu(x): a gate on another value (the SE-block form) stays Sigmoid and Multiply
        Model other = check(graph(13).op("Sigmoid", in("x"), "g").op("Relu", in("x"), "r").op("Mul", in("r", "g"), "y").output("y"),
                "sigmoid_gate", v -> Math.max(v, 0) / (1 + Math.exp(-v)));
        assertTrue(other.layers().stream().anyMatch(l -> l instanceof Multiply), other.layers().toString());
    }

    // ---------------------------------------------------------------- export

    @Test void exportedActivationsMatchOnnxRuntimeAndReadBack() throws IOException {
        Model m = Model.builder().input("x", Shape.of(15))
                .then(new Dense("fc", 15, 12, true))
                .then(new ActivationLayer("relu6", Activation.RELU_CAPPED))
                .then(new Dense("fc2", 12, 12, true))
                .then(new ActivationLayer("hswish", Activation.HARD_SWISH))
                .then(new Dense("fc3", 12, 12, true))
                .then(new ActivationLayer("swish", Activation.SWISH))
                .then(new Dense("fc4", 12, 12, true))
                .then(new ActivationLayer("clip", Activation.RELU_CAPPED, 1.5f))
                .build().bind(cpu, 7);
        Path out = dir.resolve("mobile.onnx");
        OnnxExporter.write(m, out, OnnxExporter.Options.defaults());
        FloatArray x = Numerics.random(11, -8f, 8f, 4, 15);
        FloatArray shears = Numerics.shears(m, x);
        Numerics.assertClose(Numerics.onnxRuntime(out, x), shears, 1e-4, 1e-5, "export vs ONNX Runtime");
        // the ops written: Clip with input bounds, HardSigmoid(1/6, 0.5) + Mul, Sigmoid + Mul
        List<String> ops = OnnxExporter.toProto(m, OnnxExporter.Options.defaults()).getGraph().getNodeList().stream()
                .map(dev.shears.io.onnx.proto.NodeProto::getOpType).toList();
        assertEquals(List.of("Gemm", "Clip", "Gemm", "HardSigmoid", "Mul", "Gemm", "Sigmoid", "Mul", "Gemm", "Clip"), ops);
        Model back = OnnxImporter.load(out, cpu);
        Numerics.assertClose(shears, Numerics.shears(back, x), 1e-5, 1e-6, "re-imported");
        List<ActivationLayer> a = activations(back);
        assertEquals(List.of(Activation.RELU_CAPPED, Activation.HARD_SWISH, Activation.SWISH, Activation.RELU_CAPPED),
                a.stream().map(ActivationLayer::function).toList());
        assertEquals(List.of("relu6", "hswish", "swish", "clip"), a.stream().map(Layer::name).toList());
        assertEquals(6f, a.get(0).alpha());
        assertEquals(1.5f, a.get(3).alpha());
    }
}
