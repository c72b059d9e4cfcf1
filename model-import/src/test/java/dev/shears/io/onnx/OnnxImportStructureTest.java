package dev.shears.io.onnx;

import dev.shears.core.nn.Layer;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.Parameter;
import dev.shears.core.nn.layers.Conv2D;
import dev.shears.core.nn.layers.Dense;
import dev.shears.core.tensor.Shape;
import dev.shears.io.FloatArray;
import dev.shears.io.ImportException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static dev.shears.io.onnx.TestGraph.in;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Import without running: graph structure, shapes, weights placement, opset handling. No backend needed. */
class OnnxImportStructureTest {

    static List<String> pytorchCases() { return TestData.PYTORCH_CASES; }
    static List<String> lightModels() { return TestData.LIGHT_MODELS; }

    @ParameterizedTest @MethodSource("pytorchCases")
    void pytorchCaseImportsWithTheReferenceOutputShape(String c) {
        OnnxImporter.Imported imp = OnnxImporter.read(TestData.pytorchModel(c));
        FloatArray expected = TensorProtoFiles.read(TestData.pytorchOutput(c));
        assertEquals(expected.shape().dropBatch(), imp.model().outputShape(), c);
        assertEquals(6, imp.opset());
        for (Parameter p : imp.model().parameters())
            assertEquals(p.shape().size(), imp.weights().get(p.name()).length, p.name());
    }

    @ParameterizedTest @MethodSource("lightModels")
    void lightModelImportsWithTheReferenceOutputShape(String net) {
        OnnxImporter.Imported imp = OnnxImporter.read(TestData.lightModel(net));
        FloatArray expected = TensorProtoFiles.read(TestData.lightOutput(net));
        assertEquals(expected.shape().dropBatch(), imp.model().outputShape(), net);
        assertEquals(Shape.of(3, 224, 224), imp.model().inputs().get(0).shape());
        // one Conv2D per Conv node, and every parameter has its values
        long convNodes = TestData.nodeCount(TestData.lightModel(net), "Conv");
        assertEquals(convNodes, imp.model().layers().stream().filter(l -> l instanceof Conv2D).count(), net);
        for (Parameter p : imp.model().parameters())
            assertEquals(p.shape().size(), imp.weights().get(p.name()).length, p.name());
    }

    @Test
    void linearBecomesDenseWithTheKernelStoredInByOut() {
        OnnxImporter.Imported imp = OnnxImporter.read(TestData.pytorchModel("test_Linear"));
        Dense d = (Dense) imp.model().layers().stream().filter(l -> l instanceof Dense).findFirst().orElseThrow();
        assertEquals(10, d.inFeatures());
        assertEquals(8, d.outFeatures());
        // Gemm with transB=1 stores B as [out, in] = [8, 10]; the IR kernel is [in, out]
        assertEquals(Shape.of(10, 8), d.kernel().shape());
        assertNotNull(d.bias());
    }

    @Test
    void conv1dMapsToConv2dWithHeightOne() {
        OnnxImporter.Imported imp = OnnxImporter.read(TestData.pytorchModel("test_Conv1d"));
        Conv2D c = (Conv2D) imp.model().layers().stream().filter(l -> l instanceof Conv2D).findFirst().orElseThrow();
        assertEquals(1, c.kernelH());
        assertEquals(3, c.kernelW());
        assertEquals(Shape.of(5, 8), imp.model().outputShape());
    }

    @Test
    void noBiasConvHasNoBiasParameter() {
        OnnxImporter.Imported imp = OnnxImporter.read(TestData.pytorchModel("test_Conv2d_no_bias"));
        Conv2D c = (Conv2D) imp.model().layers().stream().filter(l -> l instanceof Conv2D).findFirst().orElseThrow();
        assertNull(c.bias());
    }

