package dev.shears.io.keras;

import com.fasterxml.jackson.databind.JsonNode;
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
import dev.shears.core.nn.layers.MaxPool2D;
import dev.shears.core.nn.layers.Multiply;
import dev.shears.core.nn.layers.PReLU;
import dev.shears.core.nn.layers.Permute;
import dev.shears.core.nn.layers.Rescale;
import dev.shears.core.nn.layers.Reshape;
import dev.shears.core.nn.layers.Softmax;
import dev.shears.core.nn.layers.ZeroPad2D;
import dev.shears.core.tensor.Shape;
import dev.shears.io.ImportException;
import dev.shears.io.UniqueNames;

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
 * Translates a parsed Keras config plus its weights into the IR, one Keras layer at a time.
 *
 * <p>Every Keras tensor is tracked as a {@link Ref}: an IR node, its (NCHW-side) shape and the
 * axis order relating it to the Keras tensor (see {@link AxisOrder}). Layers that need a given
 * layout (channels_last convolutions need the IR tensor NCHW, i.e. Keras order (1, 2, 0);
 * Flatten and Reshape need the Keras order itself) get a Permute node only where the order
 * differs, so a channels_last model gets one Permute after its input and one before its
 * Flatten; Keras Permute layers cost nothing (they only change the order).
 *
 * <p>Weights are collected here as {@link PendingWeight}s in IR layout and written after the
 * model is bound: Dense kernels stay [in, out]; convolution kernels go from Keras' (kh, kw, in,
 * out) (or Keras 1 'th' (out, in, kh, kw)) to [out, in, kh, kw], flipped spatially when the
 * file was written by the Theano backend (Theano convolves, TensorFlow correlates).
 */
final class KerasGraphBuilder {

    /** The Keras layer classes Shears imports (for error messages). */
    static final List<String> SUPPORTED = List.of("InputLayer", "Dense", "Conv2D", "Convolution2D", "DepthwiseConv2D",
            "SeparableConv2D", "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D", "GlobalMaxPooling2D",
            "BatchNormalization", "Activation", "LeakyReLU", "PReLU", "ELU",
            "ReLU", "Softmax", "Dropout", "Rescaling (scalar scale and offset)", "Flatten", "Reshape", "Permute", "ZeroPadding2D", "Add", "Multiply", "Concatenate",
            "Merge (Keras 1, mode sum, mul or concat)");

    static final List<String> SUPPORTED_ACTIVATIONS = List.of("linear", "relu", "sigmoid", "tanh", "softmax", "log_softmax",
            "elu", "selu", "softplus", "softsign", "hard_sigmoid", "relu6", "swish", "silu", "hard_swish", "hard_silu");

    /** A Keras tensor: IR node {@code node} of per-sample shape {@code shape}; Keras axis i = IR axis order[i]. */
    record Ref(String node, Shape shape, int[] order) {
        int rank() { return shape.rank(); }
        int[] kerasDims() { return AxisOrder.permuteDims(shape.dims(), order); }
    }

    /** Values (IR layout) to write into a parameter once the model is bound. */
    record PendingWeight(Parameter parameter, float[] values) {}

    private final Path file;
    private final KerasWeights weights;
    private final boolean keras3;
    private final Model.Builder mb = Model.builder();
    private final Map<String, Ref> outputs = new LinkedHashMap<>();
    private final Map<String, Ref> permuteCache = new HashMap<>();
    private final UniqueNames names = new UniqueNames();
    private final Set<String> layersWithWeights = new HashSet<>();
    private final List<PendingWeight> pending = new ArrayList<>();
    private final boolean theanoKernels;

    KerasGraphBuilder(Path file, KerasWeights weights, boolean keras3) {
        this.file = file;
        this.weights = weights;
        this.keras3 = keras3;
        this.theanoKernels = "theano".equals(weights.backend());
    }

    List<PendingWeight> pendingWeights() { return pending; }

    Map<String, KerasModel.LayerOutput> layerOutputs() {
        Map<String, KerasModel.LayerOutput> out = new LinkedHashMap<>();
        outputs.forEach((k, r) -> out.put(k, new KerasModel.LayerOutput(r.node(), r.shape(), r.order())));
        return out;
    }

    Model build(KerasModelConfig cfg) {
        for (KerasLayerConfig l : cfg.layers()) names.add(l.name());
        for (KerasLayerConfig l : cfg.layers()) {
            try {
                translate(l);
            } catch (IllegalArgumentException | ArithmeticException e) {
                // a layer constructor or geometry helper refusing a value the config gave (units -11, strides 0): name the layer
                throw l.error(e.getMessage());
            }
        }
        checkAllWeightsUsed(cfg);
        Ref out = outputs.get(cfg.outputLayer());
        if (out == null) throw new ImportException("the output layer '" + cfg.outputLayer() + "' is not among the layers", file, null);
        // The model's output has the Keras layout, so a caller compares it with Keras directly.
        Ref last = ensureOrder(out, AxisOrder.identity(out.rank()), cfg.outputLayer());
        mb.output(last.node());
        try {
            return mb.build();
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw new ImportException("the translated model is inconsistent: " + e.getMessage(), file, null, List.of(), e);
        }
    }

    // ------------------------------------------------------------------ per layer

