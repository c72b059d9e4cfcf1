package dev.shears.io.onnx;

import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.Model;
import dev.shears.io.FloatArray;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

import static dev.shears.io.onnx.TestGraph.f;
import static dev.shears.io.onnx.TestGraph.i;
import static dev.shears.io.onnx.TestGraph.in;
import static dev.shears.io.onnx.TestGraph.ints;
import static dev.shears.io.onnx.TestGraph.s;
import static dev.shears.io.onnx.TestGraph.t;

/**
 * Each supported op and attribute variant that the reference data does not cover, checked against
 * ONNX Runtime on the same file with random weights and inputs: Shears' import must compute what
 * the ONNX spec says. Tolerance rtol 1e-4, atol 1e-5: both sides compute in float32 but sum in a
 * different order (GEMM blocking, im2col), which moves results by a few ulps of the partial sums.
 */
class OnnxRuntimeParityTest {
    static final double RTOL = 1e-4, ATOL = 1e-5;
    private static Backend cpu;
    @TempDir Path dir;

    @BeforeAll static void backend() { cpu = CpuBackend.create(); }
    @AfterAll static void close() { cpu.close(); }

    private void check(TestGraph g, String name, int... inputDims) throws IOException {
        Path file = g.write(dir, name + ".onnx");
        FloatArray x = Numerics.random(name.hashCode(), -2f, 2f, inputDims);
        FloatArray expected = Numerics.onnxRuntime(file, x);
        Model m = OnnxImporter.load(file, cpu);
        Numerics.assertClose(expected, Numerics.shears(m, x), RTOL, ATOL, name);
    }

    @Test void convWithGroupsDilationsStridesAndAsymmetricPads() throws IOException {
        check(new TestGraph(11, 1).input("x", 2, 4, 9, 9).random("w", -1, 1, 6, 2, 3, 3).random("b", -1, 1, 6)
                .op("Conv", in("x", "w", "b"), "y", i("group", 2), ints("dilations", 2, 1), ints("pads", 1, 2, 0, 1), ints("strides", 2, 1))
                .output("y"), "conv_groups", 2, 4, 9, 9);
    }

    @Test void depthwiseConv() throws IOException {
        check(new TestGraph(11, 2).input("x", 1, 3, 8, 8).random("w", -1, 1, 3, 1, 3, 3)
                .op("Conv", in("x", "w"), "y", i("group", 3), ints("pads", 1, 1, 1, 1)).output("y"), "conv_depthwise", 1, 3, 8, 8);
    }

    @Test void convAutoPadSameUpperSameLowerValid() throws IOException {
        for (String mode : new String[]{"SAME_UPPER", "SAME_LOWER", "VALID"})
            check(new TestGraph(11, 3).input("x", 1, 3, 7, 7).random("w", -1, 1, 4, 3, 4, 4).random("b", -1, 1, 4)
                    .op("Conv", in("x", "w", "b"), "y", s("auto_pad", mode), ints("strides", 2, 2)).output("y"), "conv_" + mode, 1, 3, 7, 7);
    }

    @Test void conv1dWithStrideAndPads() throws IOException {
        check(new TestGraph(11, 4).input("x", 2, 3, 10).random("w", -1, 1, 4, 3, 3).random("b", -1, 1, 4)
                .op("Conv", in("x", "w", "b"), "h", ints("pads", 1, 2), ints("strides", 2))
                .op("MaxPool", in("h"), "y", ints("kernel_shape", 2), ints("strides", 2)).output("y"), "conv1d", 2, 3, 10);
    }

    @Test void maxPoolCeilModeAndPads() throws IOException {
        check(new TestGraph(11, 5).input("x", 1, 2, 7, 7)
                .op("MaxPool", in("x"), "y", ints("kernel_shape", 3, 3), ints("strides", 2, 2), ints("pads", 1, 1, 0, 0), i("ceil_mode", 1))
                .output("y"), "maxpool_ceil", 1, 2, 7, 7);
    }

