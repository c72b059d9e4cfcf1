package dev.shears.io.onnx;

import dev.shears.core.backend.Activation;
import dev.shears.core.backend.ConvGeometry;
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
import dev.shears.core.nn.layers.Reshape;
import dev.shears.core.nn.layers.Softmax;
import dev.shears.core.nn.layers.Rescale;
import dev.shears.core.nn.layers.ZeroPad2D;
import dev.shears.core.tensor.Shape;
import dev.shears.core.util.HeapBudget;
import dev.shears.io.ImportException;
import dev.shears.io.UniqueNames;
import dev.shears.io.onnx.proto.GraphProto;
import dev.shears.io.onnx.proto.NodeProto;
import dev.shears.io.onnx.proto.SparseTensorProto;
import dev.shears.io.onnx.proto.TensorProto;
import dev.shears.io.onnx.proto.TensorShapeProto;
import dev.shears.io.onnx.proto.ValueInfoProto;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One import of an ONNX graph into the IR: walks the (topologically sorted) nodes, keeps
 * constants on the host, turns every other value into an IR node's output, and records the
 * weights of the layers it creates. ONNX activations carry the batch on axis 0; the IR's shapes
 * are per sample, so ONNX axes are shifted by one and an op that would move the batch axis is
 * refused with a clear error.
 *
 * <p>Operator-set differences handled (opset 6 on): BatchNormalization's {@code is_test},
 * {@code spatial} (6-8) and {@code training_mode} (14+); Dropout's {@code is_test} (6),
 * {@code ratio} attribute (6-11) or input (12+); pooling {@code ceil_mode} and MaxPool
 * {@code dilations} (10+), AveragePool {@code count_include_pad} (7+); Softmax/LogSoftmax
 * coercion to 2-D at {@code axis} (before 13) or a single axis (13+) and the default axis
 * (1, then -1); negative axes (11+); Gemm's {@code broadcast} (6); Reshape {@code allowzero} (14+);
 * Squeeze/Unsqueeze {@code axes} as an attribute (before 13) or an input (13+); Shape {@code start}/{@code end} (15+);
 * Clip's {@code min}/{@code max} as attributes (6-10) or optional inputs (11+); ReduceMean/ReduceMax
 * {@code axes} as an attribute (before 18) or an optional input (18+).
 */
final class GraphImport {
    private static final Set<String> DEFAULT_DOMAINS = Set.of("", "ai.onnx");

    /** An activation: the IR node (or graph input) that produces it and its per-sample shape. */
    private record Act(String ir, Shape shape) {
        int fullRank() { return shape.rank() + 1; }
    }

    /** A layer waiting to become an IR node (kept mutable so constants can fold into it). */
    private static final class Pending {
        Layer layer;
        final List<String> inputs;

        Pending(Layer layer, List<String> inputs) {
            this.layer = layer;
            this.inputs = inputs;
        }
    }

    private final GraphProto graph;
    private final Path file;
    private final int opset;
    private final Map<String, TensorData> constants = new HashMap<>();
    private final Map<String, Act> acts = new HashMap<>();
    private final List<Model.Input> inputs = new ArrayList<>();
    private final List<Pending> pending = new ArrayList<>();
    private final Map<String, Pending> pendingByName = new HashMap<>();
    private final Map<String, float[]> weights = new LinkedHashMap<>();
    private final UniqueNames usedNames = new UniqueNames();
    /** per ONNX value: the indices of the nodes that read it, once per input slot */
    private final Map<String, List<Integer>> consumers = new HashMap<>();
    private final Set<String> graphOutputs = new HashSet<>();
    private final Set<Integer> folded = new HashSet<>();
    /** per IR activation: how many ONNX nodes only renamed it (Identity, one-input Sum, no-op Reshape) */
    private final Map<String, Integer> aliasEdges = new HashMap<>();
    /** the batch size the file declares on its first input (1 when symbolic): resolves Reshape targets */
    private long nominalBatch = 1;

    GraphImport(GraphProto graph, Path file, int opset) {
        this.graph = graph;
        this.file = file;
        this.opset = opset;
    }

    Map<String, float[]> weights() { return weights; }

    Model run() {
        for (TensorProto t : graph.getInitializerList()) constants.put(t.getName(), OnnxTensors.decode(t, file, t.getName()));
        for (SparseTensorProto s : graph.getSparseInitializerList())
            constants.put(s.getValues().getName(), OnnxTensors.decodeSparse(s, file, s.getValues().getName()));
        readInputs();
        for (ValueInfoProto o : graph.getOutputList()) graphOutputs.add(o.getName());
        for (int i = 0; i < graph.getNodeCount(); i++) {
            for (String in : graph.getNode(i).getInputList()) {
                if (in.isEmpty()) continue;
                consumers.computeIfAbsent(in, k -> new ArrayList<>()).add(i);
            }
        }
        for (int i = 0; i < graph.getNodeCount(); i++) {
            if (folded.contains(i)) continue;
            NodeProto n = graph.getNode(i);
            if (!DEFAULT_DOMAINS.contains(n.getDomain()))
                throw new ImportException("op '" + n.getDomain() + "." + n.getOpType() + "' is from a custom domain, which Shears does not support",
                        file, display(n), OnnxImporter.SUPPORTED_OPS, null);
            // every op Shears reads has one output, read as getOutput(0) throughout: a node without one is damage
            if (n.getOutputCount() == 0 || n.getOutput(0).isEmpty())
                throw new ImportException("node has no output (the file is corrupt or was written by a broken exporter)", file, display(n));
            // likewise every op but Constant has an input 0 (the converters read it directly; an empty name is theirs to judge)
            if (!n.getOpType().equals("Constant") && n.getInputCount() == 0)
                throw new ImportException("node has no input (the file is corrupt or was written by a broken exporter)", file, display(n));
            convert(n);
        }
        return buildModel();
    }

    // ------------------------------------------------------------------ inputs and output

    private void readInputs() {
        boolean first = true;
        for (ValueInfoProto vi : graph.getInputList()) {
            String name = vi.getName();
            if (constants.containsKey(name)) continue; // IR < 4 lists initializers as inputs
            if (!vi.getType().hasTensorType())
                throw new ImportException("graph input is not a tensor (sequences and maps are not supported)", file, name);
            var tt = vi.getType().getTensorType();
            if (tt.getElemType() != TensorProto.DataType.FLOAT_VALUE)
                throw new ImportException("graph input has element type " + OnnxTensors.typeName(tt.getElemType())
                        + "; Shears models take FLOAT inputs", file, name);
            if (!tt.hasShape() || tt.getShape().getDimCount() < 2)
                throw new ImportException("graph input needs a known shape [batch, ...] of rank 2 or more, the file declares "
                        + (tt.hasShape() ? describe(tt.getShape()) : "none"), file, name);
            TensorShapeProto sp = tt.getShape();
            int[] ps = new int[sp.getDimCount() - 1];
            for (int i = 1; i < sp.getDimCount(); i++) {
                var d = sp.getDim(i);
                if (!d.hasDimValue() || d.getDimValue() <= 0)
                    throw new ImportException("graph input shape " + describe(sp) + " has a symbolic or unknown size on axis " + i
                            + "; Shears needs fixed sizes on every axis but the batch (axis 0)", file, name);
                if (d.getDimValue() > Integer.MAX_VALUE)
                    throw new ImportException("graph input shape " + describe(sp) + " has size " + d.getDimValue() + " on axis " + i
                            + ", more than Shears' limit of " + Integer.MAX_VALUE + " (is the file corrupt?)", file, name);
                ps[i - 1] = (int) d.getDimValue();
            }
            long size = 1;
            for (int p : ps) if (size <= Integer.MAX_VALUE) size *= p; // both factors < 2^31: the long cannot overflow
            if (size > Integer.MAX_VALUE)
                throw new ImportException("graph input shape " + describe(sp) + " holds " + size + " values per sample, more than Shears' limit of "
                        + Integer.MAX_VALUE + " (is the file corrupt?)", file, name);
            if (first && sp.getDim(0).hasDimValue() && sp.getDim(0).getDimValue() > 0) nominalBatch = sp.getDim(0).getDimValue();
            first = false;
            Shape shape = Shape.of(ps);
            usedNames.add(name);
            inputs.add(new Model.Input(name, shape));
            acts.put(name, new Act(name, shape));
        }
        if (inputs.isEmpty()) throw new ImportException("the graph has no input that is not an initializer", file, null);
    }

    private Model buildModel() {
        if (graph.getOutputCount() != 1) {
            List<String> names = new ArrayList<>();
            for (ValueInfoProto o : graph.getOutputList()) names.add(o.getName());
            throw new ImportException("the graph has " + graph.getOutputCount() + " outputs " + names
                    + "; Shears models have exactly one", file, null);
        }
        String out = graph.getOutput(0).getName();
        Act a = acts.get(out);
        if (a == null) {
            if (constants.containsKey(out)) throw new ImportException("the graph output is a constant; nothing to compute", file, out);
            throw new ImportException("the graph output is produced by no node (truncated or inconsistent file)", file, out);
        }
        String outName = a.ir();
        if (!pendingByName.containsKey(outName)) { // the output is a graph input: give it a node
            Identity id = new Identity(usedNames.fresh(out + "_identity"));
            addPending(id, List.of(outName));
            outName = id.name();
        }
        Model.Builder b = Model.builder();
        for (Model.Input in : inputs) b.input(in.name(), in.shape());
        for (Pending p : pending) b.add(p.layer, p.inputs);
        b.output(outName);
        try {
            return b.build();
        } catch (IllegalArgumentException e) {
            throw new ImportException("the imported graph is inconsistent: " + e.getMessage(), file, null, List.of(), e);
        }
    }