    private void translate(KerasLayerConfig l) {
        List<Ref> in = new ArrayList<>();
        for (String src : l.inbound()) {
            Ref r = outputs.get(src);
            if (r == null) throw l.error("reads '" + src + "', which has no output yet");
            in.add(r);
        }
        if (!l.className().equals("InputLayer") && in.isEmpty()) throw l.error("the layer has no input");
        Ref out = switch (l.className()) {
            case "InputLayer" -> input(l);
            case "Dense" -> dense(l, single(l, in));
            case "Conv2D", "Convolution2D" -> conv(l, single(l, in));
            case "DepthwiseConv2D" -> depthwise(l, single(l, in));
            case "SeparableConv2D", "SeparableConvolution2D" -> separable(l, single(l, in));
            case "MaxPooling2D", "MaxPool2D", "AveragePooling2D", "AvgPool2D" -> pool(l, single(l, in));
            case "GlobalAveragePooling2D", "GlobalAvgPool2D" -> globalPool(l, single(l, in), false);
            case "GlobalMaxPooling2D", "GlobalMaxPool2D" -> globalPool(l, single(l, in), true);
            case "BatchNormalization" -> batchNorm(l, single(l, in));
            case "Activation" -> activation(l, l.field("activation"), single(l, in), l.name());
            case "LeakyReLU" -> elementwise(l, single(l, in), Activation.LEAKY_RELU,
                    (float) l.numberOr(0.3, "alpha", "negative_slope"), l.name());
            case "ELU" -> elementwise(l, single(l, in), Activation.ELU, (float) l.numberOr(1.0, "alpha"), l.name());
            case "ReLU" -> relu(l, single(l, in));
            case "Softmax" -> softmaxLayer(l, single(l, in));
            case "PReLU" -> prelu(l, single(l, in));
            case "Dropout" -> dropout(l, single(l, in));
            case "Rescaling" -> rescaling(l, single(l, in));
            case "Flatten" -> flatten(l, single(l, in));
            case "Reshape" -> reshape(l, single(l, in));
            case "Permute" -> permute(l, single(l, in));
            case "ZeroPadding2D" -> zeroPad(l, single(l, in));
            case "Add" -> add(l, in);
            case "Multiply" -> multiply(l, in);
            case "Concatenate" -> concat(l, in, l.intOr(-1, "axis"));
            case "Merge" -> merge(l, in);
            default -> throw l.unsupported("layer class '" + l.className() + "' is not supported; replace or remove it in Keras "
                    + "and save the model again", SUPPORTED);
        };
        outputs.put(l.name(), out);
    }

    private Ref single(KerasLayerConfig l, List<Ref> in) {
        if (in.size() != 1) throw l.error("takes one input, the config gives it " + in.size());
        return in.get(0);
    }

    private Ref input(KerasLayerConfig l) {
        JsonNode shape = l.field("batch_input_shape", "batch_shape");
        int[] dims;
        if (shape != null) {
            int[] all = l.intList(withoutBatch(shape), "batch_input_shape");
            dims = all;
        } else if (l.has("shape")) {
            dims = l.intList(l.field("shape"), "shape");
        } else {
            throw l.error("the InputLayer has no batch_input_shape / batch_shape");
        }
        for (int d : dims) if (d <= 0) throw l.error("input shape " + Arrays.toString(dims) + " has a non-positive size");
        Shape s = Shape.of(dims);
        mb.input(l.name(), s);
        return new Ref(l.name(), s, AxisOrder.identity(dims.length));
    }

    private static JsonNode withoutBatch(JsonNode batchShape) {
        var arr = new com.fasterxml.jackson.databind.node.ArrayNode(com.fasterxml.jackson.databind.node.JsonNodeFactory.instance);
        for (int i = 1; i < batchShape.size(); i++) arr.add(batchShape.get(i));
        return arr;
    }

    private Ref dense(KerasLayerConfig l, Ref in) {
        if (in.rank() != 1)
            throw l.error("Dense on a rank-" + in.rank() + " input " + Arrays.toString(in.kerasDims())
                    + " (Keras applies it to the last axis); Shears imports Dense on flat inputs only: add a Flatten before it");
        int units = l.requireInt("units", "output_dim");
        boolean bias = l.boolOr(true, "use_bias", "bias");
        int inF = in.shape().dim(0);
        Dense d = new Dense(l.name(), inF, units, bias);
        Ref out = add(l, d, List.of(in), AxisOrder.identity(1));
        Map<String, StoredWeight> w = weightsFor(l, bias ? List.of("kernel", "bias") : List.of("kernel"));
        pending.add(new PendingWeight(d.kernel(), expect(l, w.get("kernel"), new int[]{inF, units}, "[input features, units]")));
        if (bias) pending.add(new PendingWeight(d.bias(), expect(l, w.get("bias"), new int[]{units}, "[units]")));
        return activation(l, l.field("activation"), out, null);
    }

    private Ref conv(KerasLayerConfig l, Ref input) {
        boolean channelsFirst = channelsFirst(l);
        Ref in = ensureImage(l, input, channelsFirst);
        int[] k = l.pairOr(null, "kernel_size");
        if (k == null) k = new int[]{l.requireInt("nb_row"), l.requireInt("nb_col")};
        int[] s = l.pairOr(new int[]{1, 1}, "strides", "subsample");
        int[] dil = l.pairOr(new int[]{1, 1}, "dilation_rate", "atrous_rate");
        int filters = l.requireInt("filters", "nb_filter");
        int groups = l.intOr(1, "groups");
        boolean bias = l.boolOr(true, "use_bias", "bias");
        int c = in.shape().dim(0), h = in.shape().dim(1), w = in.shape().dim(2);
        if (groups <= 0 || c % groups != 0 || filters % groups != 0)
            throw l.error("groups " + groups + " does not divide input channels " + c + " and filters " + filters);
        int[] ph = pads(l, h, k[0], s[0], dil[0]), pw = pads(l, w, k[1], s[1], dil[1]);
        Conv2D conv;
        try {
            conv = new Conv2D(l.name(), c, filters, k[0], k[1], s[0], s[1], ph[0], pw[0], ph[1], pw[1], dil[0], dil[1], groups, bias);
        } catch (IllegalArgumentException e) {
            throw l.error(e.getMessage());
        }
        Ref out = add(l, conv, List.of(in), in.order());
        Map<String, StoredWeight> wt = weightsFor(l, bias ? List.of("kernel", "bias") : List.of("kernel"));
        int cin = c / groups;
        float[] kernel;
        if ("th".equals(l.stringOr(null, "dim_ordering"))) {
            // Keras 1 with 'th' ordering stores (out, in, kh, kw): the IR layout already.
            kernel = expect(l, wt.get("kernel"), new int[]{filters, cin, k[0], k[1]}, "(filters, in, rows, cols) for 'th' ordering");
        } else {
            float[] khwio = expect(l, wt.get("kernel"), new int[]{k[0], k[1], cin, filters}, "(rows, cols, in, filters)");
            kernel = AxisOrder.permuteData(khwio, 1, new int[]{k[0], k[1], cin, filters}, new int[]{3, 2, 0, 1});
        }
        if (theanoKernels) kernel = flipSpatial(kernel, filters * cin, k[0], k[1]);
        pending.add(new PendingWeight(conv.kernel(), kernel));
        if (bias) pending.add(new PendingWeight(conv.bias(), expect(l, wt.get("bias"), new int[]{filters}, "[filters]")));
        return activation(l, l.field("activation"), out, null);
    }

