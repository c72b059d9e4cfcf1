package dev.shears.io.onnx;

import dev.shears.core.backend.Activation;
import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.Parameter;
import dev.shears.core.nn.layers.*;
import dev.shears.core.tensor.Shape;
import dev.shears.io.FloatArray;
import dev.shears.io.ImportException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * IR models built directly (as the Keras importer and the built-in architectures make them), with
 * the layers no ONNX import produces, exported and run in ONNX Runtime: same outputs as Shears
 * (rtol 1e-4, atol 1e-5, as in the round-trip test).
 */
class OnnxExportParityTest {
    private static Backend cpu;
    @TempDir Path dir;

    @BeforeAll static void backend() { cpu = CpuBackend.create(); }
    @AfterAll static void close() { cpu.close(); }

    /** Binds with seeded weights, and gives every non-kernel parameter random values too (not just 0/1). */
    private static Model bind(Model m, long seed) {
        m.bind(cpu, seed);
        SplittableRandom rng = new SplittableRandom(seed);
        for (Parameter p : m.parameters()) {
            if (p.role() == Parameter.Role.KERNEL) continue;
            float[] v = new float[p.shape().intSize()];
            boolean positive = p.role() == Parameter.Role.RUNNING_VAR || p.role() == Parameter.Role.GAMMA;
            for (int i = 0; i < v.length; i++) v[i] = (float) (positive ? 0.5 + rng.nextDouble() : rng.nextDouble() - 0.5);
            cpu.write(v, 0, p.value(), 0, v.length);
        }
        return m;
    }

    private void check(Model m, String name, int... inputDims) throws IOException {
        Path out = dir.resolve(name + ".onnx");
        OnnxExporter.write(m, out, OnnxExporter.Options.defaults());
        FloatArray x = Numerics.random(name.hashCode(), -2, 2, inputDims);
        FloatArray shears = Numerics.shears(m, x);
        FloatArray ort = Numerics.onnxRuntime(out, x);
        assertEquals(shears.shape(), ort.shape(), name);
        Numerics.assertClose(ort, shears, 1e-4, 1e-5, name);
        // and Shears reads its own export back (every exportable layer has an importable op)
        Numerics.assertClose(Numerics.shears(OnnxImporter.load(out, cpu), x), shears, 1e-5, 1e-6, name + " re-imported");
    }

    @Test void imageLayersAndSoftmaxOverAWholeImage() throws IOException {
        Model m = Model.builder().input("x", Shape.of(3, 6, 6))
                .then(new ZeroPad2D("pad", 1, 0, 2, 1))
                .then(new Conv2D("conv", 3, 4, 3, 3, 1, 1, 0, 1, 0, 0, 1, 1, 1, true))
                .then(new BatchNorm("bn", 4, 1e-3f, 0.99f))
                .then(new PReLU("prelu", Shape.of(4)))
                .then(new LRN("lrn", 3, 1e-2f, 0.75f, 1.5f))
                .then(new AvgPool2D("avg", 2, 2, 1, 1, 0, 0, 1, 1, false, false))
                .then(new Permute("perm", 1, 2, 0))
                .then(new Softmax("softmax", false))
                .build();
        check(bind(m, 1), "image_layers", 2, 3, 6, 6);
    }