    @Test
    void autoPadSameUpperAndLowerPutTheOddPadAtTheEndOrTheStart() {
        for (String mode : List.of("SAME_UPPER", "SAME_LOWER")) {
            TestGraph g = new TestGraph(11, 1).input("x", 1, 2, 6, 6).random("w", -1, 1, 4, 2, 2, 2)
                    .op("Conv", in("x", "w"), "y", TestGraph.s("auto_pad", mode), TestGraph.ints("strides", 1, 1)).output("y");
            Model m = OnnxImporter.read(g.build().toByteArray(), null).model();
            Conv2D c = (Conv2D) m.layers().get(0);
            // kernel 2, stride 1: total pad 1 per axis
            int begin = mode.equals("SAME_UPPER") ? 0 : 1;
            assertEquals(begin, c.padTop(), mode);
            assertEquals(begin, c.padLeft(), mode);
            assertEquals(1 - begin, c.padBottom(), mode);
            assertEquals(1 - begin, c.padRight(), mode);
            assertEquals(Shape.of(4, 6, 6), m.outputShape());
        }
    }

    @Test
    void matMulFollowedByAddOfAConstantBecomesOneDenseWithBias() {
        TestGraph g = new TestGraph(13, 2).input("x", 1, 5).random("w", -1, 1, 5, 3).random("b", -1, 1, 3)
                .op("MatMul", in("x", "w"), "h").op("Add", in("h", "b"), "y").output("y");
        OnnxImporter.Imported imp = OnnxImporter.read(g.build().toByteArray(), null);
        assertEquals(1, imp.model().layers().size());
        Dense d = (Dense) imp.model().layers().get(0);
        assertNotNull(d.bias());
        assertEquals(Shape.of(3), imp.model().outputShape());
    }

    @Test
    void mulByAPerChannelConstantFoldsIntoTheConvBefore() {
        TestGraph g = new TestGraph(13, 3).input("x", 1, 2, 4, 4).random("w", -1, 1, 3, 2, 1, 1)
                .floats("s", new float[]{2f, 3f, 4f}, 1, 3, 1, 1).floats("c", new float[]{1f, 1f, 1f}, 3, 1, 1)
                .op("Conv", in("x", "w"), "h").op("Mul", in("h", "s"), "h2").op("Add", in("h2", "c"), "y").output("y");
        OnnxImporter.Imported imp = OnnxImporter.read(g.build().toByteArray(), null);
        assertEquals(1, imp.model().layers().size(), imp.model().layers().toString());
        Conv2D c = (Conv2D) imp.model().layers().get(0);
        assertNotNull(c.bias(), "the Add created a bias");
        float[] k = imp.weights().get(c.kernel().name());
        assertEquals(3 * 2, k.length);
        float[] b = imp.weights().get(c.bias().name());
        assertArrayEquals(new float[]{1f, 1f, 1f}, b);
    }

    @Test
    void reshapeResolvesZeroAndMinusOne() {
        TestGraph g = new TestGraph(13, 4).input("x", 2, 3, 4, 5).longs("s", new long[]{0, -1, 5}, 3)
                .op("Reshape", in("x", "s"), "y").output("y");
        assertEquals(Shape.of(12, 5), OnnxImporter.read(g.build().toByteArray(), null).model().outputShape());
    }

    @Test
    void reshapeThatMovesTheBatchIsRefusedClearly() {
        TestGraph g = new TestGraph(13, 4).input("x", 2, 3, 4).longs("s", new long[]{-1, 4}, 2)
                .op("Reshape", in("x", "s"), "y").output("y");
        ImportException e = assertThrows(ImportException.class, () -> OnnxImporter.read(g.build().toByteArray(), null));
        assertTrue(e.getMessage().contains("batch"), e.getMessage());
    }

    @Test
    void unsupportedOpNamesTheOpTheNodeTheFileAndWhatIsSupported(@TempDir Path dir) throws IOException {
        TestGraph g = new TestGraph(13, 5).input("x", 1, 4).op("Relu", in("x"), "h");
        g.node("Erf", in("h"), "y").setName("my_erf");
        Path file = g.output("y").write(dir, "erf.onnx");
        ImportException e = assertThrows(ImportException.class, () -> OnnxImporter.read(file));
        assertEquals(file, e.file());
        assertTrue(e.node().contains("my_erf"), e.node());
        assertTrue(e.getMessage().contains("'Erf'"), e.getMessage());
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        assertTrue(e.supported().contains("Conv") && e.supported().contains("Gemm"), e.supported().toString());
    }