    /**
     * Keras DepthwiseConv2D: one (kh, kw) filter per input channel and multiplier, imported as a
     * Conv2D with one group per input channel. Keras orders the output channels c * multiplier + m
     * (input channel c, multiplier index m), which is the grouped convolution's order (group c owns
     * outputs c*multiplier .. c*multiplier + multiplier - 1), so the kernel (kh, kw, in, multiplier),
     * read as (kh, kw, 1, in * multiplier), is an ordinary Conv2D kernel with one input per group.
     */
    private Ref depthwise(KerasLayerConfig l, Ref input) {
        boolean bias = l.boolOr(true, "use_bias");
        // Keras 2 names the kernel depthwise_kernel; a Keras 3 variable is called kernel (a Keras 3 .keras file stores it by position)
        Map<String, StoredWeight> wt = weightsFor(l, bias ? List.of("depthwise_kernel", "bias") : List.of("depthwise_kernel"),
                Map.of("kernel", "depthwise_kernel"));
        Ref out = depthwiseConv(l, input, l.name(), wt.get("depthwise_kernel"), bias ? wt.get("bias") : null);
        return activation(l, l.field("activation"), out, null);
    }

    /**
     * Keras SeparableConv2D: a depthwise convolution (strides, padding and dilation apply to it)
     * then a 1x1 convolution to {@code filters} channels carrying the bias, imported as two
     * Conv2D nodes {@code <name>/depthwise} and {@code <name>/pointwise}; the activation follows.
     */
    private Ref separable(KerasLayerConfig l, Ref input) {
        boolean bias = l.boolOr(true, "use_bias", "bias");
        int filters = l.requireInt("filters", "nb_filter");
        Map<String, StoredWeight> wt = weightsFor(l, bias ? List.of("depthwise_kernel", "pointwise_kernel", "bias")
                : List.of("depthwise_kernel", "pointwise_kernel"), Map.of());
        Ref mid = depthwiseConv(l, input, names.fresh(l.name() + "/depthwise"), wt.get("depthwise_kernel"), null);
        int c = mid.shape().dim(0);
        Conv2D pw;
        try {
            pw = new Conv2D(names.fresh(l.name() + "/pointwise"), c, filters, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, bias);
        } catch (IllegalArgumentException e) {
            throw l.error(e.getMessage());
        }
        Ref out = add(l, pw, List.of(mid), mid.order());
        float[] k = expect(l, wt.get("pointwise_kernel"), new int[]{1, 1, c, filters}, "(1, 1, in * depth_multiplier, filters)");
        pending.add(new PendingWeight(pw.kernel(), AxisOrder.permuteData(k, 1, new int[]{c, filters}, new int[]{1, 0})));
        if (bias) pending.add(new PendingWeight(pw.bias(), expect(l, wt.get("bias"), new int[]{filters}, "[filters]")));
        return activation(l, l.field("activation"), out, null);
    }

    /** The depthwise part of {@link #depthwise} and {@link #separable}: IR node {@code node}, weights from the file. */
    private Ref depthwiseConv(KerasLayerConfig l, Ref input, String node, StoredWeight kernelWeight, StoredWeight biasWeight) {
        Ref in = ensureImage(l, input, channelsFirst(l));
        int[] k = l.pairOr(null, "kernel_size");
        if (k == null) k = new int[]{l.requireInt("nb_row"), l.requireInt("nb_col")};
        int[] s = l.pairOr(new int[]{1, 1}, "strides", "subsample");
        int[] dil = l.pairOr(new int[]{1, 1}, "dilation_rate");
        int mult = l.intOr(1, "depth_multiplier");
        if (mult <= 0) throw l.error("depth_multiplier " + mult + " is not positive");
        int c = in.shape().dim(0), h = in.shape().dim(1), w = in.shape().dim(2);
        int[] ph = pads(l, h, k[0], s[0], dil[0]), pw = pads(l, w, k[1], s[1], dil[1]);
        Conv2D conv;
        try {
            conv = new Conv2D(node, c, Math.multiplyExact(c, mult), k[0], k[1], s[0], s[1], ph[0], pw[0], ph[1], pw[1], dil[0], dil[1],
                    c, biasWeight != null);
        } catch (IllegalArgumentException e) {
            throw l.error(e.getMessage());
        }
        Ref out = add(l, conv, List.of(in), in.order());
        int out2 = c * mult;
        float[] khwo = expect(l, kernelWeight, new int[]{k[0], k[1], c, mult}, "(rows, cols, in, depth_multiplier)");
        float[] kernel = AxisOrder.permuteData(khwo, 1, new int[]{k[0], k[1], out2}, new int[]{2, 0, 1});
        pending.add(new PendingWeight(conv.kernel(), kernel));
        if (biasWeight != null) pending.add(new PendingWeight(conv.bias(), expect(l, biasWeight, new int[]{out2}, "[in * depth_multiplier]")));
        return out;
    }

    private static float[] flipSpatial(float[] k, int planes, int kh, int kw) {
        float[] out = new float[k.length];
        for (int p = 0; p < planes; p++)
            for (int y = 0; y < kh; y++)
                for (int x = 0; x < kw; x++)
                    out[(p * kh + y) * kw + x] = k[(p * kh + (kh - 1 - y)) * kw + (kw - 1 - x)];
        return out;
    }