    @Test void averagePoolCountIncludePadAndCeilMode() throws IOException {
        check(new TestGraph(11, 6).input("x", 1, 2, 7, 7)
                .op("AveragePool", in("x"), "y", ints("kernel_shape", 3, 3), ints("strides", 2, 2), ints("pads", 1, 1, 1, 1), i("count_include_pad", 1))
                .output("y"), "avgpool_include_pad", 1, 2, 7, 7);
        check(new TestGraph(11, 6).input("x", 1, 2, 8, 8)
                .op("AveragePool", in("x"), "y", ints("kernel_shape", 3, 3), ints("strides", 2, 2), ints("pads", 1, 1, 1, 1), i("ceil_mode", 1))
                .output("y"), "avgpool_ceil_exclude_pad", 1, 2, 8, 8);
        // ceil mode with padding counted: the last window hangs past the padding and is divided by
        // its taps inside the padded input, not by kh*kw
        check(new TestGraph(11, 6).input("x", 1, 2, 8, 8)
                .op("AveragePool", in("x"), "y", ints("kernel_shape", 3, 3), ints("strides", 2, 2), ints("pads", 1, 1, 1, 1),
                        i("ceil_mode", 1), i("count_include_pad", 1))
                .output("y"), "avgpool_ceil_include_pad", 1, 2, 8, 8);
        check(new TestGraph(11, 6).input("x", 1, 2, 7, 7)
                .op("AveragePool", in("x"), "y", ints("kernel_shape", 2, 2), s("auto_pad", "SAME_UPPER"))
                .output("y"), "avgpool_same", 1, 2, 7, 7);
    }

    @Test void gemmWithAlphaBetaAndUntransposedB() throws IOException {
        check(new TestGraph(11, 7).input("x", 3, 5).random("w", -1, 1, 5, 4).random("c", -1, 1, 1, 4)
                .op("Gemm", in("x", "w", "c"), "y", f("alpha", 0.5f), f("beta", 2f)).output("y"), "gemm_alpha_beta", 3, 5);
        check(new TestGraph(11, 7).input("x", 3, 5).random("w", -1, 1, 4, 5).random("c", -1, 1, 1)
                .op("Gemm", in("x", "w", "c"), "y", i("transB", 1)).output("y"), "gemm_scalar_c", 3, 5);
    }

    @Test void matMulPlusAddAndMatMulAlone() throws IOException {
        check(new TestGraph(13, 8).input("x", 3, 5).random("w", -1, 1, 5, 4).random("b", -1, 1, 4).random("w2", -1, 1, 4, 2)
                .op("MatMul", in("x", "w"), "h").op("Add", in("b", "h"), "h2").op("MatMul", in("h2", "w2"), "y").output("y"), "matmul", 3, 5);
    }

    @Test void mulAndAddOfConstantsFoldIntoConvDenseAndBatchNorm() throws IOException {
        check(new TestGraph(13, 9).input("x", 2, 3, 5, 5).random("w", -1, 1, 4, 3, 3, 3)
                .random("s", 0.5f, 2f, 1, 4, 1, 1).random("c", -1, 1, 4, 1, 1).floats("two", new float[]{2f})
                .random("sc", 0.5f, 1.5f, 4).random("bb", -1, 1, 4).random("mu", -1, 1, 4).random("var", 0.5f, 2f, 4)
                .op("Conv", in("x", "w"), "h").op("Mul", in("h", "s"), "h2").op("Add", in("h2", "c"), "h3")
                .op("BatchNormalization", in("h3", "sc", "bb", "mu", "var"), "h4").op("Mul", in("two", "h4"), "y").output("y"),
                "fold_conv_bn", 2, 3, 5, 5);
        check(new TestGraph(13, 9).input("x", 2, 6).random("w", -1, 1, 6, 3).random("s", -1, 1, 3)
                .op("MatMul", in("x", "w"), "h").op("Mul", in("h", "s"), "y").output("y"), "fold_dense", 2, 6);
    }

    @Test void addSumMulOfActivations() throws IOException {
        check(new TestGraph(13, 10).input("x", 2, 3, 4)
                .op("Relu", in("x"), "a").op("Sigmoid", in("x"), "b").op("Sum", in("a", "b", "x"), "c")
                .op("Mul", in("c", "b"), "d").op("Add", in("d", "a"), "y").output("y"), "elementwise", 2, 3, 4);
    }

    @Test void batchNormalizationAcrossOpsets() throws IOException {
        for (int opset : new int[]{7, 9, 15})
            check(new TestGraph(opset, 11).input("x", 2, 3, 4, 4).random("sc", 0.5f, 1.5f, 3).random("b", -1, 1, 3)
                    .random("mu", -1, 1, 3).random("var", 0.5f, 2f, 3)
                    .op("BatchNormalization", in("x", "sc", "b", "mu", "var"), "y", f("epsilon", 1e-3f)).output("y"), "bn_opset" + opset, 2, 3, 4, 4);
    }

