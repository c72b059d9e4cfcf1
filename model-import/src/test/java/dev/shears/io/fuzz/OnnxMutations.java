package dev.shears.io.fuzz;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.shears.core.fuzz.Corruption;
import dev.shears.core.fuzz.Corruptions;
import dev.shears.io.onnx.proto.AttributeProto;
import dev.shears.io.onnx.proto.GraphProto;
import dev.shears.io.onnx.proto.ModelProto;
import dev.shears.io.onnx.proto.NodeProto;
import dev.shears.io.onnx.proto.StringStringEntryProto;
import dev.shears.io.onnx.proto.TensorProto;
import dev.shears.io.onnx.proto.TensorShapeProto;
import dev.shears.io.onnx.proto.ValueInfoProto;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Structure-aware damage to ONNX files: random bytes mostly break the protobuf encoding, so the
 * parser refuses them and the importer proper is never reached. These keep a valid protobuf and
 * change one field: a tensor's dimension, data type or payload, a node's attribute, input or op,
 * a graph input's shape, the operator set version.
 */
final class OnnxMutations {
    private OnnxMutations() {}

    private static final long[] NUMBERS = {0, -1, -7, Integer.MAX_VALUE, 1L << 40, Long.MIN_VALUE, 1L << 29};
    private static final int[] TYPES = {0, TensorProto.DataType.STRING_VALUE, TensorProto.DataType.INT64_VALUE,
            TensorProto.DataType.DOUBLE_VALUE, TensorProto.DataType.FLOAT16_VALUE, TensorProto.DataType.BOOL_VALUE, 999};