    private Ref pool(KerasLayerConfig l, Ref input) {
        Ref in = ensureImage(l, input, channelsFirst(l));
        int[] p = l.pairOr(new int[]{2, 2}, "pool_size");
        int[] s = l.pairOr(p, "strides");
        int h = in.shape().dim(1), w = in.shape().dim(2);
        int[] ph = pads(l, h, p[0], s[0], 1), pw = pads(l, w, p[1], s[1], 1);
        boolean max = l.className().startsWith("Max");
        Layer layer;
        try {
            // Keras 'same' pooling: padding never wins a max, and averages count only real pixels.
            layer = max ? new MaxPool2D(l.name(), p[0], p[1], s[0], s[1], ph[0], pw[0], ph[1], pw[1], false)
                    : new AvgPool2D(l.name(), p[0], p[1], s[0], s[1], ph[0], pw[0], ph[1], pw[1], false, false);
        } catch (IllegalArgumentException e) {
            throw l.error(e.getMessage());
        }
        return add(l, layer, List.of(in), in.order());
    }

    private Ref globalPool(KerasLayerConfig l, Ref input, boolean max) {
        Ref in = ensureImage(l, input, channelsFirst(l));
        boolean keep = l.boolOr(false, "keepdims");
        Layer layer = max ? new GlobalMaxPool2D(l.name(), keep) : new GlobalAvgPool2D(l.name(), keep);
        return add(l, layer, List.of(in), keep ? in.order() : AxisOrder.identity(1));
    }

    private Ref batchNorm(KerasLayerConfig l, Ref input) {
        if (l.intOr(0, "mode") != 0) throw l.error("Keras 1 BatchNormalization mode " + l.intOr(0, "mode") + "; Shears imports mode 0 only");
        JsonNode axisNode = l.field("axis");
        int axis = axisNode != null && axisNode.isArray() && axisNode.size() == 1 ? l.strictInt(axisNode.get(0), "config.axis[0]") : l.intOr(-1, "axis");
        if (axisNode != null && axisNode.isArray() && axisNode.size() != 1) throw l.error("normalises over several axes " + axisNode);
        int rank = input.rank();
        int k = axis < 0 ? axis + rank : axis - 1; // Keras counts the batch axis
        if (k < 0 || k >= rank) throw l.error("axis " + axis + " is out of range for input " + Arrays.toString(input.kerasDims()));
        Ref in = input;
        if (in.order()[k] != 0) {
            if (rank == 3 && (k == 0 || k == 2)) in = ensureOrder(in, k == 0 ? AxisOrder.identity(3) : AxisOrder.CHANNELS_LAST, l.name());
            else throw l.error("normalising axis " + axis + " of a rank-" + rank + " input " + Arrays.toString(input.kerasDims())
                    + " is not supported (Shears normalises the channel axis of images or the features of flat inputs)");
        }
        int c = in.shape().dim(0);
        float eps = (float) l.numberOr(1e-3, "epsilon");
        float momentum = (float) l.numberOr(0.99, "momentum");
        boolean center = l.boolOr(true, "center"), scale = l.boolOr(true, "scale");
        BatchNorm bn = new BatchNorm(l.name(), c, eps, momentum);
        Ref out = add(l, bn, List.of(in), in.order());
        List<String> roles = new ArrayList<>();
        if (scale) roles.add("gamma");
        if (center) roles.add("beta");
        roles.add("moving_mean");
        roles.add("moving_variance");
        Map<String, StoredWeight> w = weightsFor(l, roles);
        int[] shape = {c};
        if (scale) pending.add(new PendingWeight(bn.gamma(), expect(l, w.get("gamma"), shape, "[channels]")));
        if (center) pending.add(new PendingWeight(bn.beta(), expect(l, w.get("beta"), shape, "[channels]")));
        pending.add(new PendingWeight(bn.movingMean(), expect(l, w.get("moving_mean"), shape, "[channels]")));
        pending.add(new PendingWeight(bn.movingVariance(), expect(l, w.get("moving_variance"), shape, "[channels]")));
        return out;
    }

    /**
     * An activation, given by name or (Keras 3) as a serialised function object. {@code node} is
     * the IR node name to use, or null for an activation fused into a Dense/Conv layer.
     */
    private Ref activation(KerasLayerConfig l, JsonNode spec, Ref in, String node) {
        String name = activationName(l, spec);
        if (name.equals("linear") && node == null) return in;
        String nodeName = node != null ? node : names.fresh(l.name() + "_" + name);
        return switch (name) {
            case "linear" -> elementwise(l, in, Activation.LINEAR, 0f, nodeName);
            case "relu" -> elementwise(l, in, Activation.RELU, 0f, nodeName);
            case "sigmoid" -> elementwise(l, in, Activation.SIGMOID, 0f, nodeName);
            case "tanh" -> elementwise(l, in, Activation.TANH, 0f, nodeName);
            case "elu" -> elementwise(l, in, Activation.ELU, 1f, nodeName);
            case "selu" -> elementwise(l, in, Activation.SELU, 0f, nodeName);
            case "softplus" -> elementwise(l, in, Activation.SOFTPLUS, 0f, nodeName);
            case "softsign" -> elementwise(l, in, Activation.SOFTSIGN, 0f, nodeName);
            case "relu6" -> elementwise(l, in, Activation.RELU_CAPPED, 6f, nodeName);
            case "swish", "silu" -> elementwise(l, in, Activation.SWISH, 0f, nodeName); // Keras 3: silu, alias swish
            case "hard_swish", "hard_silu" -> elementwise(l, in, Activation.HARD_SWISH, 0f, nodeName); // Keras 3 only
            // Keras 2: clip(0.2x + 0.5, 0, 1); Keras 3 redefined it as relu6(x + 3) / 6 = clip(x/6 + 0.5, 0, 1)
            case "hard_sigmoid" -> add(l, new ActivationLayer(nodeName, Activation.HARD_SIGMOID,
                    keras3 ? Activation.HARD_SIGMOID_SLOPE_SIXTH : Activation.HARD_SIGMOID_SLOPE, Activation.HARD_SIGMOID_OFFSET),
                    List.of(in), in.order());
            case "softmax", "log_softmax" -> softmax(l, in, name.equals("log_softmax"), nodeName);
            default -> throw l.unsupported("activation '" + name + "' is not supported", SUPPORTED_ACTIVATIONS);
        };
    }