    @Test void lrn() throws IOException {
        check(new TestGraph(11, 12).input("x", 1, 5, 4, 4)
                .op("LRN", in("x"), "y", i("size", 3), f("alpha", 1e-2f), f("beta", 0.75f), f("bias", 2f)).output("y"), "lrn", 1, 5, 4, 4);
    }

    @Test void shapeOpsFlattenReshapeTranspose() throws IOException {
        check(new TestGraph(13, 13).input("x", 2, 3, 4, 5).longs("shape", new long[]{0, -1, 10}, 3).random("w", -1, 1, 60, 3)
                .op("Transpose", in("x"), "t", ints("perm", 0, 2, 3, 1)).op("Reshape", in("t", "shape"), "r")
                .op("Flatten", in("r"), "f", i("axis", 1)).op("Gemm", in("f", "w"), "y").output("y"), "shape_ops", 2, 3, 4, 5);
    }

    @Test void concatWithNegativeAxis() throws IOException {
        check(new TestGraph(11, 14).input("x", 2, 3, 4, 4).random("w", -1, 1, 2, 3, 1, 1)
                .op("Conv", in("x", "w"), "a").op("Relu", in("x"), "b").op("Concat", in("a", "b", "a"), "y", i("axis", -3)).output("y"),
                "concat", 2, 3, 4, 4);
    }

    @Test void softmaxAndLogSoftmaxAcrossOpsets() throws IOException {
        check(new TestGraph(13, 15).input("x", 2, 10).op("Softmax", in("x"), "y").output("y"), "softmax13", 2, 10);
        check(new TestGraph(11, 15).input("x", 2, 3, 4).op("LogSoftmax", in("x"), "y").output("y"), "logsoftmax11_coerced", 2, 3, 4);
        check(new TestGraph(13, 15).input("x", 2, 7, 1, 1).op("LogSoftmax", in("x"), "y", i("axis", 1)).output("y"), "logsoftmax13_axis1", 2, 7, 1, 1);
    }

    @Test void dropoutIsTheIdentityAtInference() throws IOException {
        check(new TestGraph(12, 16).input("x", 2, 6).floats("ratio", new float[]{0.3f})
                .op("Dropout", in("x", "ratio"), "y").output("y"), "dropout12", 2, 6);
        check(new TestGraph(7, 16).input("x", 2, 6).op("Dropout", in("x"), "y", f("ratio", 0.3f)).output("y"), "dropout7", 2, 6);
    }

    @Test void activations() throws IOException {
        check(new TestGraph(13, 17).input("x", 2, 3, 4).random("slope", -0.5f, 0.5f, 3, 1)
                .op("LeakyRelu", in("x"), "a", f("alpha", 0.2f)).op("Tanh", in("a"), "b").op("Elu", in("x"), "c", f("alpha", 0.7f))
                .op("HardSigmoid", in("c"), "d").op("Softplus", in("d"), "e").op("Softsign", in("e"), "g").op("Selu", in("g"), "h")
                .op("Sum", in("b", "h"), "k").op("PRelu", in("k", "slope"), "y").output("y"), "activations", 2, 3, 4);
    }

    @Test void constantConstantOfShapeAndIdentityFoldIntoWeights() throws IOException {
        TestGraph g = new TestGraph(11, 18).input("x", 2, 4).longs("wshape", new long[]{4, 3}, 2);
        g.op("Constant", in(), "b", t("value", OnnxTensors.encodeFloats(null, new long[]{3}, new float[]{0.1f, -0.2f, 0.3f})));
        g.op("ConstantOfShape", in("wshape"), "w", t("value", OnnxTensors.encodeFloats(null, new long[]{1}, new float[]{0.25f})));
        g.op("Identity", in("w"), "w2").op("Gemm", in("x", "w2", "b"), "h").op("Identity", in("h"), "y").output("y");
        check(g, "constants", 2, 4);
    }