    // ------------------------------------------------------------------ dispatch

    private void convert(NodeProto n) {
        for (String in : n.getInputList())
            if (!in.isEmpty() && !constants.containsKey(in) && !acts.containsKey(in))
                throw new ImportException("reads '" + in + "', which no earlier node, graph input or initializer defines"
                        + " (the file may be truncated, or its nodes are not in topological order)", file, display(n));
        Attributes at = new Attributes(n, file, display(n));
        switch (n.getOpType()) {
            case "Constant" -> constant(n, at);
            case "ConstantOfShape" -> constantOfShape(n, at);
            case "Identity" -> alias(n);
            case "Conv" -> conv(n, at);
            case "Gemm" -> gemm(n, at);
            case "MatMul" -> matMul(n);
            case "Add", "Sum", "Mul" -> elementwise(n);
            case "Sub", "Div" -> arithmeticOfConstants(n);
            case "Shape" -> shape(n, at);
            case "Gather" -> gather(n, at);
            case "Unsqueeze" -> unsqueeze(n, at);
            case "Squeeze" -> squeeze(n, at);
            case "Cast" -> cast(n, at);
            case "Relu" -> activation(n, Activation.RELU, 0f);
            case "Sigmoid" -> { if (!fuseGate(n, Activation.SWISH)) activation(n, Activation.SIGMOID, 0f); }
            case "Tanh" -> activation(n, Activation.TANH, 0f);
            case "Softplus" -> activation(n, Activation.SOFTPLUS, 0f);
            case "Softsign" -> activation(n, Activation.SOFTSIGN, 0f);
            case "LeakyRelu" -> activation(n, Activation.LEAKY_RELU, at.getFloat("alpha", 0.01f));
            case "Elu" -> activation(n, Activation.ELU, at.getFloat("alpha", 1f));
            case "Selu" -> selu(n, at);
            case "HardSigmoid" -> hardSigmoid(n, at);
            case "HardSwish" -> activation(n, Activation.HARD_SWISH, 0f);
            case "Clip" -> clip(n, at);
            case "PRelu" -> prelu(n);
            case "MaxPool", "AveragePool" -> pool(n, at);
            case "GlobalAveragePool", "GlobalMaxPool" -> globalPool(n, n.getOpType().equals("GlobalMaxPool"));
            case "ReduceMean", "ReduceMax" -> spatialReduce(n, at);
            case "BatchNormalization" -> batchNorm(n, at);
            case "LRN" -> lrn(n, at);
            case "Flatten" -> flatten(n, at);
            case "Pad" -> pad(n, at);
            case "Reshape" -> reshape(n, at);
            case "Transpose" -> transpose(n, at);
            case "Concat" -> concat(n, at);
            case "Softmax", "LogSoftmax" -> softmax(n, at);
            case "Dropout" -> dropout(n, at);
            default -> throw new ImportException("op type '" + n.getOpType() + "' is not supported", file, display(n),
                    OnnxImporter.SUPPORTED_OPS, null);
        }
    }

    // ------------------------------------------------------------------ constants

    private void constant(NodeProto n, Attributes at) {
        TensorData v;
        if (at.has("value")) v = OnnxTensors.decode(at.get("value").getT(), file, display(n));
        else if (at.has("sparse_value")) v = OnnxTensors.decodeSparse(at.get("sparse_value").getSparseTensor(), file, display(n));
        else if (at.has("value_float")) v = TensorData.ofFloats(new long[0], new float[]{at.getFloat("value_float", 0)});
        else if (at.has("value_floats")) {
            float[] f = at.getFloats("value_floats", new float[0]);
            v = TensorData.ofFloats(new long[]{f.length}, f);
        } else if (at.has("value_int")) v = TensorData.ofLongs(new long[0], new long[]{at.getInt("value_int", 0)});
        else if (at.has("value_ints")) {
            long[] l = at.getInts("value_ints", new long[0]);
            v = TensorData.ofLongs(new long[]{l.length}, l);
        } else throw new ImportException("Constant has no value attribute (value, sparse_value, value_float(s), value_int(s))"
                + (at.has("value_string") || at.has("value_strings") ? "; string constants are not supported" : ""), file, display(n));
        constants.put(n.getOutput(0), v);
    }

    private void constantOfShape(NodeProto n, Attributes at) {
        long[] dims = constantInput(n, 0, "shape").asLongs();
        long count;
        try {
            count = TensorData.count(dims);
        } catch (ArithmeticException e) {
            count = -1;
        }
        if (count < 0 || count > Integer.MAX_VALUE)
            throw new ImportException("ConstantOfShape of shape " + Arrays.toString(dims) + " is too large or negative", file, display(n));
        TensorData value = at.has("value") ? OnnxTensors.decode(at.get("value").getT(), file, display(n)) : TensorData.ofFloats(new long[]{1}, new float[]{0f});
        if (value.size() != 1) throw new ImportException("ConstantOfShape value must hold one element, it holds " + value.size(), file, display(n));
        // a few bytes of file ask for an array of any size here: build it only when a converter reads the values (a later
        // check on the dims, such as a Conv's bias count, refuses a damaged shape first), and check it fits before allocating
        String what = "ConstantOfShape of shape " + Arrays.toString(dims);
        int n1 = (int) count;
        if (value.isFloat()) {
            float fill = value.floats()[0];
            constants.put(n.getOutput(0), TensorData.lazyFloats(dims, () -> {
                HeapBudget.require((long) n1 * Float.BYTES, what, m -> new ImportException(m, file, display(n)));
                float[] f = new float[n1];
                Arrays.fill(f, fill);
                return f;
            }));
        } else {
            long fill = value.longs()[0];
            constants.put(n.getOutput(0), TensorData.lazyLongs(dims, () -> {
                HeapBudget.require((long) n1 * Long.BYTES, what, m -> new ImportException(m, file, display(n)));
                long[] l = new long[n1];
                Arrays.fill(l, fill);
                return l;
            }));
        }
    }

    private void alias(NodeProto n) {
        String in = n.getInput(0);
        if (constants.containsKey(in)) constants.put(n.getOutput(0), constants.get(in));
        else aliasAct(n.getOutput(0), acts.get(in));
    }

    // ------------------------------------------------------------------ dense layers

    private void conv(NodeProto n, Attributes at) {
        Act x = activation(n, 0, "X");
        TensorData w = constantInput(n, 1, "W");
        TensorData b = n.getInputCount() > 2 && !n.getInput(2).isEmpty() ? constantInput(n, 2, "B") : null;
        int spatial = x.shape().rank() - 1;
        if (spatial != 1 && spatial != 2)
            throw new ImportException("Conv over " + spatial + " spatial axes (input " + full(x) + ") is not supported; Shears has 1-D and 2-D convolutions", file, display(n));
        if (w.rank() != spatial + 2)
            throw new ImportException("Conv weight W has dims " + Arrays.toString(w.dims()) + ", expected rank " + (spatial + 2), file, display(n));
        int group = at.getIntExact("group", 1);
        int inC = x.shape().dim(0);
        int outC = Math.toIntExact(w.dims()[0]);
        if (w.dims()[1] * group != inC)
            throw new ImportException("Conv weight W " + Arrays.toString(w.dims()) + " with group " + group + " does not fit "
                    + inC + " input channels", file, display(n));
        long[] kernel = at.getInts("kernel_shape", Arrays.copyOfRange(w.dims(), 2, w.dims().length));
        if (kernel.length != spatial)
            throw new ImportException("kernel_shape " + Arrays.toString(kernel) + " has " + kernel.length + " entries for a " + spatial
                    + "-D convolution (W " + Arrays.toString(w.dims()) + ")", file, display(n));
        for (int i = 0; i < spatial; i++)
            if (kernel[i] != w.dims()[2 + i])
                throw new ImportException("kernel_shape " + Arrays.toString(kernel) + " disagrees with W " + Arrays.toString(w.dims()), file, display(n));
        Window win = window(n, at, x, kernel, true);
        if (b != null && b.size() != outC) throw new ImportException("Conv bias B has " + b.size() + " values for " + outC + " output channels", file, display(n));

        Act in2d = spatial == 1 ? reshapeAct(x, Shape.of(inC, 1, x.shape().dim(1)), n, "to_2d") : x;
        Conv2D conv = new Conv2D(usedNames.fresh(name(n)), inC, outC, win.kh, win.kw, win.sh, win.sw, win.pt, win.pl, win.pb, win.pr,
                win.dh, win.dw, group, b != null);
        weight(conv.kernel(), w.asFloats(), n);
        if (b != null) weight(conv.bias(), b.asFloats(), n);
        Act y = emit(conv, n, List.of(in2d));
        if (spatial == 1) y = reshapeAct(y, Shape.of(outC, y.shape().dim(2)), n, "to_1d");
        acts.put(n.getOutput(0), y);
    }