    @Test
    void concatWithOnlyEmptyInputNamesFailsClearly(@TempDir Path dir) throws IOException {
        TestGraph g = new TestGraph(13, 5).input("x", 1, 4).op("Relu", in("x"), "h");
        g.node("Concat", in("", ""), "y", TestGraph.i("axis", 1)).setName("empty_cat");
        Path file = g.output("y").write(dir, "cat.onnx");
        ImportException e = assertThrows(ImportException.class, () -> OnnxImporter.read(file));
        assertTrue(e.node().contains("empty_cat") && e.getMessage().contains("no inputs"), e.getMessage());
    }

    @Test
    void truncatedFileFailsClearly(@TempDir Path dir) throws IOException {
        byte[] full = Files.readAllBytes(TestData.lightModel("squeezenet"));
        Path file = dir.resolve("truncated.onnx");
        Files.write(file, Arrays.copyOf(full, full.length / 2));
        ImportException e = assertThrows(ImportException.class, () -> OnnxImporter.read(file));
        assertEquals(file, e.file());
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    }

    /** Found by OnnxCorruptionTest: a node with no output or no input, and an input axis past int, were raw runtime exceptions. */
    @Test
    void nodeWithoutOutputAndHugeInputAxisFailClearly(@TempDir Path dir) throws IOException {
        var m = dev.shears.io.onnx.proto.ModelProto.parseFrom(Files.readAllBytes(TestData.lightModel("squeezenet")));
        var noOutput = m.toBuilder();
        noOutput.getGraphBuilder().getNodeBuilder(0).clearOutput();
        Path a = dir.resolve("no-output.onnx");
        Files.write(a, noOutput.build().toByteArray());
        ImportException e = assertThrows(ImportException.class, () -> OnnxImporter.read(a));
        assertEquals(a, e.file());
        assertTrue(e.getMessage().contains("no output"), e.getMessage());
        var noInput = m.toBuilder();
        noInput.getGraphBuilder().getNodeBuilder(0).clearInput();
        Path c = dir.resolve("no-input.onnx");
        Files.write(c, noInput.build().toByteArray());
        e = assertThrows(ImportException.class, () -> OnnxImporter.read(c));
        assertEquals(c, e.file());
        assertTrue(e.getMessage().contains("no input"), e.getMessage());
        for (long size : new long[]{1L << 40, 1L << 20}) { // past int on one axis; within int per axis but 2^60 values in all
            var huge = m.toBuilder();
            var initializers = m.getGraph().getInitializerList().stream().map(t -> t.getName()).toList();
            int data = 0; // the first input that is not an initializer (IR < 4 lists those as inputs too)
            while (initializers.contains(m.getGraph().getInput(data).getName())) data++;
            var dims = huge.getGraphBuilder().getInputBuilder(data).getTypeBuilder().getTensorTypeBuilder().getShapeBuilder();
            for (int i = 1; i < dims.getDimCount(); i++) dims.getDimBuilder(i).setDimValue(size);
            Path b = dir.resolve("huge" + size + ".onnx");
            Files.write(b, huge.build().toByteArray());
            e = assertThrows(ImportException.class, () -> OnnxImporter.read(b));
            assertEquals(b, e.file());
            assertTrue(e.getMessage().contains("limit of " + Integer.MAX_VALUE), e.getMessage());
        }
    }