    @Test void globalAveragePoolThenDense() throws IOException {
        check(new TestGraph(9, 19).input("x", 2, 3, 5, 5).random("w", -1, 1, 4, 3).random("b", -1, 1, 4)
                .op("GlobalAveragePool", in("x"), "p").op("Flatten", in("p"), "f").op("Gemm", in("f", "w", "b"), "y", i("transB", 1))
                .output("y"), "gap_dense", 2, 3, 5, 5);
    }

    /**
     * The flatten newer PyTorch exporters write: Reshape(x, Concat(Unsqueeze(Gather(Shape(x), 0)), [-1])).
     * Unsqueeze takes its axes as an attribute before opset 13 and as an input from 13.
     */
    static TestGraph pytorchFlatten(int opset) {
        TestGraph g = new TestGraph(opset, 20).input("x", 2, 3, 6, 6).random("w", -1, 1, 4, 3, 3, 3).random("b", -1, 1, 4)
                .random("w2", -1, 1, 64, 5).longs("zero", new long[]{0}).longs("minus1", new long[]{-1}, 1)
                .op("Conv", in("x", "w", "b"), "c").op("Shape", in("c"), "s").op("Gather", in("s", "zero"), "n", i("axis", 0));
        if (opset < 13) g.op("Unsqueeze", in("n"), "n1", ints("axes", 0));
        else g.longs("axes0", new long[]{0}, 1).op("Unsqueeze", in("n", "axes0"), "n1");
        return g.op("Concat", in("n1", "minus1"), "target", i("axis", 0)).op("Reshape", in("c", "target"), "f")
                .op("Gemm", in("f", "w2"), "y").output("y");
    }

    @Test void pytorchShapeGatherUnsqueezeConcatReshapeFlattenFolds() throws IOException {
        for (int opset : new int[]{11, 13})
            check(pytorchFlatten(opset), "pytorch_flatten" + opset, 2, 3, 6, 6);
    }

    @Test void shapeStartEndNegativeGatherCastAndArithmeticOfConstantsFold() throws IOException {
        // Reshape target [N, C, H*W]: Shape with start/end (opset 15), Gather with negative indices, Mul/Add/Sub/Div, Cast
        TestGraph g = new TestGraph(15, 21).input("x", 2, 4, 3, 5)
                .longs("hwIdx", new long[]{-2, -1}, 2).longs("zero", new long[]{0}).longs("one", new long[]{1})
                .longs("four", new long[]{4}).floats("onef", new float[]{1f}).longs("axes0", new long[]{0}, 1)
                .op("Shape", in("x"), "nc", i("start", 0), i("end", -2))
                .op("Shape", in("x"), "s")
                .op("Gather", in("s", "hwIdx"), "hw", i("axis", 0))
                .op("Gather", in("hw", "zero"), "h", i("axis", 0))
                .op("Gather", in("hw", "one"), "w", i("axis", 0))
                .op("Mul", in("h", "w"), "p")
                .op("Add", in("p", "four"), "p4").op("Sub", in("p4", "four"), "q")
                .op("Cast", in("onef"), "onei", i("to", 7))
                .op("Div", in("q", "onei"), "d")
                .op("Unsqueeze", in("d", "axes0"), "du")
                .op("Concat", in("nc", "du"), "target", i("axis", 0))
                .op("Reshape", in("x", "target"), "r").op("Relu", in("r"), "y").output("y");
        check(g, "shape_arith_fold", 2, 4, 3, 5);
    }

    @Test void squeezeAndUnsqueezeOfActivationsBecomeReshapes() throws IOException {
        for (int opset : new int[]{11, 13}) {
            TestGraph g = new TestGraph(opset, 22).input("x", 2, 3, 4, 4).random("w", -1, 1, 3, 5);
            g.op("GlobalAveragePool", in("x"), "p");
            if (opset < 13) g.op("Squeeze", in("p"), "sq", ints("axes", 3, -2)).op("Unsqueeze", in("sq"), "u", ints("axes", -1, 2));
            else g.longs("sqAxes", new long[]{3, -2}, 2).longs("uAxes", new long[]{-1, 2}, 2)
                    .op("Squeeze", in("p", "sqAxes"), "sq").op("Unsqueeze", in("sq", "uAxes"), "u");
            g.op("Relu", in("u"), "r").op("Squeeze", in("r"), "f").op("Gemm", in("f", "w"), "y").output("y");
            check(g, "squeeze_unsqueeze" + opset, 2, 3, 4, 4);
        }
    }
}
