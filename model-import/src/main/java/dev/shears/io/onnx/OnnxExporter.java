package dev.shears.io.onnx;

import dev.shears.core.backend.Activation;
import dev.shears.core.nn.Layer;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.Parameter;
import dev.shears.core.nn.layers.ActivationLayer;
import dev.shears.core.nn.layers.Add;
import dev.shears.core.nn.layers.AvgPool2D;
import dev.shears.core.nn.layers.BatchNorm;
import dev.shears.core.nn.layers.Concat;
import dev.shears.core.nn.layers.Conv2D;
import dev.shears.core.nn.layers.Dense;
import dev.shears.core.nn.layers.Dropout;
import dev.shears.core.nn.layers.Flatten;
import dev.shears.core.nn.layers.GlobalAvgPool2D;
import dev.shears.core.nn.layers.GlobalMaxPool2D;
import dev.shears.core.nn.layers.Identity;
import dev.shears.core.nn.layers.LRN;
import dev.shears.core.nn.layers.MaxPool2D;
import dev.shears.core.nn.layers.Multiply;
import dev.shears.core.nn.layers.PReLU;
import dev.shears.core.nn.layers.Permute;
import dev.shears.core.nn.layers.Rescale;
import dev.shears.core.nn.layers.Reshape;
import dev.shears.core.nn.layers.Softmax;
import dev.shears.core.nn.layers.ZeroPad2D;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import dev.shears.io.ImportException;
import dev.shears.io.onnx.proto.AttributeProto;
import dev.shears.io.onnx.proto.GraphProto;
import dev.shears.io.onnx.proto.ModelProto;
import dev.shears.io.onnx.proto.NodeProto;
import dev.shears.io.onnx.proto.OperatorSetIdProto;
import dev.shears.io.onnx.proto.SparseTensorProto;
import dev.shears.io.onnx.proto.TensorProto;
import dev.shears.io.onnx.proto.TensorShapeProto;
import dev.shears.io.onnx.proto.TypeProto;
import dev.shears.io.onnx.proto.ValueInfoProto;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes a bound IR model as an ONNX file: operator set {@value #OPSET} (IR version
 * {@value #IR_VERSION}), the first version with the single-axis Softmax and Dropout's ratio as
 * an input, read by every current runtime (ONNX Runtime 1.8 and newer). The batch axis is the
 * symbolic dimension {@code N}. Weights are written exactly (raw little-endian float32, so every
 * zero of a pruned kernel stays zero); with {@link Options#sparseKernels} the pruned kernels go
 * to {@code sparse_initializer} instead, as COO ({@code values} [NNZ], {@code indices}
 * [NNZ, rank] INT64, ascending). The file is written atomically and never over the model it was
 * read from ({@link Options#source}).
 */
public final class OnnxExporter {
    public static final int OPSET = 13;
    public static final int IR_VERSION = 7;
    /** IR layer types the exporter writes, as errors list them. */
    public static final List<String> SUPPORTED_LAYERS = List.of("Activation", "Add", "AvgPool2D", "BatchNorm", "Concat",
            "Conv2D", "Dense", "Dropout", "Flatten", "GlobalAvgPool2D", "GlobalMaxPool2D", "Identity", "LRN", "LogSoftmax", "MaxPool2D",
            "Multiply", "PReLU", "Permute", "Rescale", "Reshape", "Softmax", "ZeroPad2D");

    /**
     * @param sparseKernels write every kernel (Dense, Conv2D) that carries a pruning mask or holds
     *                      an exact zero as a COO {@code sparse_initializer}; else all weights dense.
     *                      COO costs 4 + 8*rank bytes per non-zero against 4 per element dense, so the
     *                      file only shrinks above ~83% sparsity for Dense and ~89% for Conv2D kernels;
     *                      the point is a file whose sparsity runtimes can see
     * @param source        the file the model was read from, never overwritten (null: none)
     */
    public record Options(boolean sparseKernels, Path source) {
        public static Options defaults() { return new Options(false, null); }
        public Options withSparseKernels(boolean sparse) { return new Options(sparse, source); }
        public Options withSource(Path src) { return new Options(sparseKernels, src); }
    }

    private OnnxExporter() {}

    /** Writes {@code model} (bound to a backend) to {@code out}, atomically. */
    public static void write(Model model, Path out, Options options) throws IOException {
        if (options.source() != null && sameFile(out, options.source()))
            throw new ImportException("refusing to overwrite the input model; choose another output file", out, null);
        byte[] bytes = toProto(model, options).toByteArray();
        dev.shears.core.util.AtomicFiles.write(out, o -> o.write(bytes));
    }

    private static boolean sameFile(Path a, Path b) throws IOException {
        if (Files.exists(a) && Files.exists(b)) return Files.isSameFile(a, b);
        return a.toAbsolutePath().normalize().equals(b.toAbsolutePath().normalize());
    }

    /** The ONNX model for a bound IR model. */
    public static ModelProto toProto(Model model, Options options) {
        if (model.backend() == null) throw new IllegalStateException("the model is not bound to a backend: its weights have no values");
        Writer w = new Writer(model, options);
        for (Model.Node n : model.nodes()) w.node(n);
        GraphProto.Builder g = w.graph.setName("shears");
        for (Model.Input in : model.inputs()) g.addInput(valueInfo(in.name(), in.shape()));
        g.addOutput(valueInfo(model.outputName(), model.outputShape()));
        ModelProto.Builder proto = ModelProto.newBuilder()
                .setIrVersion(IR_VERSION)
                .setProducerName("shears")
                .setProducerVersion("0.1.0")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET))
                .setGraph(g);
        OnnxClassNames.write(model, proto); // the class names, as metadata_props "shears.class_names"
        return proto.build();
    }

    private static ValueInfoProto valueInfo(String name, Shape perSample) {
        TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
        s.addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("N"));
        for (int i = 0; i < perSample.rank(); i++) s.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(perSample.dim(i)));
        return ValueInfoProto.newBuilder().setName(name)
                .setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder()
                        .setElemType(TensorProto.DataType.FLOAT_VALUE).setShape(s)))
                .build();
    }

    /** Builds the graph node by node. */
    private static final class Writer {
        final Model model;
        final Options options;
        final GraphProto.Builder graph = GraphProto.newBuilder();

        Writer(Model model, Options options) {
            this.model = model;
            this.options = options;
        }

        void node(Model.Node node) {
            Layer layer = node.layer();
            String x = node.inputs().get(0);
            String y = node.name();
            Shape inShape = model.shapeOf(x);
            switch (layer) {
                case Dense d -> {
                    List<String> ins = new ArrayList<>(List.of(x, weight(d.kernel(), null)));
                    if (d.bias() != null) ins.add(weight(d.bias(), null));
                    add(op("Gemm", y, ins, y));
                }
                case Conv2D c -> {
                    List<String> ins = new ArrayList<>(List.of(x, weight(c.kernel(), null)));
                    if (c.bias() != null) ins.add(weight(c.bias(), null));
                    add(op("Conv", y, ins, y)
                            .addAttribute(ints("kernel_shape", c.kernelH(), c.kernelW()))
                            .addAttribute(ints("strides", c.strideH(), c.strideW()))
                            .addAttribute(ints("pads", c.padTop(), c.padLeft(), c.padBottom(), c.padRight()))
                            .addAttribute(ints("dilations", c.dilationH(), c.dilationW()))
                            .addAttribute(integer("group", c.groups())));
                }
                case BatchNorm b -> add(op("BatchNormalization", y, List.of(x, weight(b.gamma(), null), weight(b.beta(), null),
                        weight(b.movingMean(), null), weight(b.movingVariance(), null)), y)
                        .addAttribute(real("epsilon", b.epsilon()))
                        .addAttribute(real("momentum", b.momentum())));
                case MaxPool2D p -> add(op("MaxPool", y, List.of(x), y)
                        .addAttribute(ints("kernel_shape", p.kernelH(), p.kernelW()))
                        .addAttribute(ints("strides", p.strideH(), p.strideW()))
                        .addAttribute(ints("pads", p.padTop(), p.padLeft(), p.padBottom(), p.padRight()))
                        .addAttribute(integer("ceil_mode", p.ceilMode() ? 1 : 0)));
                case AvgPool2D p -> add(op("AveragePool", y, List.of(x), y)
                        .addAttribute(ints("kernel_shape", p.kernelH(), p.kernelW()))
                        .addAttribute(ints("strides", p.strideH(), p.strideW()))
                        .addAttribute(ints("pads", p.padTop(), p.padLeft(), p.padBottom(), p.padRight()))
                        .addAttribute(integer("ceil_mode", p.ceilMode() ? 1 : 0))
                        .addAttribute(integer("count_include_pad", p.countIncludePad() ? 1 : 0)));
                case GlobalAvgPool2D gp -> globalPool("GlobalAveragePool", gp.keepDims(), x, y);
                case GlobalMaxPool2D gp -> globalPool("GlobalMaxPool", gp.keepDims(), x, y);
                case ActivationLayer a -> activation(a, x, y);
                case PReLU p -> {
                    Shape s = p.slope().shape();
                    long[] dims;
                    if (s.equals(inShape)) dims = longs(s);
                    else { // per channel [C]: [C, 1, ..., 1] broadcasts against [N, C, ...]
                        dims = new long[inShape.rank()];
                        java.util.Arrays.fill(dims, 1);
                        dims[0] = s.dim(0);
                    }
                    add(op("PRelu", y, List.of(x, weight(p.slope(), dims)), y));
                }
                case Flatten f -> add(op("Flatten", y, List.of(x), y).addAttribute(integer("axis", 1)));
                case Reshape r -> add(op("Reshape", y, List.of(x, shapeConstant(y + "/shape", r.target())), y));
                case Permute p -> {
                    int[] perm = p.perm();
                    long[] full = new long[perm.length + 1];
                    for (int i = 0; i < perm.length; i++) full[i + 1] = perm[i] + 1;
                    add(op("Transpose", y, List.of(x), y).addAttribute(ints("perm", full)));
                }
                case ZeroPad2D z -> {
                    String pads = y + "/pads";
                    graph.addInitializer(OnnxTensors.encodeLongs(pads, new long[]{8}, new long[]{0, 0, z.top(), z.left(), 0, 0, z.bottom(), z.right()}));
                    add(op("Pad", y, List.of(x, pads), y).addAttribute(string("mode", "constant")));
                }
                case Add a -> {
                    if (node.inputs().size() == 1) add(op("Identity", y, node.inputs(), y));
                    else add(op(node.inputs().size() == 2 ? "Add" : "Sum", y, node.inputs(), y));
                }
                case Multiply m -> {
                    List<String> ins = node.inputs();
                    if (ins.size() == 1) add(op("Identity", y, ins, y));
                    String acc = ins.get(0);
                    for (int i = 1; i < ins.size(); i++) {
                        String out = i == ins.size() - 1 ? y : y + "/mul" + i;
                        add(op("Mul", out, List.of(acc, ins.get(i)), out));
                        acc = out;
                    }
                }
                case Concat c -> add(op("Concat", y, node.inputs(), y).addAttribute(integer("axis", c.axis() + 1)));
                case Softmax s -> {
                    String type = s.log() ? "LogSoftmax" : "Softmax";
                    if (inShape.rank() == 1) add(op(type, y, List.of(x), y).addAttribute(integer("axis", 1)));
                    else { // the IR normalises the whole sample: flatten, normalise, restore the shape
                        add(op("Flatten", y + "/flat", List.of(x), y + "/flat").addAttribute(integer("axis", 1)));
                        add(op(type, y + "/norm", List.of(y + "/flat"), y + "/norm").addAttribute(integer("axis", 1)));
                        add(op("Reshape", y, List.of(y + "/norm", shapeConstant(y + "/shape", inShape)), y));
                    }
                }
                case Dropout d -> {
                    String ratio = y + "/ratio";
                    graph.addInitializer(OnnxTensors.encodeFloats(ratio, new long[0], new float[]{d.rate()}));
                    add(op("Dropout", y, List.of(x, ratio), y));
                }
                case LRN l -> add(op("LRN", y, List.of(x), y)
                        .addAttribute(integer("size", l.size()))
                        .addAttribute(real("alpha", l.alpha()))
                        .addAttribute(real("beta", l.beta()))
                        .addAttribute(real("bias", l.bias())));
                case Identity i -> add(op("Identity", y, List.of(x), y));
                case Rescale r -> rescale(r, x, y);
                default -> throw new ImportException("layer type " + layer.type() + " has no ONNX export", null, layer.name(),
                        SUPPORTED_LAYERS, null);
            }
        }

        private void activation(ActivationLayer a, String x, String y) {
            Activation f = a.function();
            NodeProto.Builder n = switch (f) {
                case LINEAR -> op("Identity", y, List.of(x), y);
                case RELU -> op("Relu", y, List.of(x), y);
                case LEAKY_RELU -> op("LeakyRelu", y, List.of(x), y).addAttribute(real("alpha", a.alpha()));
                case SIGMOID -> op("Sigmoid", y, List.of(x), y);
                case TANH -> op("Tanh", y, List.of(x), y);
                case ELU -> op("Elu", y, List.of(x), y).addAttribute(real("alpha", a.alpha()));
                case SELU -> op("Selu", y, List.of(x), y)
                        .addAttribute(real("alpha", Activation.SELU_ALPHA)).addAttribute(real("gamma", Activation.SELU_SCALE));
                case SOFTPLUS -> op("Softplus", y, List.of(x), y);
                case SOFTSIGN -> op("Softsign", y, List.of(x), y);
                // slope and offset as ONNX's alpha and beta (any values; Keras 2's 0.2, 0.5 are ONNX's defaults, written anyway)
                case HARD_SIGMOID -> op("HardSigmoid", y, List.of(x), y).addAttribute(real("alpha", a.alpha())).addAttribute(real("beta", a.beta()));
                // Clip takes its bounds as inputs from opset 11
                case RELU_CAPPED -> op("Clip", y, List.of(x, scalar(y + "/min", 0f), scalar(y + "/max", a.alpha())), y);
                // HardSwish is opset 14: x * HardSigmoid(x; 1/6, 0.5) = x * max(0, min(1, x/6 + 0.5))
                case HARD_SWISH -> gated(x, y, op("HardSigmoid", y + "/hard_sigmoid", List.of(x), y + "/hard_sigmoid")
                        .addAttribute(real("alpha", 1f / 6)).addAttribute(real("beta", 0.5f)));
                case SWISH -> gated(x, y, op("Sigmoid", y + "/sigmoid", List.of(x), y + "/sigmoid"));
            };
            add(n);
        }

        /**
         * {@code y = scale * x + offset} as Mul by a scalar then Add of a scalar (two roundings, as
         * ONNX runtimes compute it; Shears fuses them into one fma, at most an ulp apart); a factor of 1
         * or an offset of 0 writes no node, both write an Identity.
         */
        private void rescale(Rescale r, String x, String y) {
            boolean mul = r.scale() != 1f, plus = r.offset() != 0f;
            if (!mul && !plus) {
                add(op("Identity", y, List.of(x), y));
                return;
            }
            String scaled = x;
            if (mul) {
                scaled = plus ? y + "/scaled" : y;
                add(op("Mul", scaled, List.of(x, scalar(y + "/scale", r.scale())), scaled));
            }
            if (plus) add(op("Add", y, List.of(scaled, scalar(y + "/offset", r.offset())), y));
        }

        /** A global pool {@code opType} ([N, C, 1, 1]), flattened to [N, C] unless {@code keepDims}. */
        private void globalPool(String opType, boolean keepDims, String x, String y) {
            if (keepDims) add(op(opType, y, List.of(x), y));
            else {
                add(op(opType, y + "/pool", List.of(x), y + "/pool"));
                add(op("Flatten", y, List.of(y + "/pool"), y).addAttribute(integer("axis", 1)));
            }
        }

        /** Adds {@code gate} (g = f(x)) and returns the Mul x * g producing {@code y} (the importer fuses the pair back). */
        private NodeProto.Builder gated(String x, String y, NodeProto.Builder gate) {
            add(gate);
            return op("Mul", y, List.of(x, gate.getOutput(0)), y);
        }

        /** A float scalar initializer. */
        private String scalar(String name, float v) {
            graph.addInitializer(OnnxTensors.encodeFloats(name, new long[0], new float[]{v}));
            return name;
        }

        /** Adds a parameter as an initializer named after it (dims: its shape, or {@code dims} when given). */
        private String weight(Parameter p, long[] dims) {
            Tensor t = p.value();
            float[] v = t.backend().download(t);
            long[] d = dims != null ? dims : longs(p.shape());
            boolean sparse = options.sparseKernels() && p.role() == Parameter.Role.KERNEL && (p.mask() != null || hasZero(v));
            if (sparse) graph.addSparseInitializer(sparseTensor(p.name(), d, v));
            else graph.addInitializer(OnnxTensors.encodeFloats(p.name(), d, v));
            return p.name();
        }

        private String shapeConstant(String name, Shape perSample) {
            long[] s = new long[perSample.rank() + 1];
            s[0] = 0; // copy the batch size
            for (int i = 0; i < perSample.rank(); i++) s[i + 1] = perSample.dim(i);
            graph.addInitializer(OnnxTensors.encodeLongs(name, new long[]{s.length}, s));
            return name;
        }

        private void add(NodeProto.Builder n) { graph.addNode(n); }
    }

    /** A COO sparse tensor of the non-zero elements of {@code v} (row-major, so indices ascend). */
    static SparseTensorProto sparseTensor(String name, long[] dims, float[] v) {
        int nnz = 0;
        for (float f : v) if (f != 0f) nnz++;
        float[] values = new float[nnz];
        long[] idx = new long[nnz * dims.length];
        int k = 0;
        for (int i = 0; i < v.length; i++) {
            if (v[i] == 0f) continue;
            values[k] = v[i];
            long rest = i;
            for (int d = dims.length - 1; d >= 0; d--) {
                idx[k * dims.length + d] = rest % dims[d];
                rest /= dims[d];
            }
            k++;
        }
        SparseTensorProto.Builder s = SparseTensorProto.newBuilder()
                .setValues(OnnxTensors.encodeFloats(name, new long[]{nnz}, values))
                .setIndices(OnnxTensors.encodeLongs(null, new long[]{nnz, dims.length}, idx));
        for (long d : dims) s.addDims(d);
        return s.build();
    }

    private static boolean hasZero(float[] v) {
        for (float f : v) if (f == 0f) return true;
        return false;
    }

    private static long[] longs(Shape s) {
        long[] d = new long[s.rank()];
        for (int i = 0; i < d.length; i++) d[i] = s.dim(i);
        return d;
    }

    private static NodeProto.Builder op(String type, String name, List<String> inputs, String output) {
        return NodeProto.newBuilder().setOpType(type).setName(name).addAllInput(inputs).addOutput(output);
    }

    private static AttributeProto ints(String name, long... v) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
        for (long x : v) a.addInts(x);
        return a.build();
    }

    private static AttributeProto ints(String name, int... v) {
        long[] l = new long[v.length];
        for (int i = 0; i < v.length; i++) l[i] = v[i];
        return ints(name, l);
    }

    private static AttributeProto integer(String name, long v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(v).build();
    }

    private static AttributeProto real(String name, float v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOAT).setF(v).build();
    }

    private static AttributeProto string(String name, String v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.STRING)
                .setS(com.google.protobuf.ByteString.copyFrom(v, StandardCharsets.UTF_8)).build();
    }
}