    private void gemm(NodeProto n, Attributes at) {
        if (constants.containsKey(n.getInput(0)))
            throw new ImportException("Gemm with a constant A (input 0) is not supported; A must be the [batch, features] activation", file, display(n));
        Act a = activation(n, 0, "A");
        if (at.getInt("transA", 0) != 0)
            throw new ImportException("Gemm with transA=1 would put the batch on axis 1, which Shears does not support", file, display(n));
        if (a.shape().rank() != 1)
            throw new ImportException("Gemm needs a 2-D input [batch, features], got " + full(a) + " (a Flatten or Reshape before it is missing)", file, display(n));
        TensorData bm = constantInput(n, 1, "B");
        if (bm.rank() != 2) throw new ImportException("Gemm B has dims " + Arrays.toString(bm.dims()) + ", expected a matrix", file, display(n));
        boolean transB = at.getInt("transB", 0) != 0;
        float alpha = at.getFloat("alpha", 1f), beta = at.getFloat("beta", 1f);
        int k = a.shape().dim(0);
        int bk = (int) (transB ? bm.dims()[1] : bm.dims()[0]);
        int m = (int) (transB ? bm.dims()[0] : bm.dims()[1]);
        if (bk != k)
            throw new ImportException("Gemm B " + Arrays.toString(bm.dims()) + (transB ? " (transposed)" : "") + " does not fit input " + full(a), file, display(n));
        float[] kernel = kernelFrom(bm.asFloats(), k, m, transB, alpha);
        float[] bias = null;
        if (n.getInputCount() > 2 && !n.getInput(2).isEmpty() && beta != 0f) {
            TensorData c = constantInput(n, 2, "C");
            float[] cv = c.asFloats();
            boolean perOutput = c.size() == m && (c.rank() == 1 || (c.rank() == 2 && c.dims()[0] == 1));
            if (!perOutput && c.size() != 1)
                throw new ImportException("Gemm C of dims " + Arrays.toString(c.dims()) + " is not a per-output bias of " + m
                        + " values or a scalar; a C that varies over the batch is not supported", file, display(n));
            bias = new float[m];
            for (int j = 0; j < m; j++) bias[j] = beta * (perOutput ? cv[j] : cv[0]);
        }
        dense(n, a, k, m, kernel, bias, n.getOutput(0));
    }

    private void matMul(NodeProto n) {
        if (constants.containsKey(n.getInput(0)) || n.getInputCount() < 2 || !constants.containsKey(n.getInput(1)))
            throw new ImportException("MatMul is supported as activation x constant matrix only (input 0 the activation, input 1 the weights)",
                    file, display(n));
        Act a = activation(n, 0, "A");
        if (a.shape().rank() != 1)
            throw new ImportException("MatMul on a " + full(a) + " input (batched MatMul) is not supported; Dense needs [batch, features]", file, display(n));
        TensorData bm = constantInput(n, 1, "B");
        int k = a.shape().dim(0);
        if (bm.rank() != 2 || bm.dims()[0] != k)
            throw new ImportException("MatMul B has dims " + Arrays.toString(bm.dims()) + ", expected [" + k + ", out]", file, display(n));
        int m = (int) bm.dims()[1];
        float[] kernel = bm.asFloats().clone();
        // PyTorch and Keras exporters write Linear as MatMul followed by Add of the bias: fold it
        String out = n.getOutput(0);
        float[] bias = null;
        int ai = soleReader(out, "Add");
        if (ai >= 0) {
            NodeProto add = graph.getNode(ai);
            if (add.getInputCount() == 2) {
                String other = add.getInput(0).equals(out) ? add.getInput(1) : add.getInput(0);
                TensorData c = constants.get(other);
                if (c != null && c.size() == m && (c.rank() == 1 || (c.rank() == 2 && c.dims()[0] == 1))) {
                    bias = c.asFloats().clone();
                    folded.add(ai);
                    out = add.getOutput(0);
                }
            }
        }
        dense(n, a, k, m, kernel, bias, out);
    }

    private void dense(NodeProto n, Act a, int k, int m, float[] kernel, float[] bias, String output) {
        Dense d = new Dense(usedNames.fresh(name(n)), k, m, bias != null);
        weight(d.kernel(), kernel, n);
        if (bias != null) weight(d.bias(), bias, n);
        acts.put(output, emit(d, n, List.of(a)));
    }

    /** The Dense kernel [in, out] = alpha * B (B stored [k, m], or [m, k] when transposed). */
    private static float[] kernelFrom(float[] b, int k, int m, boolean transposed, float alpha) {
        float[] w = new float[k * m];
        for (int i = 0; i < k; i++)
            for (int j = 0; j < m; j++)
                w[i * m + j] = alpha * (transposed ? b[j * k + i] : b[i * m + j]);
        return w;
    }

    private void batchNorm(NodeProto n, Attributes at) {
        Act x = activation(n, 0, "X");
        requireOnlyFirstOutput(n, "the batch statistics outputs (training mode)");
        if (opset >= 14 && at.getInt("training_mode", 0) != 0)
            throw new ImportException("BatchNormalization with training_mode=1 is not supported; export the model in eval mode", file, display(n));
        int c = x.shape().dim(0);
        String[] what = {"scale", "B", "mean", "var"};
        float[][] v = new float[4][];
        for (int i = 0; i < 4; i++) {
            TensorData t = constantInput(n, i + 1, what[i]);
            if (t.size() != c)
                throw new ImportException("BatchNormalization " + what[i] + " has " + t.size() + " values for " + c + " channels"
                        + (opset < 9 && at.getInt("spatial", 1) == 0 ? " (spatial=0, per-activation statistics, is not supported)" : ""),
                        file, display(n));
            v[i] = t.asFloats();
        }
        BatchNorm bn = new BatchNorm(usedNames.fresh(name(n)), c, at.getFloat("epsilon", 1e-5f), at.getFloat("momentum", 0.9f));
        weight(bn.gamma(), v[0], n);
        weight(bn.beta(), v[1], n);
        weight(bn.movingMean(), v[2], n);
        weight(bn.movingVariance(), v[3], n);
        acts.put(n.getOutput(0), emit(bn, n, List.of(x)));
    }

    // ------------------------------------------------------------------ element-wise

    private void elementwise(NodeProto n) {
        String op = n.getOpType();
        List<Act> actIn = new ArrayList<>();
        List<TensorData> constIn = new ArrayList<>();
        for (int i = 0; i < n.getInputCount(); i++) {
            String in = n.getInput(i);
            if (in.isEmpty()) continue;
            if (constants.containsKey(in)) constIn.add(constants.get(in));
            else actIn.add(acts.get(in));
        }
        if (actIn.isEmpty()) {
            arithmeticOfConstants(n);
            return;
        }
        if (!constIn.isEmpty()) {
            if (actIn.size() != 1 || constIn.size() != 1)
                throw new ImportException(op + " mixing " + actIn.size() + " activation(s) and " + constIn.size()
                        + " constant(s) is not supported (one activation and one constant is)", file, display(n));
            foldConstant(n, actIn.get(0), constIn.get(0), op.equals("Mul"));
            return;
        }
        if (actIn.size() == 1) { // Sum of one input
            aliasAct(n.getOutput(0), actIn.get(0));
            return;
        }
        boolean sameShapes = true;
        for (Act a : actIn) sameShapes &= a.shape().equals(actIn.get(0).shape());
        Layer layer = op.equals("Mul") ? new Multiply(usedNames.fresh(name(n))) : new Add(usedNames.fresh(name(n)));
        // [N, C, H, W] and [N, C, 1, 1], either order: Mul is squeeze-and-excitation's gate, Add (or
        // a two-input Sum) a per-channel shift; the layer refuses every other broadcast
        if (!sameShapes) {
            try {
                layer.outputShape(actIn.stream().map(Act::shape).toList());
            } catch (IllegalArgumentException e) {
                throw new ImportException(op + " of activations " + actIn.stream().map(this::full).toList() + " broadcasts in a way"
                        + " Shears does not support; it " + (op.equals("Mul") ? "multiplies" : "adds") + " activations of one shape,"
                        + " or an [N, C, H, W] feature map and an [N, C, 1, 1] per-channel "
                        + (op.equals("Mul") ? "gate (squeeze-and-excitation)" : "tensor"), file, display(n));
            }
        }
        acts.put(n.getOutput(0), emit(layer, n, actIn));
    }

