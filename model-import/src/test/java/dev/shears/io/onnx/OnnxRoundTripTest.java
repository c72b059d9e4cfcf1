package dev.shears.io.onnx;

import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.Parameter;
import dev.shears.core.tensor.Shape;
import dev.shears.io.FloatArray;
import dev.shears.io.ImportException;
import dev.shears.io.onnx.proto.ModelProto;
import dev.shears.io.onnx.proto.SparseTensorProto;
import dev.shears.io.onnx.proto.TensorProto;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static dev.shears.io.onnx.TestGraph.i;
import static dev.shears.io.onnx.TestGraph.in;
import static dev.shears.io.onnx.TestGraph.ints;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Must-show 3 (ONNX half): import, export, run the exported file in ONNX Runtime: same outputs as
 * Shears; a pruned model's exported weights keep every zero, dense or sparse. Tolerance for
 * Shears vs ONNX Runtime: rtol 1e-4, atol 1e-5 (float32 on both sides, different summation order).
 */
class OnnxRoundTripTest {
    static final double RTOL = 1e-4, ATOL = 1e-5;
    private static Backend cpu;
    @TempDir Path dir;

    @BeforeAll static void backend() { cpu = CpuBackend.create(); }
    @AfterAll static void close() { cpu.close(); }

    static List<String> pytorchCases() { return TestData.PYTORCH_CASES; }
    static List<String> lightModels() { return TestData.LIGHT_MODELS; }

    @ParameterizedTest @MethodSource("pytorchCases")
    void pytorchCaseExportedRunsInOnnxRuntimeWithShearsOutputs(String c) throws IOException {
        Model m = OnnxImporter.load(TestData.pytorchModel(c), cpu);
        Path out = dir.resolve(c + ".onnx");
        OnnxExporter.write(m, out, OnnxExporter.Options.defaults().withSource(TestData.pytorchModel(c)));
        FloatArray x = TensorProtoFiles.read(TestData.pytorchInput(c));
        FloatArray shears = Numerics.shears(m, x);
        FloatArray ort = Numerics.onnxRuntime(out, x);
        assertEquals(shears.shape(), ort.shape(), c);
        Numerics.assertClose(ort, shears, RTOL, ATOL, c + " exported, ONNX Runtime vs Shears");
        // and the exported file imports back to the same outputs
        Numerics.assertClose(shears, Numerics.shears(OnnxImporter.load(out, cpu), x), 0, 0, c + " re-imported");
    }

    /**
     * The light graphs with random weights: Shears on the original graph agrees with ONNX Runtime
     * (the import is right, layer by layer, which the uniform reference output cannot show), and
     * the exported file agrees too.
     */
    @ParameterizedTest @MethodSource("lightModels")
    void lightModelWithRandomWeightsMatchesOnnxRuntimeBeforeAndAfterExport(String net) throws IOException {
        Path original = LightModels.randomized(TestData.lightModel(net), dir, 42);
        long t0 = System.nanoTime();
        Model m = OnnxImporter.load(original, cpu);
        FloatArray x = Numerics.arange(m.inputs().get(0).shape().withBatch(1).dims());
        FloatArray shears = Numerics.shears(m, x);
        long t1 = System.nanoTime();
        FloatArray ortOriginal = Numerics.onnxRuntime(original, x);
        long t2 = System.nanoTime();
        System.err.printf("random %s: Shears import+forward %.1f s, ONNX Runtime %.1f s%n", net, (t1 - t0) / 1e9, (t2 - t1) / 1e9);
        double spread = 0;
        for (float v : shears.data()) spread = Math.max(spread, Math.abs(v - shears.data()[0]));
        assertTrue(spread > 1e-6, net + ": random weights should make the output non-uniform");
        Numerics.assertClose(ortOriginal, shears, 1e-3, 1e-6, net + " (random weights), ONNX Runtime on the original vs Shears");

        Path out = dir.resolve("exported_" + net + ".onnx");
        OnnxExporter.write(m, out, OnnxExporter.Options.defaults());
        Numerics.assertClose(ortOriginal, Numerics.onnxRuntime(out, x), 1e-3, 1e-6, net + " exported, ONNX Runtime");
    }