    /**
     * Found while widening OnnxCorruptionTest: a ConstantOfShape whose shape asks for more than the
     * heap holds (a 16 KB file asking for 2^31-1 int64 values, 16 GB) ran out of memory (or, below
     * the heap size, allocated gigabytes before failing on a shape check). It is refused by name,
     * before allocating, when a converter reads it: here a Conv weight [2^31-1, 1, 1, 1] whose
     * dims pass every check (the input has one channel, there is no bias).
     */
    @Test
    void constantOfShapeLargerThanTheHeapFailsClearly(@TempDir Path dir) throws IOException {
        assumeTrue(Runtime.getRuntime().maxMemory() < 16L << 30, "the heap holds 16 GB: the request would fit");
        TestGraph g = new TestGraph(11, 4).input("x", 1, 1, 4, 4).longs("wshape", new long[]{Integer.MAX_VALUE, 1, 1, 1}, 4);
        g.op("ConstantOfShape", in("wshape"), "w", TestGraph.t("value", OnnxTensors.encodeLongs(null, new long[]{1}, new long[]{1})));
        g.op("Conv", in("x", "w"), "y").output("y");
        Path file = g.write(dir, "huge-constant.onnx");
        ImportException e = assertThrows(ImportException.class, () -> OnnxImporter.read(file));
        assertEquals(file, e.file());
        assertTrue(e.getMessage().contains("ConstantOfShape of shape [2147483647, 1, 1, 1] needs 16383 MB"), e.getMessage());
    }

    /**
     * Found by OnnxCorruptionTest ({@code light~733~int32le=65535@10443}): a damaged dimension made a
     * ConstantOfShape weight of a gigabyte that fit the heap, was built in full, and only then did
     * the Conv refuse it for its bias count (seconds a case, and the memory, on a shared machine).
     * Constants are built when a converter reads their values, so the dims check fails first.
     */
    @Test
    void constantOfShapeRefusedByALaterDimsCheckIsNeverBuilt(@TempDir Path dir) throws IOException {
        long outC = 50_000_000; // a 200 MB float weight: it fits the heap, so only laziness avoids building it
        TestGraph g = new TestGraph(11, 3).input("x", 1, 1, 4, 4).longs("wshape", new long[]{outC, 1, 1, 1}, 4).random("b", -1, 1, 4);
        g.op("ConstantOfShape", in("wshape"), "w", TestGraph.t("value", OnnxTensors.encodeFloats(null, new long[]{1}, new float[]{0.5f})));
        g.op("Conv", in("x", "w", "b"), "y").output("y");
        Path file = g.write(dir, "huge-weight.onnx");
        var threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long before = threads.getCurrentThreadAllocatedBytes();
        ImportException e = assertThrows(ImportException.class, () -> OnnxImporter.read(file));
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertEquals(file, e.file());
        assertTrue(e.getMessage().contains("Conv bias B has 4 values for " + outC + " output channels"), e.getMessage());
        assertTrue(allocated < 32L << 20, "the refused weight was built: " + (allocated >> 20) + " MB allocated");
    }

    /** Found by OnnxCorruptionTest (-Dshears.fuzz.seed=19, test_Conv2d~66~bitflip5@91): a one-entry kernel_shape on a 2-D Conv was an ArrayIndexOutOfBoundsException. */
    @Test
    void convKernelShapeOfTheWrongLengthFailsClearly(@TempDir Path dir) throws IOException {
        TestGraph g = new TestGraph(11, 6).input("x", 1, 2, 5, 5).random("w", -1, 1, 4, 2, 3, 3);
        g.op("Conv", in("x", "w"), "y", TestGraph.ints("kernel_shape", 3)).output("y");
        Path file = g.write(dir, "kernel.onnx");
        ImportException e = assertThrows(ImportException.class, () -> OnnxImporter.read(file));
        assertEquals(file, e.file());
        assertTrue(e.getMessage().contains("kernel_shape [3] has 1 entries for a 2-D convolution (W [4, 2, 3, 3])"), e.getMessage());
    }