    /**
     * x * c or x + c with a constant c that is the same at every position of a channel: folded into
     * the Conv2D, Dense or BatchNorm that produces x (when nothing else reads x). Else, when c is one
     * value everywhere, a {@link Rescale} (an Add right after a Rescale without offset, which nothing
     * else reads, becomes that Rescale's offset: Shears' own export of one). Otherwise refused.
     */
    private void foldConstant(NodeProto n, Act x, TensorData c, boolean multiply) {
        float[] perChannel = perChannel(x, c);
        Pending producer = pendingByName.get(x.ir());
        boolean soleUse = producer != null && usesOf(x.ir()) == 1;
        if (perChannel != null && soleUse) {
            Layer folded = foldInto(producer.layer, perChannel, multiply);
            if (folded != null) {
                replace(producer, folded);
                aliasAct(n.getOutput(0), new Act(folded.name(), x.shape())); // the node consumed x and renamed it
                return;
            }
        }
        if (perChannel != null && allEqual(perChannel)) { // one value everywhere: a Rescale (how Shears exports one)
            float v = perChannel[0];
            if (!multiply && producer != null && soleUse && producer.layer instanceof Rescale r && r.offset() == 0f) {
                // Mul then Add of scalars, as the exporter writes y = scale * x + offset: one Rescale
                // named after the Add, whose output is the Rescale's (the Mul's name is the exporter's "<name>/scaled")
                Rescale fused = new Rescale(usedNames.fresh(name(n)), r.scale(), v);
                pendingByName.remove(r.name());
                replace(producer, fused);
                aliasAct(n.getOutput(0), new Act(fused.name(), x.shape()));
                return;
            }
            acts.put(n.getOutput(0), emit(new Rescale(usedNames.fresh(name(n)), multiply ? v : 1f, multiply ? 0f : v), n, List.of(x)));
            return;
        }
        throw new ImportException(n.getOpType() + " of an activation " + full(x) + " and a constant of dims " + Arrays.toString(c.dims())
                + " is supported only when the constant is a scalar (or one value repeated), or is per channel and directly follows a Conv,"
                + " Gemm/MatMul or BatchNormalization whose output nothing else reads", file, display(n));
    }

    private static boolean allEqual(float[] v) {
        for (float f : v) if (Float.compare(f, v[0]) != 0) return false;
        return v.length > 0;
    }

    /** The constant as one value per channel (per-sample axis 0), or null when it varies otherwise. */
    private float[] perChannel(Act x, TensorData c) {
        int rank = x.fullRank();
        if (c.rank() > rank) return null;
        long[] cd = new long[rank]; // right-aligned numpy broadcasting against [batch, ...shape]
        Arrays.fill(cd, 1);
        System.arraycopy(c.dims(), 0, cd, rank - c.rank(), c.rank());
        if (cd[0] != 1) return null;
        int channels = x.shape().dim(0);
        for (int i = 2; i < rank; i++) if (cd[i] != 1) return null;
        if (cd[1] != 1 && cd[1] != channels) return null;
        float[] v = c.asFloats();
        float[] out = new float[channels];
        for (int ch = 0; ch < channels; ch++) out[ch] = v[cd[1] == 1 ? 0 : ch];
        return out;
    }

    /**
     * The index of the one node that reads ONNX value {@code out} when it is a default-domain
     * {@code opType} and {@code out} is no graph output (a pair that can be fused); else -1.
     */
    private int soleReader(String out, String opType) {
        List<Integer> users = consumers.getOrDefault(out, List.of());
        if (users.size() != 1 || graphOutputs.contains(out)) return -1;
        NodeProto user = graph.getNode(users.get(0));
        return user.getOpType().equals(opType) && DEFAULT_DOMAINS.contains(user.getDomain()) ? users.get(0) : -1;
    }

    /** How many nodes (and graph outputs) read an IR activation under any of its ONNX names, renames not counted. */
    private int usesOf(String ir) {
        int uses = 0;
        for (Map.Entry<String, Act> e : acts.entrySet()) {
            if (!e.getValue().ir().equals(ir)) continue;
            uses += consumers.getOrDefault(e.getKey(), List.of()).size() + (graphOutputs.contains(e.getKey()) ? 1 : 0);
        }
        return uses - aliasEdges.getOrDefault(ir, 0);
    }

    private void aliasAct(String onnxName, Act a) {
        acts.put(onnxName, a);
        aliasEdges.merge(a.ir(), 1, Integer::sum);
    }

    private Layer foldInto(Layer layer, float[] v, boolean multiply) {
        if (layer instanceof Conv2D c) {
            int out = c.outChannels();
            float[] k = weights.get(c.kernel().name()).clone();
            float[] b = c.bias() != null ? weights.get(c.bias().name()).clone() : new float[out];
            int per = k.length / out;
            for (int o = 0; o < out; o++) {
                if (multiply) {
                    for (int i = 0; i < per; i++) k[o * per + i] *= v[o];
                    b[o] *= v[o];
                } else b[o] += v[o];
            }
            boolean useBias = c.bias() != null || !multiply;
            Conv2D nc = new Conv2D(c.name(), c.inChannels(), c.outChannels(), c.kernelH(), c.kernelW(), c.strideH(), c.strideW(),
                    c.padTop(), c.padLeft(), c.padBottom(), c.padRight(), c.dilationH(), c.dilationW(), c.groups(), useBias);
            weights.put(nc.kernel().name(), k); // same names: the new layer keeps the old one's
            if (useBias) weights.put(nc.bias().name(), b);
            return nc;
        }
        if (layer instanceof Dense d) {
            int out = d.outFeatures();
            float[] k = weights.get(d.kernel().name()).clone();
            float[] b = d.bias() != null ? weights.get(d.bias().name()).clone() : new float[out];
            for (int j = 0; j < out; j++) {
                if (multiply) {
                    for (int i = 0; i < d.inFeatures(); i++) k[i * out + j] *= v[j];
                    b[j] *= v[j];
                } else b[j] += v[j];
            }
            boolean useBias = d.bias() != null || !multiply;
            Dense nd = new Dense(d.name(), d.inFeatures(), out, useBias);
            weights.put(nd.kernel().name(), k);
            if (useBias) weights.put(nd.bias().name(), b);
            return nd;
        }
        if (layer instanceof BatchNorm bn) {
            float[] g = weights.get(bn.gamma().name()).clone();
            float[] be = weights.get(bn.beta().name()).clone();
            for (int ch = 0; ch < bn.channels(); ch++) {
                if (multiply) {
                    g[ch] *= v[ch];
                    be[ch] *= v[ch];
                } else be[ch] += v[ch];
            }
            weights.put(bn.gamma().name(), g);
            weights.put(bn.beta().name(), be);
            return bn;
        }
        return null;
    }

    private void replace(Pending p, Layer layer) {
        p.layer = layer;
        pendingByName.put(layer.name(), p);
    }

    // ------------------------------------------------------------------ activations

    private void activation(NodeProto n, Activation f, float alpha) {
        Act x = activation(n, 0, "X");
        acts.put(n.getOutput(0), emit(new ActivationLayer(usedNames.fresh(name(n)), f, alpha), n, List.of(x)));
    }

    private void selu(NodeProto n, Attributes at) {
        // ONNX's defaults are the same constants as the IR's, to float precision
        float alpha = at.getFloat("alpha", Activation.SELU_ALPHA), gamma = at.getFloat("gamma", Activation.SELU_SCALE);
        if (Math.abs(alpha - Activation.SELU_ALPHA) > 1e-6f || Math.abs(gamma - Activation.SELU_SCALE) > 1e-6f)
            throw new ImportException("Selu with alpha " + alpha + ", gamma " + gamma + " is not supported (only the standard constants)", file, display(n));
        activation(n, Activation.SELU, 0f);
    }

    /**
     * HardSigmoid(x; alpha, beta) = max(0, min(1, alpha*x + beta)) is one HARD_SIGMOID activation with
     * slope alpha and offset beta (defaults 0.2, 0.5), except x * HardSigmoid(x; 1/6, 0.5), which
     * is hard swish (HardSwish before opset 14: PyTorch, Shears' own export). It used to fold
     * alpha and beta into a preceding Conv/Dense/BatchNorm (leaving a ReLU capped at 1) when the IR
     * had only Keras 2's hard sigmoid; it no longer does: the fold scaled that layer's weights (by
     * 1/6 for PyTorch's Hardsigmoid), which changes what global magnitude pruning removes and how
     * fast the layer trains, and lost the HardSigmoid on export.
     */
    private void hardSigmoid(NodeProto n, Attributes at) {
        float alpha = at.getFloat("alpha", Activation.HARD_SIGMOID_SLOPE), beta = at.getFloat("beta", Activation.HARD_SIGMOID_OFFSET);
        if (Math.abs(alpha - Activation.HARD_SIGMOID_SLOPE_SIXTH) < 1e-6f && beta == 0.5f && fuseGate(n, Activation.HARD_SWISH)) return;
        if (!Float.isFinite(alpha) || !Float.isFinite(beta))
            throw new ImportException("HardSigmoid with alpha " + alpha + ", beta " + beta + " is not supported; Shears needs finite alpha and beta",
                    file, display(n));
        Act x = activation(n, 0, "X");
        acts.put(n.getOutput(0), emit(new ActivationLayer(usedNames.fresh(name(n)), Activation.HARD_SIGMOID, alpha, beta), n, List.of(x)));
    }