    private static String activationName(KerasLayerConfig l, JsonNode spec) {
        if (spec == null) return "linear";
        if (spec.isTextual()) return spec.asText();
        if (spec.isObject()) { // Keras 3: {"module": "keras.activations", "class_name": "function", "config": "relu"}
            JsonNode c = spec.get("config");
            if (c != null && c.isTextual()) return c.asText();
            JsonNode cls = spec.get("class_name");
            if (cls != null && cls.isTextual()) return cls.asText().toLowerCase(java.util.Locale.ROOT);
        }
        throw l.error("activation " + spec + " is neither a name nor a serialised activation");
    }

    private Ref elementwise(KerasLayerConfig l, Ref in, Activation f, float alpha, String node) {
        return add(l, new ActivationLayer(node, f, alpha), List.of(in), in.order());
    }

    private Ref softmax(KerasLayerConfig l, Ref in, boolean log, String node) {
        // Keras normalises over the last axis; the IR over the whole sample. They agree when every
        // other axis has size 1.
        int[] kd = in.kerasDims();
        long others = in.shape().size() / kd[kd.length - 1];
        if (others != 1)
            throw l.error("softmax over the last axis of a " + Arrays.toString(kd) + " tensor is not supported; "
                    + "Shears imports softmax over flat inputs (add a Flatten before it)");
        return add(l, new Softmax(node, log), List.of(in), in.order());
    }

    private Ref softmaxLayer(KerasLayerConfig l, Ref in) {
        int axis = l.intOr(-1, "axis");
        if (axis != -1 && axis != in.rank()) throw l.error("softmax over axis " + axis + "; Shears supports the last axis only");
        return softmax(l, in, false, l.name());
    }

    private Ref relu(KerasLayerConfig l, Ref in) {
        if (l.numberOr(0, "threshold") != 0) throw l.error("ReLU with a non-zero threshold is not supported");
        double slope = l.numberOr(0, "negative_slope");
        if (l.has("max_value")) { // min(max(x, 0), max_value): ReLU6 and other capped ReLUs (null means no cap)
            double cap = l.numberOr(0, "max_value");
            if (slope != 0)
                throw l.error("ReLU with max_value " + cap + " and negative_slope " + slope + " is not supported; "
                        + "Shears imports a capped ReLU (max_value, negative_slope 0, threshold 0) or a leaky one (no max_value)");
            if (!(cap > 0) || Float.isInfinite((float) cap))
                throw l.error("ReLU max_value " + cap + " is not supported; Shears needs a finite cap above 0 (6 for ReLU6)");
            return elementwise(l, in, Activation.RELU_CAPPED, (float) cap, l.name());
        }
        return slope == 0 ? elementwise(l, in, Activation.RELU, 0f, l.name())
                : elementwise(l, in, Activation.LEAKY_RELU, (float) slope, l.name());
    }

    private Ref prelu(KerasLayerConfig l, Ref input) {
        StoredWeight a = weightsFor(l, List.of("alpha")).get("alpha");
        int[] kd = input.kerasDims();
        int[] ad = a.shape();
        if (Arrays.equals(ad, kd)) {
            // One slope per element: store it in IR layout (IR axis j is Keras axis inverse(order)[j]).
            float[] slope = AxisOrder.permuteData(a.data(), 1, kd, AxisOrder.inverse(input.order()));
            PReLU p = new PReLU(l.name(), input.shape());
            pending.add(new PendingWeight(p.slope(), slope));
            return add(l, p, List.of(input), input.order());
        }
        // Shared over every axis but one: a per-channel slope, with that axis as the IR channel axis.
        int channelAxis = -1;
        boolean ok = ad.length == kd.length;
        for (int i = 0; ok && i < ad.length; i++) {
            if (ad[i] == 1 && kd[i] != 1) continue;
            if (ad[i] != kd[i] || channelAxis >= 0) ok = false;
            else channelAxis = i;
        }
        if (!ok || channelAxis < 0)
            throw l.error("alpha of shape " + Arrays.toString(ad) + " for input " + Arrays.toString(kd)
                    + " is neither per element nor per channel (shared_axes " + l.field("shared_axes") + ")");
        Ref in = input;
        if (in.order()[channelAxis] != 0) {
            if (in.rank() == 3 && (channelAxis == 0 || channelAxis == 2))
                in = ensureOrder(in, channelAxis == 0 ? AxisOrder.identity(3) : AxisOrder.CHANNELS_LAST, l.name());
            else throw l.error("per-channel alpha on axis " + (channelAxis + 1) + " of input " + Arrays.toString(kd) + " is not supported");
        }
        int c = kd[channelAxis];
        PReLU p = new PReLU(l.name(), Shape.of(c));
        pending.add(new PendingWeight(p.slope(), a.data().clone()));
        return add(l, p, List.of(in), in.order());
    }

    private Ref dropout(KerasLayerConfig l, Ref in) {
        double rate = l.numberOr(0, "rate", "p");
        if (!(rate >= 0 && rate < 1)) throw l.error("dropout rate " + rate + " is outside [0, 1)");
        return add(l, new Dropout(l.name(), (float) rate), List.of(in), in.order());
    }

    /**
     * Rescaling: {@code x * scale + offset} (Keras 2.6+ and 3; MobileNetV3 and EfficientNet start with
     * one). Keras also takes per-channel lists; Shears' {@link Rescale} takes scalars, so a list is
     * accepted only when all its entries are equal, and refused by name otherwise.
     */
    private Ref rescaling(KerasLayerConfig l, Ref in) {
        float scale = rescalingScalar(l, "scale", 1.0);
        float offset = rescalingScalar(l, "offset", 0.0);
        return add(l, new Rescale(l.name(), scale, offset), List.of(in), in.order());
    }