    /** A small CNN with ~60% of every kernel pruned (masks set, weights zero). */
    private Model prunedCnn() throws IOException {
        Path file = new TestGraph(13, 21).input("x", 2, 3, 8, 8).random("w1", -1, 1, 8, 3, 3, 3).random("b1", -0.1f, 0.1f, 8)
                .random("w2", -0.2f, 0.2f, 8 * 4 * 4, 10).random("b2", -0.1f, 0.1f, 10)
                .op("Conv", in("x", "w1", "b1"), "c", ints("pads", 1, 1, 1, 1)).op("Relu", in("c"), "r")
                .op("MaxPool", in("r"), "p", ints("kernel_shape", 2, 2), ints("strides", 2, 2))
                .op("Flatten", in("p"), "f", i("axis", 1)).op("Gemm", in("f", "w2", "b2"), "y").output("y")
                .write(dir, "cnn.onnx");
        Model m = OnnxImporter.load(file, cpu);
        SplittableRandom rng = new SplittableRandom(7);
        for (Parameter p : m.parameters()) {
            if (p.role() != Parameter.Role.KERNEL) continue;
            byte[] mask = new byte[p.shape().intSize()];
            for (int k = 0; k < mask.length; k++) mask[k] = (byte) (rng.nextDouble() < 0.6 ? 0 : 1);
            p.setMask(cpu.uploadBytes(mask, p.shape()));
            cpu.applyMask(p.value(), p.mask());
        }
        return m;
    }

    private static Map<String, float[]> kernels(Model m) {
        Map<String, float[]> out = new HashMap<>();
        for (Parameter p : m.parameters()) if (p.role() == Parameter.Role.KERNEL) out.put(p.name(), cpu.download(p.value()));
        return out;
    }

    /**
     * Class names go out as metadata_props "shears.class_names" (a JSON array), which ONNX Runtime
     * shows as custom metadata, and come back on import; a model without names writes no entry, and a
     * damaged entry is refused naming it.
     */
    @Test
    void classNamesTravelAsModelMetadata() throws Exception {
        List<String> names = List.of("Ankle boot", "Bag", "Coat", "Dress", "Pullover", "Sandal", "Shirt", "Sneaker", "T-shirt", "Trouser \"10\"");
        Model m = prunedCnn().setClassNames(names);
        Path out = dir.resolve("named.onnx");
        OnnxExporter.write(m, out, OnnxExporter.Options.defaults());
        ai.onnxruntime.OrtEnvironment env = ai.onnxruntime.OrtEnvironment.getEnvironment();
        try (ai.onnxruntime.OrtSession s = env.createSession(out.toString(), new ai.onnxruntime.OrtSession.SessionOptions())) {
            String json = s.getMetadata().getCustomMetadata().get("shears.class_names");
            assertEquals(names, new com.fasterxml.jackson.databind.ObjectMapper().readValue(json, List.class));
        }
        assertEquals(names, OnnxImporter.load(out, cpu).classNames());

        Path plain = dir.resolve("plain.onnx");
        OnnxExporter.write(prunedCnn(), plain, OnnxExporter.Options.defaults());
        assertEquals(0, ModelProto.parseFrom(Files.readAllBytes(plain)).getMetadataPropsCount());
        assertEquals(List.of(), OnnxImporter.load(plain, cpu).classNames());

        ModelProto named = ModelProto.parseFrom(Files.readAllBytes(out));
        for (String[] c : new String[][]{{"\"Bag\"", "not a JSON array of class names"}, {"[1, 2]", "(1 is not a string)"},
                {"[\"a\", \"a\"]", "class name 'a' given twice"}, {"[\"a\"", "not a JSON array of class names ("}}) {
            Path bad = dir.resolve("bad.onnx");
            Files.write(bad, named.toBuilder().setMetadataProps(0, named.getMetadataProps(0).toBuilder().setValue(c[0])).build().toByteArray());
            ImportException e = assertThrows(ImportException.class, () -> OnnxImporter.load(bad, cpu), c[0]);
            assertTrue(e.getMessage().contains("metadata_props entry shears.class_names") && e.getMessage().contains(c[1]), e.getMessage());
        }
    }

