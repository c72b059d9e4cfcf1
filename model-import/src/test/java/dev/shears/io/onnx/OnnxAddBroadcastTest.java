package dev.shears.io.onnx;

import dev.shears.core.backend.Activation;
import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.layers.ActivationLayer;
import dev.shears.core.nn.layers.Add;
import dev.shears.core.nn.layers.Conv2D;
import dev.shears.core.nn.layers.GlobalAvgPool2D;
import dev.shears.core.tensor.Shape;
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

import static dev.shears.io.onnx.TestGraph.in;
import static dev.shears.io.onnx.TestGraph.ints;
import static org.junit.jupiter.api.Assertions.*;

/**
 * ONNX Add of an [N, C, H, W] activation and an [N, C, 1, 1] activation (a per-channel shift
 * computed from the map: GlobalAveragePool, Conv 1x1), in either order and as a two-input Sum,
 * imported as one broadcasting Add and checked against ONNX Runtime on the same file; other
 * broadcasts refused naming the node and shapes; an Add of a per-channel constant after a Conv
 * still folds into its bias; and a broadcasting Add exported as ONNX Add, run in ONNX Runtime and
 * read back.
 */
class OnnxAddBroadcastTest {
    private static final int C = 6;
    private static Backend cpu;
    @TempDir Path dir;

    @BeforeAll static void backend() { cpu = CpuBackend.create(); }
    @AfterAll static void close() { cpu.close(); }

    /** x [2, C, 5, 5] -> Conv 3x3 -> Relu = f; s = Conv1x1(GlobalAveragePool(f)) [2, C, 1, 1]; y = op(f, s) or op(s, f). */
    private static TestGraph shiftBlock(long seed, boolean perFirst, String op) {
        return new TestGraph(13, seed).input("x", 2, C, 5, 5)
                .random("w", -0.5f, 0.5f, C, C, 3, 3).random("b", -0.5f, 0.5f, C)
                .random("w1", -1, 1, C, C, 1, 1).random("b1", -0.5f, 0.5f, C)
                .op("Conv", in("x", "w", "b"), "c", ints("pads", 1, 1, 1, 1)).op("Relu", in("c"), "f")
                .op("GlobalAveragePool", in("f"), "g").op("Conv", in("g", "w1", "b1"), "s")
                .op(op, perFirst ? in("s", "f") : in("f", "s"), "y").output("y");
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

    private static Model.Node add(Model m) {
        List<Model.Node> adds = m.nodes().stream().filter(n -> n.layer() instanceof Add).toList();
        assertEquals(1, adds.size(), "one Add in " + m.nodes());
        assertEquals(2, adds.getFirst().inputs().size());
        return adds.getFirst();
    }

    @Test void mapPlusPerChannelActivationInEitherOrderMatchesOnnxRuntime() throws IOException {
        for (String op : List.of("Add", "Sum")) {
            for (boolean perFirst : new boolean[]{false, true}) {
                Model m = check(shiftBlock(op.length() + (perFirst ? 10 : 0), perFirst, op), op + "_per_first_" + perFirst);
                Model.Node a = add(m);
                assertEquals(Shape.of(C, 1, 1), m.shapeOf(a.inputs().get(perFirst ? 0 : 1)), a.inputs().toString());
                assertEquals(Shape.of(C, 5, 5), m.shapeOf(a.name()));
            }
        }
    }

    @Test void otherBroadcastsAreRefusedNamingNodeAndShapes() throws IOException {
        // a [N, 1, H, W] spatial map (a 1-channel conv) added to the map
        Path f = new TestGraph(13, 6).input("x", 2, C, 5, 5).random("w", -1, 1, 1, C, 1, 1)
                .op("Conv", in("x", "w"), "g").op("Add", in("x", "g"), "y").output("y").write(dir, "spatial.onnx");
        ImportException e = assertThrows(ImportException.class, () -> OnnxImporter.load(f, cpu));
        assertTrue(e.getMessage().contains("Add of activations") && e.getMessage().contains("[N, 6, 5, 5]")
                && e.getMessage().contains("[N, 1, 5, 5]") && e.getMessage().contains("[N, C, 1, 1] per-channel tensor"), e.getMessage());
        assertEquals(f, e.file());
        assertTrue(e.node().contains("Add"), e.node());
        // [N, 1, 1, 1] (a scalar per sample) is not the per-channel form either
        Path s = new TestGraph(13, 7).input("x", 2, C, 5, 5).random("w", -1, 1, 1, C, 1, 1)
                .op("GlobalAveragePool", in("x"), "p").op("Conv", in("p", "w"), "g").op("Add", in("g", "x"), "y")
                .output("y").write(dir, "scalar.onnx");
        ImportException es = assertThrows(ImportException.class, () -> OnnxImporter.load(s, cpu));
        assertTrue(es.getMessage().contains("[N, 1, 1, 1]"), es.getMessage());
    }

    @Test void addOfAPerChannelConstantAfterAConvStillFoldsIntoItsBias() throws IOException {
        TestGraph g = new TestGraph(13, 9).input("x", 2, C, 5, 5).random("w", -1, 1, C, C, 1, 1)
                .random("k", -1f, 1f, C, 1, 1).op("Conv", in("x", "w"), "c").op("Add", in("c", "k"), "y").output("y");
        Model m = check(g, "add_const");
        assertTrue(m.nodes().stream().noneMatch(n -> n.layer() instanceof Add), m.nodes().toString());
    }

    @Test void broadcastAddExportsAsAddAndRunsInOnnxRuntime() throws IOException {
        Model m = Model.builder().input("input", Shape.of(3, 8, 8))
                .then(new Conv2D("conv", 3, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true))
                .then(new ActivationLayer("relu", Activation.RELU))
                .then(new GlobalAvgPool2D("squeeze", true))
                .then(new Conv2D("shift", 4, 4, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, true))
                .add(new Add("shifted"), "shift", "relu")
                .build().bind(cpu, 3);
        Path out = dir.resolve("shift.onnx");
        OnnxExporter.write(m, out, OnnxExporter.Options.defaults());
        List<NodeProto> nodes = ModelProto.parseFrom(Files.readAllBytes(out)).getGraph().getNodeList();
        NodeProto add = nodes.stream().filter(nd -> nd.getOpType().equals("Add") && nd.getOutput(0).equals("shifted")).findFirst()
                .orElseThrow(() -> new AssertionError("no Add for 'shifted' in " + nodes.stream().map(NodeProto::getOpType).toList()));
        assertEquals(List.of("shift", "relu"), add.getInputList());

        FloatArray x = Numerics.random(6, -2f, 2f, 2, 3, 8, 8);
        Numerics.assertClose(Numerics.onnxRuntime(out, x), Numerics.shears(m, x), 1e-5, 1e-6, "exported shift, ONNX Runtime vs Shears");
        Model back = OnnxImporter.load(out, cpu);
        add(back);
        assertArrayEquals(Numerics.shears(m, x).data(), Numerics.shears(back, x).data(), "round trip: bit-identical outputs");
    }
}
