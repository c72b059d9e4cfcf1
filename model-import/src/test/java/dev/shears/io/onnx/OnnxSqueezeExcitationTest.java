package dev.shears.io.onnx;

import dev.shears.core.backend.Activation;
import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.TinySeMobileNet;
import dev.shears.core.nn.layers.ActivationLayer;
import dev.shears.core.nn.layers.Multiply;
import dev.shears.io.FloatArray;
import dev.shears.io.ImportException;
import dev.shears.io.onnx.proto.ModelProto;
import dev.shears.io.onnx.proto.NodeProto;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static dev.shears.io.onnx.TestGraph.f;
import static dev.shears.io.onnx.TestGraph.in;
import static dev.shears.io.onnx.TestGraph.ints;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Squeeze-and-excitation the way PyTorch exports it at opset 13 (GlobalAveragePool, Conv 1x1,
 * Relu, Conv 1x1, Sigmoid or HardSigmoid(1/6, 0.5) (a HARD_SIGMOID activation), Mul of the [N, C, H, W] map by the
 * [N, C, 1, 1] gate in either order), checked against ONNX Runtime on the same file; other
 * broadcasts refused naming the node and shapes; and the broadcast Multiply exported as Mul, run
 * in ONNX Runtime and read back.
 */
class OnnxSqueezeExcitationTest {
    private static final int C = 8, R = 4;
    private static Backend cpu;
    @TempDir Path dir;

    @BeforeAll static void backend() { cpu = CpuBackend.create(); }
    @AfterAll static void close() { cpu.close(); }

    /** x [2, C, 5, 5] -> Conv 3x3 -> Relu = f; SE gate of f through {@code gate} ops; y = Mul(f, gate) or Mul(gate, f). */
    private static TestGraph seBlock(long seed, boolean gateFirst, String gateOp, float alpha, float beta) {
        TestGraph g = new TestGraph(13, seed).input("x", 2, C, 5, 5)
                .random("w", -0.5f, 0.5f, C, C, 3, 3).random("b", -0.5f, 0.5f, C)
                .random("w1", -1, 1, R, C, 1, 1).random("b1", -0.5f, 0.5f, R)
                .random("w2", -1, 1, C, R, 1, 1).random("b2", -0.5f, 0.5f, C)
                .op("Conv", in("x", "w", "b"), "c", ints("pads", 1, 1, 1, 1)).op("Relu", in("c"), "f")
                .op("GlobalAveragePool", in("f"), "s")
                .op("Conv", in("s", "w1", "b1"), "s1").op("Relu", in("s1"), "s2")
                .op("Conv", in("s2", "w2", "b2"), "s3");
        if (gateOp.equals("HardSigmoid")) g.op(gateOp, in("s3"), "gate", f("alpha", alpha), f("beta", beta));
        else g.op(gateOp, in("s3"), "gate");
        return g.op("Mul", gateFirst ? in("gate", "f") : in("f", "gate"), "y").output("y");
    }

    private Model check(TestGraph g, String name) throws IOException {
        Path file = g.write(dir, name + ".onnx");
        FloatArray x = Numerics.random(name.hashCode(), -2f, 2f, 2, C, 5, 5);
        FloatArray expected = Numerics.onnxRuntime(file, x);
        Model m = OnnxImporter.load(file, cpu);
        FloatArray got = Numerics.shears(m, x);
        assertEquals(expected.shape(), got.shape(), name + ": output shape");
        Numerics.assertClose(expected, got, 1e-5, 1e-6, name);
        return m;
    }

    private static Model.Node multiply(Model m) {
        List<Model.Node> muls = m.nodes().stream().filter(n -> n.layer() instanceof Multiply).toList();
        assertEquals(1, muls.size(), "one Multiply in " + m.nodes());
        assertEquals(2, muls.getFirst().inputs().size());
        return muls.getFirst();
    }

    @Test void sigmoidGateTimesTheMapInEitherOrderMatchesOnnxRuntime() throws IOException {
        multiply(check(seBlock(1, false, "Sigmoid", 0, 0), "se_sigmoid_map_first"));
        multiply(check(seBlock(2, true, "Sigmoid", 0, 0), "se_sigmoid_gate_first"));
    }

