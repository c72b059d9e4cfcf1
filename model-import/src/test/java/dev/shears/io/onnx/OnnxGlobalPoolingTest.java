package dev.shears.io.onnx;

import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.layers.Conv2D;
import dev.shears.core.nn.layers.Dense;
import dev.shears.core.nn.layers.GlobalMaxPool2D;
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

import static dev.shears.io.onnx.TestGraph.i;
import static dev.shears.io.onnx.TestGraph.in;
import static dev.shears.io.onnx.TestGraph.ints;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Global pooling the way MobileNet exports write it: GlobalMaxPool, and ReduceMean / ReduceMax
 * over the spatial axes (axes an attribute before opset 18, an input from 18; keepdims 1 or 0),
 * each checked against ONNX Runtime on the same file; other axes refused naming node, file and
 * axes; and a depthwise convolution with global max pooling exported and run in ONNX Runtime.
 */
class OnnxGlobalPoolingTest {
    private static Backend cpu;
    @TempDir Path dir;

    @BeforeAll static void backend() { cpu = CpuBackend.create(); }
    @AfterAll static void close() { cpu.close(); }

    private Model check(TestGraph g, String name, int... inputDims) throws IOException {
        Path file = g.write(dir, name + ".onnx");
        FloatArray x = Numerics.random(name.hashCode(), -2f, 2f, inputDims);
        FloatArray expected = Numerics.onnxRuntime(file, x);
        Model m = OnnxImporter.load(file, cpu);
        FloatArray got = Numerics.shears(m, x);
        assertEquals(expected.shape(), got.shape(), name + ": output shape");
        Numerics.assertClose(expected, got, 1e-5, 1e-6, name);
        return m;
    }

    @Test void globalMaxPool() throws IOException {
        Model m = check(new TestGraph(11, 1).input("x", 2, 3, 5, 6).op("GlobalMaxPool", in("x"), "y").output("y"), "gmp", 2, 3, 5, 6);
        assertInstanceOf(GlobalMaxPool2D.class, m.nodes().getFirst().layer());
        // 1-D: [N, C, L]
        check(new TestGraph(11, 2).input("x", 2, 4, 7).op("GlobalMaxPool", in("x"), "y").output("y"), "gmp_1d", 2, 4, 7);
    }

    @Test void reduceMeanAndMaxOverSpatialAxesBeforeOpset18() throws IOException {
        check(new TestGraph(13, 3).input("x", 2, 3, 4, 5).op("ReduceMean", in("x"), "y", ints("axes", 2, 3)).output("y"),
                "reduce_mean_keepdims", 2, 3, 4, 5);
        check(new TestGraph(13, 4).input("x", 2, 3, 4, 5).op("ReduceMax", in("x"), "y", ints("axes", -1, -2), i("keepdims", 0)).output("y"),
                "reduce_max_flat", 2, 3, 4, 5);
        // MobileNet's head: mean without keepdims, then Gemm
        check(new TestGraph(11, 5).input("x", 2, 3, 4, 4).random("w", -1, 1, 5, 3).random("b", -1, 1, 5)
                .op("ReduceMean", in("x"), "p", ints("axes", 2, 3), i("keepdims", 0))
                .op("Gemm", in("p", "w", "b"), "y", i("transB", 1)).output("y"), "reduce_mean_gemm", 2, 3, 4, 4);
    }

    @Test void reduceMeanAndMaxWithAxesInputFromOpset18() throws IOException {
        check(new TestGraph(18, 6).input("x", 2, 3, 4, 5).longs("axes", new long[]{2, 3}, 2)
                .op("ReduceMean", in("x", "axes"), "y", i("keepdims", 0)).output("y"), "reduce_mean_18", 2, 3, 4, 5);
        check(new TestGraph(18, 7).input("x", 2, 3, 4, 5).longs("axes", new long[]{3, -2}, 2)
                .op("ReduceMax", in("x", "axes"), "y").output("y"), "reduce_max_18", 2, 3, 4, 5);
    }

    @Test void otherAxesAreRefusedNamingNodeFileAndAxes() throws IOException {
        Path f = new TestGraph(13, 8).input("x", 2, 3, 4, 5).op("ReduceMean", in("x"), "y", ints("axes", 1)).output("y").write(dir, "channels.onnx");
        ImportException e = assertThrows(ImportException.class, () -> OnnxImporter.load(f, cpu));
        assertTrue(e.getMessage().contains("ReduceMean over axes [1]") && e.getMessage().contains("[2, 3]"), e.getMessage());
        assertEquals(f, e.file());
        assertEquals("reducemean_0 (ReduceMean)", e.node());

        Path g = new TestGraph(18, 9).input("x", 2, 3, 4, 5).op("ReduceMax", in("x"), "y").output("y").write(dir, "all.onnx");
        ImportException all = assertThrows(ImportException.class, () -> OnnxImporter.load(g, cpu));
        assertTrue(all.getMessage().contains("none given"), all.getMessage());

        Path h = new TestGraph(13, 10).input("x", 2, 3, 4, 5).op("ReduceMax", in("x"), "y", ints("axes", 1, 2, 3)).output("y").write(dir, "chw.onnx");
        assertTrue(assertThrows(ImportException.class, () -> OnnxImporter.load(h, cpu)).getMessage().contains("[1, 2, 3]"));
    }

    @Test void depthwiseConvAndGlobalMaxPoolExportRunInOnnxRuntime() throws IOException {
        Model m = Model.builder().input("input", Shape.of(3, 6, 6))
                .then(new Conv2D("dw", 3, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 3, true))
                .then(new GlobalMaxPool2D("gmp", false))
                .then(new Dense("fc", 6, 2, true)).build().bind(cpu, 3);
        Path out = dir.resolve("mobile.onnx");
        OnnxExporter.write(m, out, OnnxExporter.Options.defaults());
        List<NodeProto> nodes = ModelProto.parseFrom(Files.readAllBytes(out)).getGraph().getNodeList();
        assertTrue(nodes.stream().anyMatch(nd -> nd.getOpType().equals("GlobalMaxPool")), nodes.toString());
        NodeProto conv = nodes.stream().filter(nd -> nd.getOpType().equals("Conv")).findFirst().orElseThrow();
        assertTrue(conv.getAttributeList().stream().anyMatch(a -> a.getName().equals("group") && a.getI() == 3), conv.toString());

        FloatArray x = Numerics.random(4, -2f, 2f, 2, 3, 6, 6);
        Numerics.assertClose(Numerics.onnxRuntime(out, x), Numerics.shears(m, x), 1e-5, 1e-6, "exported, ONNX Runtime vs Shears");
        Model back = OnnxImporter.load(out, cpu);
        assertEquals(m.parameters().size(), back.parameters().size());
        for (int k = 0; k < m.parameters().size(); k++)
            assertArrayEquals(cpu.download(m.parameters().get(k).value()), cpu.download(back.parameters().get(k).value()),
                    m.parameters().get(k).name());
        assertArrayEquals(Numerics.shears(m, x).data(), Numerics.shears(back, x).data(), "round trip: bit-identical outputs");
    }
}