    /**
     * Gate node {@code n} (g = f(x)) read only by a Mul of x and g, x * f(x), which is the
     * activation {@code fused}: Sigmoid then Mul is SWISH, HardSigmoid(1/6, 0.5) then Mul is
     * HARD_SWISH (how opset 13 writes them). Emits one IR activation named after the Mul, marks the
     * Mul as consumed, and answers true; false (nothing done) when the pattern does not hold.
     */
    private boolean fuseGate(NodeProto n, Activation fused) {
        String x = n.getInput(0), g = n.getOutput(0);
        Act in = acts.get(x);
        if (in == null) return false;
        int mi = soleReader(g, "Mul");
        if (mi < 0) return false;
        NodeProto mul = graph.getNode(mi);
        if (mul.getInputCount() != 2 || mul.getOutputCount() == 0 || mul.getOutput(0).isEmpty()) return false;
        boolean gated = mul.getInput(0).equals(x) && mul.getInput(1).equals(g) || mul.getInput(0).equals(g) && mul.getInput(1).equals(x);
        if (!gated) return false;
        folded.add(mi);
        acts.put(mul.getOutput(0), emit(new ActivationLayer(usedNames.fresh(name(mul)), fused, 0f), mul, List.of(in)));
        return true;
    }

    /**
     * Clip(x, min, max): bounds are attributes before opset 11 (absent: the float range), optional
     * constant inputs 1 and 2 from opset 11 (an empty name: absent). Infinite bounds and the float
     * range's ends count as absent. min 0 with a finite max above 0 is a capped ReLU (ReLU6 when
     * the max is 6), min 0 alone is ReLU, no bounds is Identity; anything else is refused.
     */
    private void clip(NodeProto n, Attributes at) {
        Act x = activation(n, 0, "input");
        Float lo, hi;
        if (opset < 11) {
            lo = at.has("min") ? at.getFloat("min", 0f) : null;
            hi = at.has("max") ? at.getFloat("max", 0f) : null;
        } else {
            lo = clipBound(n, 1, "min");
            hi = clipBound(n, 2, "max");
        }
        if (lo != null && (lo == Float.NEGATIVE_INFINITY || lo == -Float.MAX_VALUE)) lo = null;
        if (hi != null && (hi == Float.POSITIVE_INFINITY || hi == Float.MAX_VALUE)) hi = null;
        if (lo == null && hi == null) aliasAct(n.getOutput(0), x);
        else if (lo != null && lo == 0f && hi == null) activation(n, Activation.RELU, 0f);
        else if (lo != null && lo == 0f && hi > 0f) activation(n, Activation.RELU_CAPPED, hi);
        else throw new ImportException("Clip with min " + (lo == null ? "none" : lo) + " and max " + (hi == null ? "none" : hi)
                + " (opset " + opset + ") is not supported; Shears imports Clip with min 0 and a finite max above 0 (a capped ReLU, "
                + "ReLU6 for max 6), with min 0 and no max (ReLU), or with neither (Identity)", file, display(n));
    }

    /** Clip's optional bound input {@code i}: null when absent, else its one value (a constant). */
    private Float clipBound(NodeProto n, int i, String what) {
        if (n.getInputCount() <= i || n.getInput(i).isEmpty()) return null;
        TensorData t = constantInput(n, i, what);
        if (t.size() != 1)
            throw new ImportException("Clip " + what + " has dims " + Arrays.toString(t.dims()) + "; ONNX requires a scalar", file, display(n));
        return t.asFloats()[0];
    }

    private void prelu(NodeProto n) {
        Act x = activation(n, 0, "X");
        TensorData slope = constantInput(n, 1, "slope");
        Shape s = x.shape();
        Shape slopeShape;
        float[] v = slope.asFloats();
        float[] perChannel = perChannel(x, slope);
        if (perChannel != null) {
            slopeShape = Shape.of(s.dim(0));
            v = perChannel;
        } else if (slope.size() == s.size()) {
            slopeShape = s;
        } else {
            throw new ImportException("PRelu slope of dims " + Arrays.toString(slope.dims()) + " is neither per channel nor per element of "
                    + full(x), file, display(n));
        }
        PReLU p = new PReLU(usedNames.fresh(name(n)), slopeShape);
        weight(p.slope(), v, n);
        acts.put(n.getOutput(0), emit(p, n, List.of(x)));
    }

    // ------------------------------------------------------------------ pooling, normalisation

    private void pool(NodeProto n, Attributes at) {
        Act x = activation(n, 0, "X");
        requireOnlyFirstOutput(n, "the Indices output");
        int spatial = x.shape().rank() - 1;
        if (spatial != 1 && spatial != 2)
            throw new ImportException(n.getOpType() + " over " + spatial + " spatial axes (input " + full(x) + ") is not supported", file, display(n));
        long[] kernel = at.getInts("kernel_shape", null);
        if (kernel == null || kernel.length != spatial)
            throw new ImportException("kernel_shape " + (kernel == null ? "is missing" : Arrays.toString(kernel) + " does not match input " + full(x)), file, display(n));
        boolean max = n.getOpType().equals("MaxPool");
        Window w = window(n, at, x, kernel, max);
        if (w.dh != 1 || w.dw != 1) throw new ImportException("pooling with dilations is not supported", file, display(n));
        boolean ceil = at.getInt("ceil_mode", 0) != 0;
        int c = x.shape().dim(0);
        Act in2d = spatial == 1 ? reshapeAct(x, Shape.of(c, 1, x.shape().dim(1)), n, "to_2d") : x;
        Layer layer = max
                ? new MaxPool2D(usedNames.fresh(name(n)), w.kh, w.kw, w.sh, w.sw, w.pt, w.pl, w.pb, w.pr, ceil)
                : new AvgPool2D(usedNames.fresh(name(n)), w.kh, w.kw, w.sh, w.sw, w.pt, w.pl, w.pb, w.pr, ceil, at.getInt("count_include_pad", 0) != 0);
        Act y = emit(layer, n, List.of(in2d));
        if (spatial == 1) y = reshapeAct(y, Shape.of(c, y.shape().dim(2)), n, "to_1d");
        acts.put(n.getOutput(0), y);
    }

    /** GlobalAveragePool / GlobalMaxPool ({@code max}) over one or two spatial axes. */
    private void globalPool(NodeProto n, boolean max) {
        Act x = activation(n, 0, "X");
        int spatial = x.shape().rank() - 1;
        if (spatial != 1 && spatial != 2)
            throw new ImportException(n.getOpType() + " over " + spatial + " spatial axes (input " + full(x) + ") is not supported", file, display(n));
        int c = x.shape().dim(0);
        Act in2d = spatial == 1 ? reshapeAct(x, Shape.of(c, 1, x.shape().dim(1)), n, "to_2d") : x;
        String node = usedNames.fresh(name(n));
        Act y = emit(max ? new GlobalMaxPool2D(node, true) : new GlobalAvgPool2D(node, true), n, List.of(in2d));
        if (spatial == 1) y = reshapeAct(y, Shape.of(c, 1), n, "to_1d");
        acts.put(n.getOutput(0), y);
    }

    /**
     * ReduceMean / ReduceMax over exactly the two spatial axes of an [N, C, H, W] activation: a
     * global average / max pool ([C, 1, 1] with keepdims 1, [C] with keepdims 0). The axes are an
     * attribute before opset 18 and an optional input from 18; any other set of axes is refused.
     */
    private void spatialReduce(NodeProto n, Attributes at) {
        Act x = activation(n, 0, "data");
        long[] axes;
        if (opset < 18) axes = at.getInts("axes", null);
        else axes = n.getInputCount() > 1 && !n.getInput(1).isEmpty() ? constantInput(n, 1, "axes").asLongs() : null;
        int rank = x.fullRank();
        long[] norm = axes == null || axes.length == 0 ? null : normalizeAxes(axes, rank, n);
        if (norm != null) Arrays.sort(norm);
        if (rank != 4 || norm == null || !Arrays.equals(norm, new long[]{2, 3}))
            throw new ImportException(n.getOpType() + " over axes " + (axes == null || axes.length == 0 ? "(none given: every axis)" : Arrays.toString(axes))
                    + " of " + full(x) + " is not supported: Shears imports it only over the spatial axes [2, 3] of an [N, C, H, W]"
                    + " activation (a global pool)", file, display(n));
        boolean keep = at.getInt("keepdims", 1) != 0;
        boolean max = n.getOpType().equals("ReduceMax");
        String node = usedNames.fresh(name(n));
        Layer layer = max ? new GlobalMaxPool2D(node, keep) : new GlobalAvgPool2D(node, keep);
        acts.put(n.getOutput(0), emit(layer, n, List.of(x)));
    }

    private void lrn(NodeProto n, Attributes at) {
        Act x = activation(n, 0, "X");
        if (x.shape().rank() != 3) throw new ImportException("LRN on a " + full(x) + " input is supported only for [N, C, H, W]", file, display(n));
        if (!at.has("size")) throw new ImportException("LRN has no 'size' attribute", file, display(n));
        LRN l = new LRN(usedNames.fresh(name(n)), at.getIntExact("size", 0), at.getFloat("alpha", 1e-4f), at.getFloat("beta", 0.75f), at.getFloat("bias", 1f));
        acts.put(n.getOutput(0), emit(l, n, List.of(x)));
    }