    /** A sparse initializer's dims are checked like a dense one's: a negative or overflowing one was a NegativeArraySizeException or ArithmeticException. */
    @Test
    void sparseInitializerWithBadDimsFailsClearly(@TempDir Path dir) throws IOException {
        long[][] bad = {{-2, 3}, {1L << 62, 4}};
        String[] expected = {"sparse tensor has a negative dimension -2", "sparse tensor of dims [4611686018427387904, 4] is too large"};
        for (int k = 0; k < bad.length; k++) {
            var m = new TestGraph(13, 5).input("x", 1, 3).op("Relu", in("x"), "y").output("y").build().toBuilder();
            var sparse = dev.shears.io.onnx.proto.SparseTensorProto.newBuilder()
                    .setValues(OnnxTensors.encodeFloats("s", new long[]{1}, new float[]{1f}))
                    .setIndices(OnnxTensors.encodeLongs(null, new long[]{1}, new long[]{0}));
            for (long d : bad[k]) sparse.addDims(d);
            m.getGraphBuilder().addSparseInitializer(sparse);
            Path file = dir.resolve("sparse" + k + ".onnx");
            Files.write(file, m.build().toByteArray());
            ImportException e = assertThrows(ImportException.class, () -> OnnxImporter.read(file));
            assertEquals(file, e.file());
            assertTrue(e.getMessage().contains(expected[k]), e.getMessage());
        }
    }

    @Test
    void garbageAndEmptyFilesFailClearly(@TempDir Path dir) throws IOException {
        Path text = dir.resolve("notes.onnx");
        Files.writeString(text, "this is not a model, just some text\n");
        ImportException e = assertThrows(ImportException.class, () -> OnnxImporter.read(text));
        assertTrue(e.getMessage().contains("ONNX"), e.getMessage());
        Path empty = dir.resolve("empty.onnx");
        Files.write(empty, new byte[0]);
        assertThrows(ImportException.class, () -> OnnxImporter.read(empty));
        ImportException missing = assertThrows(ImportException.class, () -> OnnxImporter.read(dir.resolve("nope.onnx")));
        assertTrue(missing.getMessage().contains("not found"), missing.getMessage());
    }

    @Test
    void missingExternalDataNamesTheLocation(@TempDir Path dir) throws IOException {
        var t = dev.shears.io.onnx.proto.TensorProto.newBuilder().setName("w").addDims(4).addDims(2)
                .setDataType(1).setDataLocation(dev.shears.io.onnx.proto.TensorProto.DataLocation.EXTERNAL)
                .addExternalData(dev.shears.io.onnx.proto.StringStringEntryProto.newBuilder().setKey("location").setValue("weights.bin"))
                .build();
        Path file = new TestGraph(13, 6).input("x", 1, 4).initializer(t).op("MatMul", in("x", "w"), "y").output("y").write(dir, "ext.onnx");
        ImportException e = assertThrows(ImportException.class, () -> OnnxImporter.read(file));
        assertTrue(e.getMessage().contains("weights.bin") && e.getMessage().contains("not found"), e.getMessage());

        // with the data file beside the model (and an offset) the weights load
        java.nio.ByteBuffer bb = java.nio.ByteBuffer.allocate(16 + 32).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        bb.position(16);
        for (int i = 0; i < 8; i++) bb.putFloat(i + 0.5f);
        Files.write(dir.resolve("weights.bin"), bb.array());
        var t2 = t.toBuilder().addExternalData(dev.shears.io.onnx.proto.StringStringEntryProto.newBuilder().setKey("offset").setValue("16")).build();
        Path file2 = new TestGraph(13, 6).input("x", 1, 4).initializer(t2).op("MatMul", in("x", "w"), "y").output("y").write(dir, "ext2.onnx");
        OnnxImporter.Imported imp = OnnxImporter.read(file2);
        Layer d = imp.model().layers().get(0);
        assertArrayEquals(new float[]{0.5f, 1.5f, 2.5f, 3.5f, 4.5f, 5.5f, 6.5f, 7.5f}, imp.weights().get(d.name() + "/kernel"));
    }

    @Test
    void opsetOlderThanSixIsRefused() {
        TestGraph g = new TestGraph(5, 7).input("x", 1, 4).op("Relu", in("x"), "y").output("y");
        ImportException e = assertThrows(ImportException.class, () -> OnnxImporter.read(g.build().toByteArray(), null));
        assertTrue(e.getMessage().contains("operator set 5"), e.getMessage());
    }