    /** A Rescaling scale or offset: a number, or a (nested) list of equal numbers; Keras' default when absent. */
    private static float rescalingScalar(KerasLayerConfig l, String field, double fallback) {
        JsonNode v = l.field(field);
        if (v == null) return (float) fallback;
        // Keras 3 writes a NumPy value as {"class_name": "__numpy__", "config": {"value": ..., "dtype": ...}}
        if (v.isObject() && v.path("config").has("value")) v = v.path("config").get("value");
        List<Double> values = new ArrayList<>();
        collectNumbers(l, v, "config." + field, values);
        if (values.isEmpty()) throw l.error("'config." + field + "' is " + l.field(field) + ", expected a number");
        double first = values.get(0);
        for (double d : values)
            if (d != first)
                throw l.error("'config." + field + "' is a per-channel list " + l.field(field) + "; Shears' Rescale takes one"
                        + " number for every channel: fold the per-channel part into the next layer (or a BatchNormalization)"
                        + " in Keras and save the model again");
        float f = (float) first;
        if (!Float.isFinite(f)) throw l.error("'config." + field + "' is " + first + ", which is not a finite float");
        return f;
    }

    private static void collectNumbers(KerasLayerConfig l, JsonNode v, String path, List<Double> out) {
        if (v.isArray()) {
            for (int i = 0; i < v.size(); i++) collectNumbers(l, v.get(i), path + "[" + i + "]", out);
            return;
        }
        if (!v.isNumber()) throw l.error("'" + path + "' is " + v + ", expected a number or a list of numbers");
        out.add(v.doubleValue());
    }

    private Ref flatten(KerasLayerConfig l, Ref input) {
        Ref in = input;
        // Keras 2.2+ Flatten(data_format='channels_first') moves axis 1 last before flattening.
        if ("channels_first".equals(l.stringOr(null, "data_format")) && in.rank() >= 2) {
            int[] d = new int[in.rank()];
            for (int i = 0; i < d.length - 1; i++) d[i] = i + 1;
            in = new Ref(in.node(), in.shape(), AxisOrder.compose(in.order(), d));
        }
        in = ensureOrder(in, AxisOrder.identity(in.rank()), l.name());
        return add(l, new Flatten(l.name()), List.of(in), AxisOrder.identity(1));
    }

    private Ref reshape(KerasLayerConfig l, Ref input) {
        int[] target = l.intList(l.field("target_shape", "dims"), "target_shape");
        long size = input.shape().size();
        int unknown = -1;
        long known = 1;
        for (int i = 0; i < target.length; i++) {
            if (target[i] == -1 && unknown < 0) unknown = i;
            else if (target[i] <= 0) throw l.error("target_shape " + Arrays.toString(target) + " has an invalid entry");
            else known *= target[i];
        }
        if (unknown >= 0) {
            if (size % known != 0) throw l.error("cannot reshape " + Arrays.toString(input.kerasDims()) + " to " + Arrays.toString(target));
            target[unknown] = (int) (size / known);
        }
        Ref in = ensureOrder(input, AxisOrder.identity(input.rank()), l.name());
        return add(l, new Reshape(l.name(), Shape.of(target)), List.of(in), AxisOrder.identity(target.length));
    }

    private Ref permute(KerasLayerConfig l, Ref in) {
        int[] dims = l.intList(l.field("dims"), "dims");
        if (dims.length != in.rank()) throw l.error("dims " + Arrays.toString(dims) + " for a rank-" + in.rank() + " input");
        int[] d = new int[dims.length];
        boolean[] seen = new boolean[dims.length];
        for (int i = 0; i < dims.length; i++) {
            d[i] = dims[i] - 1; // Keras counts the batch axis as 0
            if (d[i] < 0 || d[i] >= dims.length || seen[d[i]]) throw l.error("dims " + Arrays.toString(dims) + " is not a permutation of 1.." + dims.length);
            seen[d[i]] = true;
        }
        // No IR node: only the relation between the IR tensor and the Keras tensor changes.
        return new Ref(in.node(), in.shape(), AxisOrder.compose(in.order(), d));
    }

    private Ref zeroPad(KerasLayerConfig l, Ref input) {
        Ref in = ensureImage(l, input, channelsFirst(l));
        int top, bottom, left, right;
        JsonNode p = l.field("padding");
        if (p == null) {
            top = bottom = left = right = 1;
        } else if (p.isNumber()) {
            top = bottom = left = right = l.strictInt(p, "config.padding");
        } else if (p.isObject()) { // Keras 1 dict form; an absent side is 0
            top = p.has("top_pad") ? l.strictInt(p.get("top_pad"), "config.padding.top_pad") : 0;
            bottom = p.has("bottom_pad") ? l.strictInt(p.get("bottom_pad"), "config.padding.bottom_pad") : 0;
            left = p.has("left_pad") ? l.strictInt(p.get("left_pad"), "config.padding.left_pad") : 0;
            right = p.has("right_pad") ? l.strictInt(p.get("right_pad"), "config.padding.right_pad") : 0;
        } else if (p.isArray() && p.size() == 2 && p.get(0).isArray()) { // ((top, bottom), (left, right))
            for (JsonNode pair : p)
                if (!pair.isArray() || pair.size() != 2)
                    throw l.error("padding " + p + " is not ((top, bottom), (left, right))");
            top = l.strictInt(p.get(0).get(0), "config.padding[0][0]");
            bottom = l.strictInt(p.get(0).get(1), "config.padding[0][1]");
            left = l.strictInt(p.get(1).get(0), "config.padding[1][0]");
            right = l.strictInt(p.get(1).get(1), "config.padding[1][1]");
        } else if (p.isArray() && p.size() == 2) { // (rows, cols), symmetric
            top = bottom = l.strictInt(p.get(0), "config.padding[0]");
            left = right = l.strictInt(p.get(1), "config.padding[1]");
        } else if (p.isArray() && p.size() == 4) { // Keras 1: (top, bottom, left, right)
            top = l.strictInt(p.get(0), "config.padding[0]");
            bottom = l.strictInt(p.get(1), "config.padding[1]");
            left = l.strictInt(p.get(2), "config.padding[2]");
            right = l.strictInt(p.get(3), "config.padding[3]");
        } else {
            throw l.error("padding " + p + " is not in any form Keras writes");
        }
        if (top < 0 || bottom < 0 || left < 0 || right < 0) throw l.error("negative padding " + p);
        return add(l, new ZeroPad2D(l.name(), top, left, bottom, right), List.of(in), in.order());
    }