    /** {@code count} models, each with one field of {@code model} changed. */
    static List<Corruption> model(byte[] model, long rngSeed, int count) {
        ModelProto m = parseModel(model);
        SplittableRandom r = Corruptions.random(rngSeed);
        List<Corruption> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            ModelProto.Builder b = m.toBuilder();
            GraphProto.Builder g = b.getGraphBuilder();
            long v = NUMBERS[r.nextInt(NUMBERS.length)];
            String name;
            int what = r.nextInt(8);
            if (what == 0 && g.getInitializerCount() > 0) {
                int k = r.nextInt(g.getInitializerCount());
                var mutated = tensor(g.getInitializer(k), r);
                g.setInitializer(k, mutated.proto);
                name = "initializer" + k + "." + mutated.name;
            } else if ((what == 1 || what == 2) && g.getNodeCount() > 0) {
                int k = r.nextInt(g.getNodeCount());
                NodeProto.Builder n = g.getNodeBuilder(k);
                if (n.getAttributeCount() > 0 && what == 1) {
                    int a = r.nextInt(n.getAttributeCount());
                    AttributeProto.Builder at = n.getAttributeBuilder(a);
                    if (at.getIntsCount() > 0) {
                        int j = r.nextInt(at.getIntsCount());
                        at.setInts(j, v);
                        name = "node" + k + "." + at.getName() + "[" + j + "]=" + v;
                    } else if (at.hasI()) {
                        at.setI(v);
                        name = "node" + k + "." + at.getName() + "=" + v;
                    } else if (at.hasT()) {
                        var mutated = tensor(at.getT(), r);
                        at.setT(mutated.proto);
                        name = "node" + k + "." + at.getName() + "." + mutated.name;
                    } else if (at.hasF()) {
                        at.setF(Float.NaN);
                        name = "node" + k + "." + at.getName() + "=NaN";
                    } else {
                        n.removeAttribute(a);
                        name = "node" + k + ".drop-attribute" + a;
                    }
                } else {
                    switch (r.nextInt(5)) {
                        case 0 -> { n.clearInput(); name = "node" + k + ".no-inputs"; }
                        case 1 -> {
                            if (n.getInputCount() > 0) n.setInput(r.nextInt(n.getInputCount()), "nowhere");
                            name = "node" + k + ".input=nowhere";
                        }
                        case 2 -> { n.setOpType("NoSuchOp"); name = "node" + k + ".op=NoSuchOp"; }
                        case 3 -> { n.clearOutput(); name = "node" + k + ".no-outputs"; }
                        default -> {
                            n.addInput(n.getInputCount() > 0 ? n.getInput(0) : "x");
                            name = "node" + k + ".extra-input";
                        }
                    }
                }
            } else if (what == 3 && g.getInputCount() > 0) {
                int k = r.nextInt(g.getInputCount());
                ValueInfoProto.Builder in = g.getInputBuilder(k);
                TensorShapeProto.Builder s = in.getTypeBuilder().getTensorTypeBuilder().getShapeBuilder();
                if (s.getDimCount() > 0 && r.nextBoolean()) {
                    int d = r.nextInt(s.getDimCount());
                    s.getDimBuilder(d).setDimValue(v);
                    name = "input" + k + ".dim" + d + "=" + v;
                } else {
                    in.getTypeBuilder().getTensorTypeBuilder().setElemType(TYPES[r.nextInt(TYPES.length)]);
                    name = "input" + k + ".elem_type=" + in.getTypeBuilder().getTensorTypeBuilder().getElemType();
                }
            } else if (what == 4 && b.getOpsetImportCount() > 0) {
                b.getOpsetImportBuilder(0).setVersion(v);
                name = "opset=" + v;
            } else if (what == 5) {
                if (g.getOutputCount() > 0 && r.nextBoolean()) {
                    g.getOutputBuilder(0).setName("nowhere");
                    name = "output=nowhere";
                } else {
                    g.clearOutput();
                    name = "no-outputs";
                }
            } else if (what == 6 && g.getInitializerCount() > 0) {
                // weights in an external file: one that is not there, and one outside the model's folder
                int k = r.nextInt(g.getInitializerCount());
                String location = r.nextBoolean() ? "missing.bin" : "../../../../../../etc/hostname";
                g.setInitializer(k, g.getInitializer(k).toBuilder().clearRawData().clearFloatData()
                        .setDataLocation(TensorProto.DataLocation.EXTERNAL)
                        .addExternalData(StringStringEntryProto.newBuilder().setKey("location").setValue(location))
                        .addExternalData(StringStringEntryProto.newBuilder().setKey("length").setValue(Long.toString(v))));
                name = "initializer" + k + ".external=" + location.replace('/', '|') + ",length=" + v;
            } else {
                g.clearInput();
                name = "no-graph-inputs";
            }
            out.add(new Corruption(name, b.build().toByteArray()));
        }
        return out;
    }

    /** {@code count} TensorProto files, each with one field changed. */
    static List<Corruption> tensor(byte[] tensor, long rngSeed, int count) {
        TensorProto t;
        try {
            t = TensorProto.parseFrom(tensor);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalArgumentException("seed is not a TensorProto", e);
        }
        SplittableRandom r = Corruptions.random(rngSeed);
        List<Corruption> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            var m = tensor(t, r);
            out.add(new Corruption(m.name, m.proto.toByteArray()));
        }
        return out;
    }

    private record Mutated(String name, TensorProto proto) {}

    private static Mutated tensor(TensorProto t, SplittableRandom r) {
        TensorProto.Builder b = t.toBuilder();
        long v = NUMBERS[r.nextInt(NUMBERS.length)];
        return switch (r.nextInt(8)) {
            case 6, 7 -> {
                // a value of an integer tensor (a shape fed to Reshape or ConstantOfShape, pads, axes), stored either way
                if (b.getDataType() != TensorProto.DataType.INT64_VALUE) yield new Mutated("no-dims", b.clearDims().build());
                if (b.getInt64DataCount() > 0) {
                    int j = r.nextInt(b.getInt64DataCount());
                    b.setInt64Data(j, v);
                    yield new Mutated("int64[" + j + "]=" + v, b.build());
                }
                byte[] raw = b.getRawData().toByteArray();
                if (raw.length < 8) yield new Mutated("no-raw_data", b.clearRawData().build());
                int j = r.nextInt(raw.length / 8);
                java.nio.ByteBuffer.wrap(raw).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(8 * j, v);
                yield new Mutated("int64[" + j + "]=" + v, b.setRawData(ByteString.copyFrom(raw)).build());
            }
            case 0 -> {
                if (b.getDimsCount() == 0) { b.addDims(v); yield new Mutated("add-dim=" + v, b.build()); }
                int d = r.nextInt(b.getDimsCount());
                b.setDims(d, v);
                yield new Mutated("dim" + d + "=" + v, b.build());
            }
            case 1 -> { b.addDims(r.nextBoolean() ? 2 : v); yield new Mutated("extra-dim=" + b.getDims(b.getDimsCount() - 1), b.build()); }
            case 2 -> {
                int type = TYPES[r.nextInt(TYPES.length)];
                b.setDataType(type);
                yield new Mutated("data_type=" + type, b.build());
            }
            case 3 -> {
                ByteString raw = b.getRawData();
                b.setRawData(raw.substring(0, raw.size() / 2));
                yield new Mutated("raw_data-halved", b.build());
            }
            case 4 -> {
                // no payload, and sometimes a dimension that then sizes the array alone
                b.clearRawData();
                if (b.getDimsCount() == 0 || r.nextBoolean()) yield new Mutated("no-raw_data", b.build());
                b.setDims(0, v);
                yield new Mutated("no-raw_data,dim0=" + v, b.build());
            }
            default -> {
                b.clearDims();
                yield new Mutated("no-dims", b.build());
            }
        };
    }

    private static ModelProto parseModel(byte[] model) {
        try {
            return ModelProto.parseFrom(model);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalArgumentException("seed is not an ONNX model", e);
        }
    }

}