    @Test
    void softmaxOverPartOfASampleIsRefusedNotMiscomputed() {
        TestGraph g = new TestGraph(13, 8).input("x", 1, 3, 4).op("Softmax", in("x"), "y").output("y"); // axis -1 of [N,3,4]
        ImportException e = assertThrows(ImportException.class, () -> OnnxImporter.read(g.build().toByteArray(), null));
        assertTrue(e.getMessage().contains("Softmax"), e.getMessage());
        // opset 11 coerces [N,3,4] at axis 1 to [N, 12]: the whole sample, supported
        TestGraph g11 = new TestGraph(11, 8).input("x", 1, 3, 4).op("Softmax", in("x"), "y").output("y");
        assertEquals(Shape.of(3, 4), OnnxImporter.read(g11.build().toByteArray(), null).model().outputShape());
    }

    @Test
    void pytorchFlattenFoldsToOneReshapeWithTheTargetResolved() {
        for (int opset : new int[]{11, 13}) {
            Model m = OnnxImporter.read(OnnxRuntimeParityTest.pytorchFlatten(opset).build().toByteArray(), null).model();
            // Shape, Gather, Unsqueeze, Concat leave no layer behind: Conv, Reshape to [64], Dense
            assertEquals(List.of("Conv2D", "Reshape", "Dense"), m.layers().stream().map(l -> l.getClass().getSimpleName()).toList());
            assertEquals(Shape.of(5), m.outputShape());
        }
    }

    @Test
    void gatherOfAnActivationIsRefusedNamingTheNode() {
        TestGraph g = new TestGraph(13, 9).input("x", 2, 6).longs("idx", new long[]{1, 3}, 2);
        g.node("Gather", in("x", "idx"), "y", TestGraph.i("axis", 1)).setName("pick_features");
        g.output("y");
        ImportException e = assertThrows(ImportException.class, () -> OnnxImporter.read(g.build().toByteArray(), null));
        assertTrue(e.node().contains("pick_features"), e.node());
        assertTrue(e.getMessage().contains("Gather") && e.getMessage().contains("constants"), e.getMessage());
    }

    @Test
    void squeezeOrUnsqueezeOfTheBatchAxisIsRefused() {
        TestGraph u = new TestGraph(11, 10).input("x", 2, 6).op("Unsqueeze", in("x"), "y", TestGraph.ints("axes", 0)).output("y");
        ImportException e = assertThrows(ImportException.class, () -> OnnxImporter.read(u.build().toByteArray(), null));
        assertTrue(e.getMessage().contains("batch") && e.node().contains("Unsqueeze"), e.getMessage());
        TestGraph s = new TestGraph(13, 10).input("x", 1, 6).longs("axes", new long[]{0}, 1).op("Squeeze", in("x", "axes"), "y").output("y");
        e = assertThrows(ImportException.class, () -> OnnxImporter.read(s.build().toByteArray(), null));
        assertTrue(e.getMessage().contains("batch") && e.node().contains("Squeeze"), e.getMessage());
        // a Squeeze of an axis that is not size 1 is refused too
        TestGraph s2 = new TestGraph(13, 10).input("x", 1, 6).longs("axes", new long[]{1}, 1).op("Squeeze", in("x", "axes"), "y").output("y");
        e = assertThrows(ImportException.class, () -> OnnxImporter.read(s2.build().toByteArray(), null));
        assertTrue(e.getMessage().contains("size 6"), e.getMessage());
    }

    @Test
    void subOfAnActivationIsRefusedNotMiscomputed() {
        TestGraph g = new TestGraph(13, 11).input("x", 2, 6).floats("c", new float[]{1f}, 1).op("Sub", in("x", "c"), "y").output("y");
        ImportException e = assertThrows(ImportException.class, () -> OnnxImporter.read(g.build().toByteArray(), null));
        assertTrue(e.getMessage().contains("Sub of an activation"), e.getMessage());
    }
}