    private Ref add(KerasLayerConfig l, List<Ref> in) {
        Ref shifted = channelBroadcast(l, in, false);
        if (shifted != null) return shifted;
        List<Ref> common = commonOrder(l, in);
        return add(l, new Add(l.name()), common, common.get(0).order());
    }

    private Ref multiply(KerasLayerConfig l, List<Ref> in) {
        Ref gated = channelBroadcast(l, in, true);
        if (gated != null) return gated;
        List<Ref> common = commonOrder(l, in);
        return add(l, new Multiply(l.name()), common, common.get(0).order());
    }

    /**
     * Multiply([x, gate]) or Add([x, shift]) (either order) of an image x, (H, W, C) channels_last
     * or (C, H, W) channels_first, and a per-channel tensor (1, 1, C) or (C, 1, 1), which Keras'
     * merge layers broadcast. Multiply is squeeze-and-excitation, as Keras' EfficientNet and
     * MobileNetV3 write it, gate from GlobalAveragePooling2D(keepdims=True) or a Reshape((1, 1, C));
     * Add the same shapes summed (a per-channel shift). Both inputs are put in the IR's
     * [C, H, W] / [C, 1, 1] layout and joined by one broadcasting Multiply or Add. Null when the
     * inputs have one shape (the plain product or sum); other shapes are refused naming the layer
     * and its inputs' shapes.
     */
    private Ref channelBroadcast(KerasLayerConfig l, List<Ref> in, boolean multiply) {
        boolean same = true;
        for (Ref r : in) same &= Arrays.equals(r.kerasDims(), in.get(0).kerasDims());
        if (same) return null;
        if (in.size() == 2 && in.get(0).rank() == 3 && in.get(1).rank() == 3) {
            for (int g = 0; g < 2; g++) {
                int[] per = in.get(g).kerasDims(), map = in.get(1 - g).kerasDims();
                int[] order = null;
                if (per[0] == 1 && per[1] == 1 && per[2] == map[2]) order = AxisOrder.CHANNELS_LAST;
                else if (per[1] == 1 && per[2] == 1 && per[0] == map[0]) order = AxisOrder.identity(3);
                if (order == null) continue;
                List<Ref> ordered = new ArrayList<>();
                for (Ref r : in) ordered.add(ensureOrder(r, order, l.name()));
                return add(l, multiply ? new Multiply(l.name()) : new Add(l.name()), ordered, order);
            }
        }
        if (multiply)
            throw l.error("multiplies inputs of shapes " + describe(in) + ", which Shears does not broadcast; it multiplies inputs of"
                    + " one shape, or an image (H, W, C) by a per-channel gate (1, 1, C) (channels_first: (C, H, W) by (C, 1, 1)),"
                    + " the squeeze-and-excitation pattern");
        throw l.error("adds inputs of shapes " + describe(in) + ", which Shears does not broadcast; it adds inputs of"
                + " one shape, or an image (H, W, C) and a per-channel tensor (1, 1, C) (channels_first: (C, H, W) and (C, 1, 1))");
    }

    private Ref concat(KerasLayerConfig l, List<Ref> in, int axis) {
        List<Ref> common = commonOrder(l, in);
        int rank = common.get(0).rank();
        int k = axis < 0 ? axis + rank : axis - 1;
        if (k < 0 || k >= rank) throw l.error("axis " + axis + " is out of range for rank-" + rank + " inputs");
        int irAxis = common.get(0).order()[k];
        return add(l, new Concat(l.name(), irAxis), common, common.get(0).order());
    }

    private Ref merge(KerasLayerConfig l, List<Ref> in) {
        String mode = l.stringOr("sum", "mode");
        return switch (mode) {
            case "sum" -> add(l, in);
            case "mul" -> multiply(l, in);
            case "concat" -> concat(l, in, l.intOr(-1, "concat_axis"));
            default -> throw l.unsupported("Merge mode '" + mode + "' is not supported", List.of("sum", "mul", "concat"));
        };
    }

    /** The inputs with one shared axis order (their own when they agree, else the Keras order). */
    private List<Ref> commonOrder(KerasLayerConfig l, List<Ref> in) {
        if (in.size() < 2) throw l.error("a merge layer needs at least two inputs, got " + in.size());
        boolean same = true;
        for (Ref r : in) same &= Arrays.equals(r.order(), in.get(0).order());
        if (same) return in;
        List<Ref> out = new ArrayList<>();
        for (Ref r : in) out.add(ensureOrder(r, AxisOrder.identity(r.rank()), l.name()));
        return out;
    }

    // ------------------------------------------------------------------ helpers

    private boolean channelsFirst(KerasLayerConfig l) {
        String df = l.stringOr(null, "data_format");
        if (df != null) {
            return switch (df) {
                case "channels_first" -> true;
                case "channels_last" -> false;
                default -> throw l.unsupported("data_format '" + df + "'", List.of("channels_last", "channels_first"));
            };
        }
        String dim = l.stringOr(null, "dim_ordering");
        if (dim != null) {
            return switch (dim) {
                case "th" -> true;
                case "tf", "default" -> false; // 'default' meant keras.json's value, 'tf' since Keras 1.1
                default -> throw l.unsupported("dim_ordering '" + dim + "'", List.of("th", "tf"));
            };
        }
        return false;
    }

    /** An image input in the layout the IR needs: [C, H, W] with the Keras tensor NCHW or NHWC. */
    private Ref ensureImage(KerasLayerConfig l, Ref in, boolean channelsFirst) {
        if (in.rank() != 3)
            throw l.error("expects an image input (rank 3 per sample), got " + Arrays.toString(in.kerasDims()));
        return ensureOrder(in, channelsFirst ? AxisOrder.identity(3) : AxisOrder.CHANNELS_LAST, l.name());
    }