    private void dropout(NodeProto n, Attributes at) {
        requireOnlyFirstOutput(n, "the mask output");
        float ratio = at.getFloat("ratio", 0.5f);
        if (opset >= 12 && n.getInputCount() > 1 && !n.getInput(1).isEmpty()) ratio = constantInput(n, 1, "ratio").asFloats()[0];
        if (constants.containsKey(n.getInput(0))) {
            constants.put(n.getOutput(0), constants.get(n.getInput(0)));
            return;
        }
        Act x = activation(n, 0, "data");
        if (!(ratio >= 0f && ratio < 1f)) throw new ImportException("Dropout ratio " + ratio + " outside [0, 1)", file, display(n));
        acts.put(n.getOutput(0), emit(new Dropout(usedNames.fresh(name(n)), ratio), n, List.of(x)));
    }

    // ------------------------------------------------------------------ shape ops

    private void flatten(NodeProto n, Attributes at) {
        String in = n.getInput(0);
        int rank = constants.containsKey(in) ? constants.get(in).rank() : acts.get(in).fullRank();
        int axis = normalizeAxis(at.getIntExact("axis", 1), rank, n, true);
        if (constants.containsKey(in)) {
            TensorData t = constants.get(in);
            long outer = 1;
            for (int i = 0; i < axis; i++) outer *= t.dims()[i];
            constants.put(n.getOutput(0), t.withDims(new long[]{outer, t.size() / Math.max(outer, 1)}));
            return;
        }
        Act x = acts.get(in);
        if (axis == 0 || x.shape().sizeFrom(0) / Math.max(1, x.shape().sizeFrom(axis - 1)) != 1)
            throw new ImportException("Flatten at axis " + axis + " of " + full(x) + " would fold other axes into the batch; Shears keeps axis 0 as the batch",
                    file, display(n));
        if (x.shape().rank() == 1) {
            aliasAct(n.getOutput(0), x);
            return;
        }
        acts.put(n.getOutput(0), emit(new Flatten(usedNames.fresh(name(n))), n, List.of(x)));
    }

    private void reshape(NodeProto n, Attributes at) {
        long[] shape;
        if (n.getInputCount() > 1 && !n.getInput(1).isEmpty()) {
            if (!constants.containsKey(n.getInput(1)))
                throw new ImportException("Reshape's target shape is computed at run time; Shears needs it constant (an initializer or Constant)", file, display(n));
            shape = constants.get(n.getInput(1)).asLongs();
        } else if (at.has("shape")) {
            shape = at.getInts("shape", null); // opset < 5 form, accepted when present
        } else throw new ImportException("Reshape has no target shape", file, display(n));
        boolean allowZero = opset >= 14 && at.getInt("allowzero", 0) != 0;
        String in = n.getInput(0);
        if (constants.containsKey(in)) {
            TensorData t = constants.get(in);
            constants.put(n.getOutput(0), t.withDims(resolveShape(shape, t.dims(), allowZero, n)));
            return;
        }
        Act x = acts.get(in);
        long[] fullIn = fullDims(x);
        long[] target = resolveShape(shape, fullIn, allowZero, n);
        if (target.length == 0 || target[0] != nominalBatch)
            throw new ImportException("Reshape of " + Arrays.toString(fullIn) + " to " + Arrays.toString(target)
                    + " changes the batch axis (axis 0 must stay " + nominalBatch + "); Shears keeps axis 0 as the batch", file, display(n));
        reshapeTo(n, x, target);
    }