    @Test void pytorchHardSigmoidGateIsAHardSigmoidActivationAndTheConvKeepsItsWeights() throws IOException {
        // PyTorch's nn.Hardsigmoid exports as HardSigmoid(alpha 1/6, beta 0.5): one HARD_SIGMOID of that slope and
        // offset; it is no longer folded into the expanding Conv (which scaled that Conv's weights by 1/6)
        Model m = check(seBlock(3, false, "HardSigmoid", 1f / 6, 0.5f), "se_hardsigmoid_torch");
        multiply(m);
        List<ActivationLayer> gates = m.layers().stream().filter(l -> l instanceof ActivationLayer a && a.function() == Activation.HARD_SIGMOID)
                .map(l -> (ActivationLayer) l).toList();
        assertEquals(1, gates.size(), m.layers().toString());
        assertEquals(1f / 6, gates.getFirst().alpha());
        assertEquals(0.5f, gates.getFirst().beta());
        assertTrue(m.layers().stream().noneMatch(l -> l instanceof ActivationLayer a && a.function() == Activation.RELU_CAPPED), m.layers().toString());
        // the same graph (same seed, same initializers) with a Sigmoid gate: every parameter is identical
        Model sig = check(seBlock(3, false, "Sigmoid", 0, 0), "se_sigmoid_same_weights");
        assertEquals(sig.parameters().size(), m.parameters().size());
        for (int i = 0; i < m.parameters().size(); i++)
            assertArrayEquals(cpu.download(sig.parameters().get(i).value()), cpu.download(m.parameters().get(i).value()),
                    m.parameters().get(i).name());
        // Keras' hard sigmoid (0.2, 0.5) is an activation of its own too
        Model k = check(seBlock(4, true, "HardSigmoid", 0.2f, 0.5f), "se_hardsigmoid_keras");
        assertTrue(k.nodes().stream().anyMatch(n -> n.layer() instanceof ActivationLayer a && a.function() == Activation.HARD_SIGMOID
                && a.alpha() == 0.2f && a.beta() == 0.5f));
    }

    @Test void otherBroadcastsAreRefusedNamingNodeAndShapes() throws IOException {
        // a [N, 1, H, W] spatial gate (a 1-channel conv) times the map
        Path f = new TestGraph(13, 6).input("x", 2, C, 5, 5).random("w", -1, 1, 1, C, 1, 1)
                .op("Conv", in("x", "w"), "g").op("Mul", in("x", "g"), "y").output("y").write(dir, "spatial.onnx");
        ImportException e = assertThrows(ImportException.class, () -> OnnxImporter.load(f, cpu));
        assertTrue(e.getMessage().contains("[N, 8, 5, 5]") && e.getMessage().contains("[N, 1, 5, 5]")
                && e.getMessage().contains("[N, C, 1, 1]"), e.getMessage());
        assertEquals(f, e.file());
        assertTrue(e.node().contains("Mul"), e.node());
        // Add broadcasts the same forms (OnnxAddBroadcastTest) and refuses the same others
    }

    @Test void mulOfAPerChannelOrScalarConstantAfterAConvFolds() throws IOException {
        for (long[] dims : new long[][]{{C, 1, 1}, {}}) {
            int size = dims.length == 0 ? 1 : C;
            TestGraph g = new TestGraph(13, 8 + size).input("x", 2, C, 5, 5).random("w", -1, 1, C, C, 1, 1)
                    .random("s", 0.5f, 2f, dims).op("Conv", in("x", "w"), "c").op("Mul", in("c", "s"), "y").output("y");
            Model m = check(g, "mul_const_" + size);
            assertTrue(m.nodes().stream().noneMatch(n -> n.layer() instanceof Multiply), m.nodes().toString());
        }
    }

    @Test void broadcastMultiplyExportsAsMulAndRunsInOnnxRuntime() throws IOException {
        Model m = TinySeMobileNet.create().bind(cpu, 5);
        Path out = dir.resolve("se.onnx");
        OnnxExporter.write(m, out, OnnxExporter.Options.defaults());
        List<NodeProto> nodes = ModelProto.parseFrom(Files.readAllBytes(out)).getGraph().getNodeList();
        NodeProto mul = nodes.stream().filter(nd -> nd.getOpType().equals("Mul") && nd.getOutput(0).equals("se_excite")).findFirst()
                .orElseThrow(() -> new AssertionError("no Mul for se_excite in " + nodes.stream().map(NodeProto::getOpType).toList()));
        assertEquals(List.of("dw_relu", "se_gate"), mul.getInputList());

        FloatArray x = Numerics.random(6, -2f, 2f, 2, 3, 12, 12);
        Numerics.assertClose(Numerics.onnxRuntime(out, x), Numerics.shears(m, x), 1e-5, 1e-6, "exported SE block, ONNX Runtime vs Shears");
        Model back = OnnxImporter.load(out, cpu);
        multiply(back);
        assertArrayEquals(Numerics.shears(m, x).data(), Numerics.shears(back, x).data(), "round trip: bit-identical outputs");
    }
}