    /**
     * BatchNorm's training hyperparameters survive export: ONNX's momentum has Shears' (and Keras')
     * meaning, running = momentum*running + (1-momentum)*batch, so 0.99 is written as 0.99 (not
     * PyTorch's 1 - 0.99) and read back as 0.99. Inference alone cannot see this: it ignores momentum.
     */
    @Test void batchNormMomentumAndEpsilonAreWrittenWithOnnxMeaning() throws IOException {
        Model m = bind(Model.builder().input("x", Shape.of(4, 3, 3))
                .then(new BatchNorm("bn", 4, 1e-3f, 0.99f))
                .build(), 3);
        dev.shears.io.onnx.proto.ModelProto proto = OnnxExporter.toProto(m, OnnxExporter.Options.defaults());
        dev.shears.io.onnx.proto.NodeProto node = proto.getGraph().getNodeList().stream()
                .filter(n -> n.getOpType().equals("BatchNormalization")).findFirst().orElseThrow();
        java.util.Map<String, Float> attrs = new java.util.HashMap<>();
        for (dev.shears.io.onnx.proto.AttributeProto a : node.getAttributeList()) attrs.put(a.getName(), a.getF());
        assertEquals(0.99f, attrs.get("momentum"), "momentum attribute of " + node.getName());
        assertEquals(1e-3f, attrs.get("epsilon"), "epsilon attribute of " + node.getName());
        Path out = dir.resolve("bn.onnx");
        OnnxExporter.write(m, out, OnnxExporter.Options.defaults());
        BatchNorm back = OnnxImporter.load(out, cpu).layers().stream()
                .filter(l -> l instanceof BatchNorm).map(l -> (BatchNorm) l).findFirst().orElseThrow();
        assertEquals(0.99f, back.momentum(), "re-imported momentum");
        assertEquals(1e-3f, back.epsilon(), "re-imported epsilon");
    }

    @Test void branchesWithAddMultiplyConcatAndGlobalPool() throws IOException {
        Model m = Model.builder().input("x", Shape.of(2, 5, 5))
                .add(new ActivationLayer("elu", Activation.ELU, 0.8f), "x")
                .add(new ActivationLayer("selu", Activation.SELU), "x")
                .add(new ActivationLayer("hs", Activation.HARD_SIGMOID), "x")
                .add(new Add("sum"), "elu", "selu", "hs")
                .add(new Multiply("prod"), "sum", "hs", "x")
                .add(new Concat("cat", 0), "prod", "x")
                .add(new MaxPool2D("max", 3, 3, 2, 2, 1, 1, 1, 1, true), "cat")
                .add(new GlobalAvgPool2D("gap", false), "max")
                .add(new Dropout("drop", 0.25f), "gap")
                .add(new Dense("dense", 4, 3, true), "drop")
                .add(new ActivationLayer("sp", Activation.SOFTPLUS), "dense")
                .add(new ActivationLayer("ss", Activation.SOFTSIGN), "sp")
                .add(new Identity("id"), "ss")
                .add(new Softmax("logsoftmax", true), "id")
                .build();
        check(bind(m, 2), "branches", 2, 2, 5, 5);
    }

    @Test void flattenReshapeAndPerElementPrelu() throws IOException {
        Model m = Model.builder().input("x", Shape.of(4, 3))
                .then(new Reshape("r", Shape.of(2, 6)))
                .then(new PReLU("p", Shape.of(2, 6)))
                .then(new Flatten("f"))
                .then(new Dense("d", 12, 5, false))
                .then(new ActivationLayer("tanh", Activation.TANH))
                .build();
        check(bind(m, 3), "flatten_reshape", 3, 4, 3);
    }

    @Test void unbindableOrUnknownLayersFailClearly() {
        Model unbound = Model.builder().input("x", Shape.of(3)).then(new Dense("d", 3, 2, true)).build();
        assertThrows(IllegalStateException.class, () -> OnnxExporter.write(unbound, dir.resolve("u.onnx"), OnnxExporter.Options.defaults()));
        var custom = new dev.shears.core.nn.Layer("mystery") {
            @Override public String type() { return "Mystery"; }
            @Override public Shape outputShape(java.util.List<Shape> in) { return in.get(0); }
            @Override public dev.shears.core.tensor.Tensor forward(dev.shears.core.nn.ExecContext c, java.util.List<dev.shears.core.tensor.Tensor> in) { return in.get(0); }
            @Override public java.util.List<dev.shears.core.tensor.Tensor> backward(dev.shears.core.nn.ExecContext c, dev.shears.core.tensor.Tensor g, boolean n) { return java.util.List.of(g); }
        };
        Model m = Model.builder().input("x", Shape.of(3)).then(custom).build().bind(cpu, 0);
        ImportException e = assertThrows(ImportException.class, () -> OnnxExporter.write(m, dir.resolve("m.onnx"), OnnxExporter.Options.defaults()));
        assertTrue(e.getMessage().contains("Mystery") && e.getMessage().contains("mystery"), e.getMessage());
    }
}