    /** ONNX Reshape semantics: 0 copies the input's size on that axis (unless allowzero), -1 is inferred. */
    private long[] resolveShape(long[] shape, long[] in, boolean allowZero, NodeProto n) {
        long[] out = shape.clone();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < out.length; i++) {
            if (out[i] == 0 && !allowZero) {
                if (i >= in.length) throw new ImportException("Reshape target " + Arrays.toString(shape) + " copies axis " + i + " that input " + Arrays.toString(in) + " lacks", file, display(n));
                out[i] = in[i];
            }
            if (out[i] == -1) {
                if (infer >= 0) throw new ImportException("Reshape target " + Arrays.toString(shape) + " has more than one -1", file, display(n));
                infer = i;
            } else if (out[i] < 0) {
                throw new ImportException("Reshape target " + Arrays.toString(shape) + " has a negative size", file, display(n));
            } else known *= out[i];
        }
        long total = TensorData.count(in);
        if (infer >= 0) {
            if (known == 0 || total % known != 0)
                throw new ImportException("Reshape of " + Arrays.toString(in) + " to " + Arrays.toString(shape) + ": sizes do not divide", file, display(n));
            out[infer] = total / known;
        } else if (known != total) {
            throw new ImportException("Reshape of " + Arrays.toString(in) + " (" + total + " elements) to " + Arrays.toString(out)
                    + " (" + known + ")", file, display(n));
        }
        return out;
    }

    private void transpose(NodeProto n, Attributes at) {
        String in = n.getInput(0);
        int rank = constants.containsKey(in) ? constants.get(in).rank() : acts.get(in).fullRank();
        long[] perm = at.getInts("perm", null);
        if (perm == null) { // default: reverse the axes
            perm = new long[rank];
            for (int i = 0; i < rank; i++) perm[i] = rank - 1 - i;
        }
        if (perm.length != rank) throw new ImportException("Transpose perm " + Arrays.toString(perm) + " for a rank-" + rank + " input", file, display(n));
        if (constants.containsKey(in)) {
            constants.put(n.getOutput(0), transposeConstant(constants.get(in), perm));
            return;
        }
        Act x = acts.get(in);
        if (perm[0] != 0)
            throw new ImportException("Transpose perm " + Arrays.toString(perm) + " moves the batch axis; Shears keeps axis 0 as the batch", file, display(n));
        int[] p = new int[rank - 1];
        for (int i = 1; i < rank; i++) p[i - 1] = (int) perm[i] - 1;
        try {
            acts.put(n.getOutput(0), emit(new Permute(usedNames.fresh(name(n)), p), n, List.of(x)));
        } catch (IllegalArgumentException e) {
            throw new ImportException("Transpose perm " + Arrays.toString(perm) + " is not a permutation", file, display(n));
        }
    }

    private static TensorData transposeConstant(TensorData t, long[] perm) {
        int r = t.rank();
        long[] dims = new long[r];
        for (int i = 0; i < r; i++) dims[i] = t.dims()[(int) perm[i]];
        long[] inStride = new long[r];
        long s = 1;
        for (int i = r - 1; i >= 0; i--) { inStride[i] = s; s *= t.dims()[i]; }
        int n = t.size();
        float[] fin = t.floats();
        long[] lin = t.longs();
        float[] fo = fin != null ? new float[n] : null;
        long[] lo = lin != null ? new long[n] : null;
        int[] idx = new int[r];
        for (int o = 0; o < n; o++) {
            long src = 0;
            for (int i = 0; i < r; i++) src += idx[i] * inStride[(int) perm[i]];
            if (fo != null) fo[o] = fin[(int) src]; else lo[o] = lin[(int) src];
            for (int i = r - 1; i >= 0; i--) { // odometer over the output index
                if (++idx[i] < dims[i]) break;
                idx[i] = 0;
            }
        }
        return new TensorData(dims, fo, lo);
    }

    private void concat(NodeProto n, Attributes at) {
        List<TensorData> constIn = new ArrayList<>();
        int nonEmpty = 0;
        for (String in : n.getInputList()) {
            if (in.isEmpty()) continue;
            nonEmpty++;
            if (constants.containsKey(in)) constIn.add(constants.get(in));
        }
        if (nonEmpty > 0 && constIn.size() == nonEmpty) { // e.g. a Reshape target assembled from Shape and constant parts
            if (!at.has("axis")) throw new ImportException("Concat has no 'axis' attribute", file, display(n));
            int axis = normalizeAxis(at.getIntExact("axis", 0), constIn.get(0).rank(), n, false);
            constants.put(n.getOutput(0), fold(n, () -> ConstantFolding.concat(constIn, axis)));
            return;
        }
        List<Act> ins = new ArrayList<>();
        for (int i = 0; i < n.getInputCount(); i++) {
            if (n.getInput(i).isEmpty()) continue;
            if (constants.containsKey(n.getInput(i)))
                throw new ImportException("Concat of activations and a constant ('" + n.getInput(i) + "') is not supported"
                        + " (all activations, or all constants, is)", file, display(n));
            ins.add(acts.get(n.getInput(i)));
        }
        if (ins.isEmpty()) throw new ImportException("Concat has no inputs (all of its input names are empty)", file, display(n));
        if (!at.has("axis")) throw new ImportException("Concat has no 'axis' attribute", file, display(n));
        int axis = normalizeAxis(at.getIntExact("axis", 1), ins.get(0).fullRank(), n, false);
        if (axis == 0) throw new ImportException("Concat along axis 0 (the batch) is not supported", file, display(n));
        if (ins.size() == 1) {
            aliasAct(n.getOutput(0), ins.get(0));
            return;
        }
        acts.put(n.getOutput(0), emit(new Concat(usedNames.fresh(name(n)), axis - 1), n, ins));
    }

    private void softmax(NodeProto n, Attributes at) {
        Act x = activation(n, 0, "input");
        int rank = x.fullRank();
        int axis = normalizeAxis(at.getIntExact("axis", opset < 13 ? 1 : -1), rank, n, false);
        boolean log = n.getOpType().equals("LogSoftmax");
        Shape s = x.shape();
        if (axis == 0) throw new ImportException(n.getOpType() + " along axis 0 (the batch) is not supported", file, display(n));
        // The IR normalises each sample as one row. Before opset 13 ONNX coerces the input to 2-D
        // [prod(dims < axis), prod(dims >= axis)]: the same when every per-sample axis before `axis`
        // has size 1. From 13 on it normalises along `axis` alone: the same when every other
        // per-sample axis has size 1.
        boolean same = true;
        for (int i = 1; i < rank; i++) {
            boolean mustBeOne = opset < 13 ? i < axis : i != axis;
            if (mustBeOne && s.dim(i - 1) != 1) same = false;
        }
        if (!same)
            throw new ImportException(n.getOpType() + " at axis " + axis + " of " + full(x) + " (opset " + opset + ") normalises over part of each sample;"
                    + " Shears supports it over the whole sample only (e.g. [N, classes])", file, display(n));
        acts.put(n.getOutput(0), emit(new Softmax(usedNames.fresh(name(n)), log), n, List.of(x)));
    }

    // ------------------------------------------------------------------ shape computation (constant folding)

    /** Shape: every shape is static, so it is a constant; an activation's includes the batch as Reshape resolves it. */
    private void shape(NodeProto n, Attributes at) {
        String in = n.getInput(0);
        long[] dims = constants.containsKey(in) ? constants.get(in).dims() : fullDims(acts.get(in));
        int r = dims.length;
        int start = 0, end = r;
        if (opset >= 15) { // start/end slice the shape; negative counts from the end, out of range clamps
            start = (int) Math.clamp(at.getInt("start", 0) < 0 ? at.getInt("start", 0) + r : at.getInt("start", 0), 0, r);
            end = (int) Math.clamp(at.getInt("end", r) < 0 ? at.getInt("end", r) + r : at.getInt("end", r), 0, r);
        }
        constants.put(n.getOutput(0), ConstantFolding.int64Vector(Arrays.copyOfRange(dims, start, Math.max(start, end))));
    }

    private void gather(NodeProto n, Attributes at) {
        if (!constants.containsKey(n.getInput(0)) || n.getInputCount() < 2 || !constants.containsKey(n.getInput(1)))
            throw new ImportException("Gather is supported only when data and indices are constants (it is folded at import, e.g."
                    + " picking a size out of Shape); this one reads an activation computed at run time", file, display(n));
        TensorData data = constants.get(n.getInput(0)), indices = constants.get(n.getInput(1));
        int axis = normalizeAxis(at.getIntExact("axis", 0), data.rank(), n, false);
        constants.put(n.getOutput(0), fold(n, () -> ConstantFolding.gather(data, indices, axis)));
    }

    /** The axes of Squeeze/Unsqueeze: an attribute before opset 13, an optional input from 13 (null when absent). */
    private long[] axesOf(NodeProto n, Attributes at) {
        if (opset < 13) return at.getInts("axes", null);
        if (n.getInputCount() > 1 && !n.getInput(1).isEmpty()) return constantInput(n, 1, "axes").asLongs();
        return null;
    }

    private long[] normalizeAxes(long[] axes, int rank, NodeProto n) {
        long[] out = new long[axes.length];
        for (int i = 0; i < axes.length; i++) out[i] = normalizeAxis(Math.toIntExact(axes[i]), rank, n, false);
        return out;
    }

    /**
     * Constant-mode Pad with value 0 of the two spatial axes of an NCHW activation (what the exporter
     * writes for ZeroPad2D): pads from the attribute before opset 11, from input 1 since; the value
     * from the attribute / input 2.
     */
    private void pad(NodeProto n, Attributes at) {
        String mode = at.getString("mode", "constant");
        if (!mode.equals("constant")) throw new ImportException("Pad mode '" + mode + "' is not supported (only 'constant')", file, display(n));
        long[] pads;
        float value;
        if (opset < 11) {
            pads = at.getInts("pads", null);
            if (pads == null) throw new ImportException("Pad has no 'pads' attribute", file, display(n));
            value = at.getFloat("value", 0f);
        } else {
            pads = constantInput(n, 1, "pads").asLongs();
            value = n.getInputCount() > 2 && !n.getInput(2).isEmpty() ? constantInput(n, 2, "constant_value").asFloats()[0] : 0f;
            if (n.getInputCount() > 3 && !n.getInput(3).isEmpty())
                throw new ImportException("Pad with an 'axes' input is not supported (give pads for every axis)", file, display(n));
        }
        Act x = acts.get(n.getInput(0));
        if (x == null) throw new ImportException("Pad of a constant is not supported", file, display(n));
        if (value != 0f) throw new ImportException("Pad with value " + value + " is not supported (only zero padding)", file, display(n));
        if (x.fullRank() != 4 || pads.length != 8 || pads[0] != 0 || pads[1] != 0 || pads[4] != 0 || pads[5] != 0)
            throw new ImportException("Pad " + Arrays.toString(pads) + " of " + full(x) + " is not supported: only zero padding of the"
                    + " H and W axes of an [N, C, H, W] activation", file, display(n));
        for (long p : pads)
            if (p < 0) throw new ImportException("Pad with negative pads " + Arrays.toString(pads) + " (cropping) is not supported", file, display(n));
        acts.put(n.getOutput(0), emit(new ZeroPad2D(usedNames.fresh(name(n)), Math.toIntExact(pads[2]), Math.toIntExact(pads[3]),
                Math.toIntExact(pads[6]), Math.toIntExact(pads[7])), n, List.of(x)));
    }

    private void unsqueeze(NodeProto n, Attributes at) {
        long[] axes = axesOf(n, at);
        if (axes == null) throw new ImportException("Unsqueeze has no axes", file, display(n));
        String in = n.getInput(0);
        long[] inDims = constants.containsKey(in) ? constants.get(in).dims() : fullDims(acts.get(in));
        long[] norm = normalizeAxes(axes, inDims.length + axes.length, n);
        long[] outDims = fold(n, () -> ConstantFolding.unsqueezeDims(inDims, norm));
        if (constants.containsKey(in)) {
            constants.put(n.getOutput(0), constants.get(in).withDims(outDims));
            return;
        }
        for (long a : norm)
            if (a == 0) throw new ImportException("Unsqueeze at axis 0 of " + full(acts.get(in)) + " would move the batch axis;"
                    + " Shears keeps axis 0 as the batch", file, display(n));
        reshapeTo(n, acts.get(in), outDims);
    }

    private void squeeze(NodeProto n, Attributes at) {
        long[] axes = axesOf(n, at);
        String in = n.getInput(0);
        long[] inDims = constants.containsKey(in) ? constants.get(in).dims() : fullDims(acts.get(in));
        long[] norm = axes == null ? null : normalizeAxes(axes, inDims.length, n);
        if (constants.containsKey(in)) {
            constants.put(n.getOutput(0), constants.get(in).withDims(fold(n, () -> ConstantFolding.squeezeDims(inDims, norm))));
            return;
        }
        Act x = acts.get(in);
        if (norm == null && nominalBatch == 1)
            throw new ImportException("Squeeze without axes of " + full(x) + " with batch 1 would also remove the batch axis;"
                    + " Shears keeps axis 0 as the batch (give Squeeze explicit axes)", file, display(n));
        if (norm != null)
            for (long a : norm)
                if (a == 0) throw new ImportException("Squeeze of axis 0 (the batch) of " + full(x) + " is not supported;"
                        + " Shears keeps axis 0 as the batch", file, display(n));
        reshapeTo(n, x, fold(n, () -> ConstantFolding.squeezeDims(inDims, norm)));
    }

    /** A Reshape layer to the full dims {@code dims} (batch first), or a rename when the per-sample shape is unchanged. */
    private void reshapeTo(NodeProto n, Act x, long[] dims) {
        Shape per = Shape.of(Arrays.copyOfRange(dims, 1, dims.length));
        if (per.equals(x.shape())) {
            aliasAct(n.getOutput(0), x);
            return;
        }
        acts.put(n.getOutput(0), emit(new Reshape(usedNames.fresh(name(n)), per), n, List.of(x)));
    }

    private void cast(NodeProto n, Attributes at) {
        if (!at.has("to")) throw new ImportException("Cast has no 'to' attribute", file, display(n));
        int to = at.getIntExact("to", 0);
        String in = n.getInput(0);
        if (constants.containsKey(in)) {
            constants.put(n.getOutput(0), fold(n, () -> ConstantFolding.cast(constants.get(in), to)));
            return;
        }
        if (to != TensorProto.DataType.FLOAT_VALUE)
            throw new ImportException("Cast of an activation to " + OnnxTensors.typeName(to) + " is not supported (activations are FLOAT;"
                    + " Cast of constants is folded)", file, display(n));
        aliasAct(n.getOutput(0), acts.get(in)); // FLOAT to FLOAT
    }

    /** Add, Sub, Mul, Div (and Sum) of constants only: folded. Sub and Div of activations are not supported. */
    private void arithmeticOfConstants(NodeProto n) {
        String op = n.getOpType();
        List<TensorData> ins = new ArrayList<>();
        for (String in : n.getInputList()) {
            if (in.isEmpty()) continue;
            TensorData t = constants.get(in);
            if (t == null)
                throw new ImportException(op + " of an activation ('" + in + "') is not supported; Shears folds " + op
                        + " only when all its inputs are constants", file, display(n));
            ins.add(t);
        }
        if (ins.isEmpty()) throw new ImportException(op + " has no inputs", file, display(n));
        String binary = op.equals("Sum") ? "Add" : op;
        if (!op.equals("Sum") && ins.size() != 2) throw new ImportException(op + " has " + ins.size() + " inputs, expected 2", file, display(n));
        constants.put(n.getOutput(0), fold(n, () -> {
            TensorData acc = ins.get(0);
            for (int i = 1; i < ins.size(); i++) acc = ConstantFolding.arithmetic(binary, acc, ins.get(i));
            return acc;
        }));
    }

    /** Runs a folding step, turning its IllegalArgumentException into an ImportException naming the node. */
    private <T> T fold(NodeProto n, java.util.function.Supplier<T> step) {
        try {
            return step.get();
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw new ImportException(n.getOpType() + " of constants cannot be folded: " + e.getMessage(), file, display(n), List.of(), e);
        }
    }

    // ------------------------------------------------------------------ helpers

    /** The resolved padding, stride and dilation of a Conv or pooling window, as 2-D (1-D: H = 1). */
    private record Window(int kh, int kw, int sh, int sw, int pt, int pl, int pb, int pr, int dh, int dw) {}

    private Window window(NodeProto n, Attributes at, Act x, long[] kernel, boolean dilationsAllowed) {
        int sp = kernel.length;
        long[] strides = at.getInts("strides", ones(sp));
        long[] dil = at.getInts("dilations", ones(sp));
        long[] pads = at.getInts("pads", new long[2 * sp]);
        String autoPad = at.getString("auto_pad", "NOTSET");
        if (strides.length != sp || dil.length != sp || pads.length != 2 * sp)
            throw new ImportException("strides " + Arrays.toString(strides) + ", dilations " + Arrays.toString(dil) + ", pads "
                    + Arrays.toString(pads) + " do not match a " + sp + "-D kernel " + Arrays.toString(kernel), file, display(n));
        long[] begin = new long[sp], end = new long[sp];
        for (int i = 0; i < sp; i++) {
            long in = x.shape().dim(1 + i), k = kernel[i], s = strides[i], d = dil[i];
            switch (autoPad) {
                case "NOTSET", "" -> { begin[i] = pads[i]; end[i] = pads[sp + i]; }
                case "VALID" -> { begin[i] = 0; end[i] = 0; }
                case "SAME_UPPER", "SAME_LOWER" -> {
                    // Keras' 'same': output ceil(in / stride), the odd pad at the end (UPPER) or the beginning (LOWER)
                    int[] same;
                    try {
                        same = ConvGeometry.samePadding(Math.toIntExact(in), Math.toIntExact(k), Math.toIntExact(s), Math.toIntExact(d));
                    } catch (IllegalArgumentException | ArithmeticException e) {
                        throw new ImportException("auto_pad " + autoPad + ": " + e.getMessage(), file, display(n));
                    }
                    boolean upper = autoPad.equals("SAME_UPPER");
                    begin[i] = upper ? same[0] : same[1];
                    end[i] = upper ? same[1] : same[0];
                }
                default -> throw new ImportException("auto_pad '" + autoPad + "' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID", file, display(n));
            }
            if (begin[i] < 0 || end[i] < 0) throw new ImportException("negative pads " + Arrays.toString(pads), file, display(n));
        }
        if (!dilationsAllowed) for (long d : dil) if (d != 1) throw new ImportException("dilations are not supported here", file, display(n));
        if (sp == 1) return new Window(1, (int) kernel[0], 1, (int) strides[0], 0, (int) begin[0], 0, (int) end[0], 1, (int) dil[0]);
        return new Window((int) kernel[0], (int) kernel[1], (int) strides[0], (int) strides[1],
                (int) begin[0], (int) begin[1], (int) end[0], (int) end[1], (int) dil[0], (int) dil[1]);
    }

    private static long[] ones(int n) {
        long[] v = new long[n];
        Arrays.fill(v, 1);
        return v;
    }

    private Act reshapeAct(Act x, Shape to, NodeProto n, String suffix) {
        Reshape r = new Reshape(usedNames.fresh(name(n) + "_" + suffix), to);
        return emit(r, n, List.of(x));
    }

    /** Adds a layer reading {@code ins}; returns its output activation, shape-checked. */
    private Act emit(Layer layer, NodeProto n, List<Act> ins) {
        List<Shape> shapes = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (Act a : ins) {
            shapes.add(a.shape());
            names.add(a.ir());
        }
        Shape out;
        try {
            out = layer.outputShape(shapes);
        } catch (IllegalArgumentException e) {
            throw new ImportException(n.getOpType() + " does not fit its input " + shapes + ": " + e.getMessage(), file, display(n), List.of(), e);
        }
        addPending(layer, names);
        return new Act(layer.name(), out);
    }

    private void addPending(Layer layer, List<String> inputs) {
        Pending p = new Pending(layer, List.copyOf(inputs));
        pending.add(p);
        pendingByName.put(layer.name(), p);
    }

    private void weight(Parameter p, float[] v, NodeProto n) {
        if (v.length != p.shape().size())
            throw new ImportException("weights for " + p.name() + " hold " + v.length + " values, the layer needs " + p.shape(), file, display(n));
        weights.put(p.name(), v);
    }

    private Act activation(NodeProto n, int i, String what) {
        if (n.getInputCount() <= i || n.getInput(i).isEmpty())
            throw new ImportException(n.getOpType() + " is missing input " + i + " (" + what + ")", file, display(n));
        String in = n.getInput(i);
        Act a = acts.get(in);
        if (a == null)
            throw new ImportException(n.getOpType() + " input " + i + " (" + what + ", '" + in + "') is a constant; Shears supports it only on activations",
                    file, display(n));
        return a;
    }

    private TensorData constantInput(NodeProto n, int i, String what) {
        if (n.getInputCount() <= i || n.getInput(i).isEmpty())
            throw new ImportException(n.getOpType() + " is missing input " + i + " (" + what + ")", file, display(n));
        TensorData t = constants.get(n.getInput(i));
        if (t == null)
            throw new ImportException(n.getOpType() + " input " + i + " (" + what + ", '" + n.getInput(i)
                    + "') is computed at run time; Shears needs it constant (an initializer or Constant)", file, display(n));
        return t;
    }

    private void requireOnlyFirstOutput(NodeProto n, String what) {
        for (int i = 1; i < n.getOutputCount(); i++) {
            String o = n.getOutput(i);
            if (!o.isEmpty() && (consumers.containsKey(o) || graphOutputs.contains(o)))
                throw new ImportException(n.getOpType() + ": " + what + " ('" + o + "') is used, which Shears does not support", file, display(n));
        }
    }

    private int normalizeAxis(int axis, int rank, NodeProto n, boolean inclusiveEnd) {
        int a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a > rank || (!inclusiveEnd && a == rank))
            throw new ImportException("axis " + axis + " out of range for a rank-" + rank + " input", file, display(n));
        return a;
    }

    private long[] fullDims(Act a) {
        long[] d = new long[a.fullRank()];
        d[0] = nominalBatch;
        for (int i = 0; i < a.shape().rank(); i++) d[i + 1] = a.shape().dim(i);
        return d;
    }

    private String full(Act a) {
        StringBuilder sb = new StringBuilder("[N");
        for (int i = 0; i < a.shape().rank(); i++) sb.append(", ").append(a.shape().dim(i));
        return sb.append(']').toString();
    }

    /** The IR name for a node: its ONNX name, else op type and first output. */
    private static String name(NodeProto n) {
        if (!n.getName().isEmpty()) return n.getName();
        return n.getOpType() + "_" + (n.getOutputCount() > 0 ? n.getOutput(0) : "");
    }

    /** How errors name a node: its name, or its op type and first output. */
    static String display(NodeProto n) {
        if (!n.getName().isEmpty()) return n.getName() + " (" + n.getOpType() + ")";
        return n.getOpType() + " -> " + (n.getOutputCount() > 0 ? n.getOutput(0) : "?");
    }

    private static String describe(TensorShapeProto s) {
        List<String> d = new ArrayList<>();
        for (var dim : s.getDimList()) d.add(dim.hasDimValue() ? Long.toString(dim.getDimValue()) : dim.hasDimParam() ? dim.getDimParam() : "?");
        return d.toString();
    }
}
