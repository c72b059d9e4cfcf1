package dev.shears.io.onnx;

import dev.shears.core.backend.Activation;
import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.layers.ActivationLayer;
import dev.shears.core.nn.layers.Conv2D;
import dev.shears.core.nn.layers.Dense;
import dev.shears.core.nn.layers.Flatten;
import dev.shears.core.nn.layers.Rescale;
import dev.shears.core.tensor.Shape;
import dev.shears.io.FloatArray;
import dev.shears.io.ImportException;
import dev.shears.io.onnx.proto.NodeProto;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static dev.shears.io.onnx.TestGraph.in;
import static org.junit.jupiter.api.Assertions.*;

/**
 * A Rescale ({@code y = scale * x + offset}) exports to ONNX as Mul by a scalar then Add of a
 * scalar, leaving out the one that is the identity (Identity when both are); ONNX Runtime runs the
 * file; the importer reads a scalar Mul or Add on an activation as a Rescale, fusing Shears' own
 * Mul-then-Add back into one (a Mul right after a Conv folds into it instead, as before), so the
 * re-imported model computes bit-identical outputs.
 */
class OnnxRescaleTest {
    private static Backend cpu;
    @TempDir Path dir;

    @BeforeAll static void backend() { cpu = CpuBackend.create(); }
    @AfterAll static void close() { cpu.close(); }

    private static Model model() {
        return Model.builder().input("x", Shape.of(3, 4, 4))
                .then(new Rescale("pixels", 1f / 127.5f, -1f))
                .then(new Conv2D("conv", 3, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true))
                .then(new Rescale("halve", -0.5f, 0f))
                .then(new ActivationLayer("relu", Activation.RELU))
                .then(new Rescale("shift", 1f, 0.25f))
                .then(new Flatten("flat"))
                .then(new Dense("fc", 32, 3, true))
                .then(new Rescale("same", 1f, 0f))
                .build().bind(cpu, 5);
    }

    @Test
    void exportsAsMulAndAddRunsInOnnxRuntimeAndReadsBackBitIdentical() throws IOException {
        Model m = model();
        Path out = dir.resolve("rescale.onnx");
        OnnxExporter.write(m, out, OnnxExporter.Options.defaults());
        List<NodeProto> nodes = OnnxExporter.toProto(m, OnnxExporter.Options.defaults()).getGraph().getNodeList();
        Map<String, String> opByOutput = nodes.stream().collect(Collectors.toMap(n -> n.getOutput(0), NodeProto::getOpType));
        assertEquals("Mul", opByOutput.get("pixels/scaled"), opByOutput.toString());
        assertEquals("Add", opByOutput.get("pixels"), opByOutput.toString());
        assertEquals("Mul", opByOutput.get("halve"), opByOutput.toString());
        assertEquals("Add", opByOutput.get("shift"), opByOutput.toString());
        assertEquals("Identity", opByOutput.get("same"), opByOutput.toString());
        assertFalse(opByOutput.containsKey("halve/scaled") || opByOutput.containsKey("shift/scaled"), "no Mul by 1 or Add of 0");

        FloatArray x = Numerics.random(11, 0f, 255f, 2, 3, 4, 4);
        FloatArray shears = Numerics.shears(m, x);
        Numerics.assertClose(Numerics.onnxRuntime(out, x), shears, 1e-5, 1e-5, "export vs ONNX Runtime");

        Model back = OnnxImporter.load(out, cpu);
        List<Rescale> r = back.layers().stream().filter(l -> l instanceof Rescale).map(l -> (Rescale) l).toList();
        assertEquals(List.of("pixels", "shift"), r.stream().map(Rescale::name).toList(), "Mul then Add fused back into one");
        assertEquals(List.of(1f / 127.5f, 1f), r.stream().map(Rescale::scale).toList());
        assertEquals(List.of(-1f, 0.25f), r.stream().map(Rescale::offset).toList());
        // the Mul right after the Conv folds into its kernel and bias, as the importer folds any per-channel
        // constant there; by -0.5, a power of two, exactly
        float[] k = cpu.download(m.parameter("conv/kernel").value()), k2 = cpu.download(back.parameter("conv/kernel").value());
        for (int i = 0; i < k.length; i++) assertEquals(-0.5f * k[i], k2[i], 0f, "folded kernel element " + i);
        assertArrayEquals(shears.data(), Numerics.shears(back, x).data(), "re-imported outputs are bit-identical");
    }

    @Test
    void aConstantThatVariesAcrossPositionsIsStillRefused() throws IOException {
        Path file = new TestGraph(13, 13).input("x", 2, 3).floats("c", new float[]{1f, 2f, 3f}, 3)
                .op("Mul", in("x", "c"), "y").output("y").write(dir, "mul_vector.onnx");
        ImportException e = assertThrows(ImportException.class, () -> OnnxImporter.read(file));
        assertTrue(e.getMessage().contains("scalar") && e.getMessage().contains("[3]"), e.getMessage());
    }
}