    @Test
    void prunedModelExportedDenseKeepsEveryZero() throws IOException {
        Model m = prunedCnn();
        Map<String, float[]> before = kernels(m);
        Path out = dir.resolve("pruned_dense.onnx");
        OnnxExporter.write(m, out, OnnxExporter.Options.defaults());
        ModelProto proto = ModelProto.parseFrom(Files.readAllBytes(out));
        assertEquals(0, proto.getGraph().getSparseInitializerCount());
        int checked = 0;
        for (TensorProto t : proto.getGraph().getInitializerList()) {
            float[] expected = before.get(t.getName());
            if (expected == null) continue;
            float[] written = OnnxTensors.decode(t, out, t.getName()).asFloats();
            int zeros = 0;
            for (int k = 0; k < expected.length; k++) {
                assertEquals(Float.floatToRawIntBits(expected[k]), Float.floatToRawIntBits(written[k]), t.getName() + "[" + k + "]");
                if (expected[k] == 0f) zeros++;
            }
            assertTrue(zeros > expected.length / 2, t.getName() + " should be ~60% zeros, has " + zeros + "/" + expected.length);
            checked++;
        }
        assertEquals(2, checked);
        FloatArray x = Numerics.random(3, -1, 1, 2, 3, 8, 8);
        Numerics.assertClose(Numerics.onnxRuntime(out, x), Numerics.shears(m, x), RTOL, ATOL, "pruned dense export");
    }

    @Test
    void prunedModelExportedSparseKeepsEveryZeroAndRunsInOnnxRuntime() throws IOException {
        Model m = prunedCnn();
        Map<String, float[]> before = kernels(m);
        Path out = dir.resolve("pruned_sparse.onnx");
        OnnxExporter.write(m, out, OnnxExporter.Options.defaults().withSparseKernels(true));
        ModelProto proto = ModelProto.parseFrom(Files.readAllBytes(out));
        assertEquals(2, proto.getGraph().getSparseInitializerCount());
        for (SparseTensorProto s : proto.getGraph().getSparseInitializerList()) {
            float[] expected = before.get(s.getValues().getName());
            int nnz = 0;
            for (float v : expected) if (v != 0f) nnz++;
            assertEquals(nnz, s.getValues().getDims(0), "only the non-zeros are stored");
            assertEquals(List.of((long) nnz, (long) s.getDimsCount()), s.getIndices().getDimsList(), "COO indices [NNZ, rank]");
            long[] idx = OnnxTensors.decode(s.getIndices(), out, "indices").asLongs();
            int rank = s.getDimsCount();
            for (int k = 1; k < nnz; k++) // lexicographic, strictly ascending
                assertTrue(java.util.Arrays.compare(idx, (k - 1) * rank, k * rank, idx, k * rank, (k + 1) * rank) < 0, "indices ascend at " + k);
            float[] dense = OnnxTensors.decodeSparse(s, out, "").asFloats();
            for (int k = 0; k < expected.length; k++)
                assertEquals(Float.floatToRawIntBits(expected[k] == 0f ? 0f : expected[k]), Float.floatToRawIntBits(dense[k]), k + "");
        }
        // the re-imported weights equal the model's, and ONNX Runtime runs the sparse file
        OnnxImporter.Imported back = OnnxImporter.read(out);
        for (var e : before.entrySet()) {
            float[] w = back.weights().get(e.getKey());
            for (int k = 0; k < w.length; k++) assertEquals(e.getValue()[k], w[k], 0f, e.getKey());
        }
        FloatArray x = Numerics.random(3, -1, 1, 2, 3, 8, 8);
        Numerics.assertClose(Numerics.onnxRuntime(out, x), Numerics.shears(m, x), RTOL, ATOL, "pruned sparse export");
    }

    @Test
    void exportNeverOverwritesItsInputAndLeavesNoTemporaryFiles() throws IOException {
        Path src = dir.resolve("src.onnx");
        Files.copy(TestData.pytorchModel("test_Linear"), src);
        byte[] original = Files.readAllBytes(src);
        Model m = OnnxImporter.load(src, cpu);
        ImportException e = assertThrows(ImportException.class,
                () -> OnnxExporter.write(m, dir.resolve("./src.onnx"), OnnxExporter.Options.defaults().withSource(src)));
        assertTrue(e.getMessage().contains("overwrite"), e.getMessage());
        assertArrayEquals(original, Files.readAllBytes(src));

        Path out = dir.resolve("out.onnx");
        Files.writeString(out, "old content");
        OnnxExporter.write(m, out, OnnxExporter.Options.defaults().withSource(src));
        assertEquals(Shape.of(8), OnnxImporter.read(out).model().outputShape());
        try (var files = Files.list(dir)) {
            assertEquals(List.of(), files.filter(p -> p.getFileName().toString().endsWith(".tmp")).toList());
        }
    }
}
