package dev.shears.io.onnx;

import com.google.protobuf.ByteString;
import dev.shears.io.onnx.proto.AttributeProto;
import dev.shears.io.onnx.proto.GraphProto;
import dev.shears.io.onnx.proto.ModelProto;
import dev.shears.io.onnx.proto.NodeProto;
import dev.shears.io.onnx.proto.OperatorSetIdProto;
import dev.shears.io.onnx.proto.TensorProto;
import dev.shears.io.onnx.proto.TensorShapeProto;
import dev.shears.io.onnx.proto.TypeProto;
import dev.shears.io.onnx.proto.ValueInfoProto;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

/** Builds small ONNX models in tests (the ops and attributes a case needs, nothing more). */
final class TestGraph {
    private final GraphProto.Builder g = GraphProto.newBuilder().setName("test");
    private final int opset;
    private final SplittableRandom rng;
    private int count;

    TestGraph(int opset, long seed) {
        this.opset = opset;
        this.rng = new SplittableRandom(seed);
    }

    TestGraph input(String name, long... dims) {
        g.addInput(valueInfo(name, dims));
        return this;
    }

    TestGraph output(String name) {
        g.addOutput(ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder()
                .setTensorType(TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE))));
        return this;
    }

    /** A float initializer with values uniform in [lo, hi). */
    TestGraph random(String name, float lo, float hi, long... dims) {
        float[] v = new float[(int) TensorData.count(dims)];
        for (int i = 0; i < v.length; i++) v[i] = (float) (lo + (hi - lo) * rng.nextDouble());
        return floats(name, v, dims);
    }

    TestGraph floats(String name, float[] v, long... dims) {
        g.addInitializer(OnnxTensors.encodeFloats(name, dims, v));
        return this;
    }

    TestGraph longs(String name, long[] v, long... dims) {
        g.addInitializer(OnnxTensors.encodeLongs(name, dims, v));
        return this;
    }

    TestGraph initializer(TensorProto t) {
        g.addInitializer(t);
        return this;
    }

    NodeProto.Builder node(String op, String[] inputs, String output, AttributeProto... attrs) {
        NodeProto.Builder n = NodeProto.newBuilder().setOpType(op).setName(op.toLowerCase() + "_" + (count++)).addOutput(output);
        for (String i : inputs) n.addInput(i);
        for (AttributeProto a : attrs) n.addAttribute(a);
        g.addNode(n);
        return g.getNodeBuilder(g.getNodeCount() - 1);
    }

    TestGraph op(String op, String[] inputs, String output, AttributeProto... attrs) {
        node(op, inputs, output, attrs);
        return this;
    }

    ModelProto build() {
        return ModelProto.newBuilder().setIrVersion(opset >= 13 ? 7 : opset >= 9 ? 4 : 3).setProducerName("shears-test")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset)).setGraph(g).build();
    }

    Path write(Path dir, String name) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, build().toByteArray());
        return p;
    }

    static String[] in(String... names) { return names; }

    static AttributeProto ints(String name, long... v) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
        for (long x : v) a.addInts(x);
        return a.build();
    }

    static AttributeProto i(String name, long v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(v).build();
    }

    static AttributeProto f(String name, float v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOAT).setF(v).build();
    }

    static AttributeProto s(String name, String v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.STRING)
                .setS(ByteString.copyFrom(v, StandardCharsets.UTF_8)).build();
    }

    static AttributeProto t(String name, TensorProto v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.TENSOR).setT(v).build();
    }

    static ValueInfoProto valueInfo(String name, long... dims) {
        TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
        for (long d : dims) s.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE).setShape(s))).build();
    }
}