    /** The same Keras tensor held by an IR tensor with the given order, adding a Permute if needed. */
    private Ref ensureOrder(Ref r, int[] order, String consumer) {
        if (Arrays.equals(r.order(), order)) return r;
        String key = r.node() + Arrays.toString(r.order()) + Arrays.toString(order);
        Ref cached = permuteCache.get(key);
        if (cached != null) return cached;
        // New IR axis j = old IR axis r.order[inverse(order)[j]], so that Keras axis i = new IR axis order[i].
        int[] perm = AxisOrder.compose(r.order(), AxisOrder.inverse(order));
        String suffix = Arrays.equals(order, AxisOrder.CHANNELS_LAST) ? "_to_nchw" : AxisOrder.isIdentity(order) ? "_to_keras_order" : "_permute";
        Permute p = new Permute(names.fresh(consumer + suffix), perm);
        Shape shape = p.outputShape(List.of(r.shape()));
        mb.add(p, r.node());
        Ref out = new Ref(p.name(), shape, order.clone());
        permuteCache.put(key, out);
        return out;
    }

    private Ref add(KerasLayerConfig l, Layer layer, List<Ref> in, int[] order) {
        List<Shape> shapes = new ArrayList<>();
        List<String> srcs = new ArrayList<>();
        for (Ref r : in) {
            shapes.add(r.shape());
            srcs.add(r.node());
        }
        Shape out;
        try {
            out = layer.outputShape(shapes);
        } catch (IllegalArgumentException e) {
            throw l.error("does not fit its input " + describe(in) + ": " + e.getMessage());
        }
        mb.add(layer, srcs);
        names.add(layer.name());
        return new Ref(layer.name(), out, order.clone());
    }

    private static String describe(List<Ref> in) {
        List<String> s = new ArrayList<>();
        for (Ref r : in) s.add(Arrays.toString(r.kerasDims()));
        return String.join(", ", s);
    }

    /** Explicit pads {before, after} for one axis: 0 for 'valid', TensorFlow's rule for 'same'. */
    private static int[] pads(KerasLayerConfig l, int in, int k, int stride, int dilation) {
        String mode = l.stringOr("valid", "padding", "border_mode");
        return switch (mode) {
            case "valid" -> new int[]{0, 0};
            case "same" -> ConvGeometry.samePadding(in, k, stride, dilation);
            default -> throw l.unsupported("padding '" + mode + "'", List.of("valid", "same"));
        };
    }

    /** The stored weights of a layer by role; fails when the file's weights do not fit the config. */
    private Map<String, StoredWeight> weightsFor(KerasLayerConfig l, List<String> roles) {
        return weightsFor(l, roles, Map.of());
    }

    /** {@link #weightsFor(KerasLayerConfig, List)} where a stored name's role {@code r} counts as {@code alias.get(r)}. */
    private Map<String, StoredWeight> weightsFor(KerasLayerConfig l, List<String> roles, Map<String, String> alias) {
        List<StoredWeight> stored = weights.forLayer(l.name());
        layersWithWeights.add(l.name());
        if (stored.isEmpty())
            throw new ImportException(l.className() + " layer: the weights file " + weights.file() + " holds no weights for this layer "
                    + "(it has layers " + weights.layerNames() + "); is it the weights file of this model?", file, l.name());
        if (stored.size() != roles.size())
            throw mismatch(l.className() + " layer: the weights file stores " + stored.size() + " arrays " + stored
                    + " but the config needs " + roles.size() + " " + roles + " (check use_bias / center / scale)", l.name());
        Map<String, StoredWeight> out = new HashMap<>();
        boolean named = stored.stream().allMatch(w -> w.role() != null);
        for (int i = 0; i < stored.size(); i++) {
            StoredWeight w = stored.get(i);
            String role = named ? alias.getOrDefault(w.role(), w.role()) : roles.get(i);
            if (out.put(role, w) != null)
                throw mismatch(l.className() + " layer: two stored weights are a " + role + ": " + stored, l.name());
        }
        for (String r : roles)
            if (!out.containsKey(r))
                throw mismatch(l.className() + " layer: no stored weight is a " + r + " (stored: " + stored + ")", l.name());
        return out;
    }

    /**
     * A disagreement between the model config and the weights: either file may be the damaged or
     * wrong one, so the error names the weights file and, when the config came from another file
     * (a config JSON beside its weights .h5), that one too.
     */
    private ImportException mismatch(String message, String layer) {
        Path wf = weights.file();
        return new ImportException(message + (wf.startsWith(file) ? "" : " (model config: " + file + ")"), wf, layer);
    }

    private float[] expect(KerasLayerConfig l, StoredWeight w, int[] dims, String meaning) {
        if (!Arrays.equals(w.shape(), dims))
            throw mismatch(l.className() + " layer: weight '" + w.name() + "' has shape " + Arrays.toString(w.shape())
                    + " but the config needs " + Arrays.toString(dims) + " " + meaning
                    + "; the weights do not belong to this config", l.name());
        return w.data();
    }

    private void checkAllWeightsUsed(KerasModelConfig cfg) {
        Set<String> configured = new HashSet<>();
        for (KerasLayerConfig l : cfg.layers()) configured.add(l.name());
        for (String name : weights.layerNames()) {
            if (configured.contains(name) || layersWithWeights.contains(name)) continue;
            if (!weights.forLayer(name).isEmpty())
                throw mismatch("the weights file has weights for layer '" + name + "', which the model config does not have; "
                        + "config and weights do not belong together", name);
        }
        for (KerasLayerConfig l : cfg.layers()) {
            if (layersWithWeights.contains(l.name())) continue;
            List<StoredWeight> stray = weights.forLayer(l.name());
            if (!stray.isEmpty())
                throw mismatch(l.className() + " layer: the weights file stores " + stray + " for it, but Shears' "
                        + l.className() + " has no weights; config and weights do not belong together", l.name());
        }
    }
}
