package dev.shears.io.keras;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.core.backend.Activation;
import dev.shears.core.backend.Backend;
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
import java.util.List;
import java.util.Map;

/**
 * Translates a bound IR model into a Keras 2 Functional model config and the weights each Keras
 * layer stores, the mirror of {@link KerasGraphBuilder}. Image layers are written channels_last
 * (what TensorFlow runs on the CPU): each IR tensor is tracked with the axis order relating it to
 * the Keras tensor written for it, and a Keras Permute is written only where a layer needs
 * another order; IR Permute nodes write nothing. The model's inputs and output keep the IR's
 * layout, so the Keras model computes exactly what the IR does.
 */
final class KerasConfigWriter {

    /** The Keras 3 activation name written for Shears' HARD_SWISH (Keras 2 has none, so a Keras 2 target refuses it). */
    static final String HARD_SWISH_NAME = "hard_silu";

    /**
     * The Keras version a config is written for: what it can hold differs (Keras 2 has no hard
     * swish), so the writer refuses what the target cannot hold where it writes it, before any file
     * is written. The config itself is Keras 2's spelling either way; {@link Keras3Config} rewrites it
     * for an archive.
     */
    enum Target {
        /** Keras 2 (tf.keras) full-model HDF5, {@link KerasExporter#exportHdf5} */
        KERAS2_HDF5,
        /** Keras 3 {@code .keras} archive, {@link KerasArchiveExporter} */
        KERAS3_ARCHIVE
    }

    static final List<String> SUPPORTED = List.of("Dense", "Conv2D", "MaxPool2D", "AvgPool2D", "GlobalAvgPool2D", "GlobalMaxPool2D", "BatchNorm",
            "Activation", "Softmax", "LogSoftmax", "PReLU", "Dropout", "Rescale", "Flatten", "Reshape", "Permute", "ZeroPad2D", "Add",
            "Multiply", "Concat", "Identity");

    /** One stored array: its dataset name inside the layer's group ({@code kernel:0}) and Keras-layout data. */
    record WeightArray(String name, int[] dims, float[] data) {}

    /** A Keras layer's name and its weights in Keras' order. */
    record LayerWeights(String layer, List<WeightArray> weights) {}

    /**
     * One Keras layer as written, independent of the Keras version's config syntax.
     *
     * @param className  the Keras class ({@code Dense}, {@code Conv2D}, ...)
     * @param name       the layer's unique name
     * @param config     the class-specific config entries (Keras 2 spelling; no name/trainable/dtype)
     * @param inputs     the layers it reads, in argument order
     * @param inputDims  the Keras per-sample shape of each input (batch left out)
     * @param weights    its weights in Keras' variable order
     */
    record KerasLayer(String className, String name, ObjectNode config, List<String> inputs, List<int[]> inputDims,
                      List<WeightArray> weights) {}

    /** The Keras tensor standing for an IR tensor: Keras layer {@code layer}; Keras axis i = IR axis order[i]. */
    private record KRef(String layer, Shape irShape, int[] order) {
        int[] kerasDims() { return AxisOrder.permuteDims(irShape.dims(), order); }
        int rank() { return irShape.rank(); }
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Model model;
    private final Backend backend;
    private final Path target;
    private final Target format;
    private final ArrayNode layers = JSON.createArrayNode();
    private final List<LayerWeights> weights = new ArrayList<>();
    private final Map<String, KRef> refs = new HashMap<>();
    private final Map<String, KRef> permuteCache = new HashMap<>();
    private final UniqueNames names = new UniqueNames();
    private final Map<String, String> irToKerasName = new HashMap<>();
    private final List<KerasLayer> written = new ArrayList<>();
    private final List<String> inputLayerNames = new ArrayList<>();
    private String outputLayerName;

    /**
     * @param target the file being written, for error messages
     * @param format the Keras version it is written for
     */
    KerasConfigWriter(Model model, Path target, Target format) {
        if (model.backend() == null) throw new IllegalStateException("the model is not bound to a backend: bind it before exporting");
        this.model = model;
        this.backend = model.backend();
        this.target = target;
        this.format = java.util.Objects.requireNonNull(format, "format");
    }

    List<LayerWeights> weights() { return weights; }

    /** Every layer written, in config order (after {@link #write}). */
    List<KerasLayer> layers() { return written; }

    /** The InputLayers' names in the model's input order (after {@link #write}). */
    List<String> inputLayers() { return inputLayerNames; }

    /** The layer whose output is the model's output (after {@link #write}). */
    String outputLayer() { return outputLayerName; }

    /** The model config, as {@code model.to_json()} writes it. */
    ObjectNode write() {
        for (Model.Input in : model.inputs()) kerasName(in.name());
        for (Model.Node n : model.nodes()) kerasName(n.name());
        ArrayNode inputLayers = JSON.createArrayNode();
        for (Model.Input in : model.inputs()) {
            String name = kerasName(in.name());
            ObjectNode cfg = JSON.createObjectNode();
            ArrayNode shape = cfg.putArray("batch_input_shape").addNull();
            for (int d : in.shape().dims()) shape.add(d);
            cfg.put("dtype", "float32").put("sparse", false);
            emit("InputLayer", name, cfg, List.of(), List.of());
            refs.put(in.name(), new KRef(name, in.shape(), AxisOrder.identity(in.shape().rank())));
            inputLayers.addArray().add(name).add(0).add(0);
            inputLayerNames.add(name);
        }
        for (Model.Node n : model.nodes()) {
            List<KRef> in = new ArrayList<>();
            for (String src : n.inputs()) in.add(refs.get(src));
            refs.put(n.name(), translate(n.layer(), in));
        }
        KRef out = ensure(refs.get(model.outputName()), AxisOrder.identity(model.outputShape().rank()), model.outputName());
        outputLayerName = out.layer();
        ObjectNode root = JSON.createObjectNode();
        root.put("class_name", "Model");
        ObjectNode config = root.putObject("config");
        config.put("name", "shears_model");
        config.set("layers", layers);
        config.set("input_layers", inputLayers);
        config.putArray("output_layers").addArray().add(out.layer()).add(0).add(0);
        root.put("keras_version", KerasExporter.KERAS_VERSION);
        root.put("backend", "tensorflow");
        return root;
    }

    private KRef translate(Layer layer, List<KRef> in) {
        String name = irToKerasName.get(layer.name());
        return switch (layer) {
            case Dense d -> dense(d, name, in.get(0));
            case Conv2D c -> conv(c, name, in.get(0));
            case MaxPool2D p -> pool(layer, name, in.get(0), true, p.kernelH(), p.kernelW(), p.strideH(), p.strideW(),
                    new int[]{p.padTop(), p.padLeft(), p.padBottom(), p.padRight()}, p.ceilMode(), false);
            case AvgPool2D p -> pool(layer, name, in.get(0), false, p.kernelH(), p.kernelW(), p.strideH(), p.strideW(),
                    new int[]{p.padTop(), p.padLeft(), p.padBottom(), p.padRight()}, p.ceilMode(), p.countIncludePad());
            case GlobalAvgPool2D g -> globalPool(layer, "GlobalAveragePooling2D", g.keepDims(), name, in.get(0));
            case GlobalMaxPool2D g -> globalPool(layer, "GlobalMaxPooling2D", g.keepDims(), name, in.get(0));
            case BatchNorm b -> batchNorm(b, name, in.get(0));
            case ActivationLayer a -> activation(a, name, in.get(0));
            case Softmax s -> softmax(s, name, in.get(0));
            case PReLU p -> prelu(p, name, in.get(0));
            case Dropout d -> {
                emit("Dropout", name, JSON.createObjectNode().put("rate", d.rate()), List.of(in.get(0)), List.of());
                yield new KRef(name, in.get(0).irShape(), in.get(0).order());
            }
            case Rescale r -> {
                // element-wise, so any axis order will do: the input's is kept
                ObjectNode cfg = JSON.createObjectNode().put("scale", r.scale()).put("offset", r.offset());
                emit("Rescaling", name, cfg, List.of(in.get(0)), List.of());
                yield new KRef(name, in.get(0).irShape(), in.get(0).order());
            }
            case Flatten f -> {
                KRef x = ensure(in.get(0), AxisOrder.identity(in.get(0).rank()), name);
                emit("Flatten", name, JSON.createObjectNode(), List.of(x), List.of());
                yield new KRef(name, outShape(layer, x), AxisOrder.identity(1));
            }
            case Reshape r -> {
                KRef x = ensure(in.get(0), AxisOrder.identity(in.get(0).rank()), name);
                emit("Reshape", name, reshapeConfig(r.target()), List.of(x), List.of());
                yield new KRef(name, r.target(), AxisOrder.identity(r.target().rank()));
            }
            case Permute p -> {
                // Output axis j is input axis perm[j]: Keras axis i = input IR axis order[i] = output axis inverse(perm)[order[i]].
                KRef x = in.get(0);
                yield new KRef(x.layer(), outShape(layer, x), AxisOrder.compose(AxisOrder.inverse(p.perm()), x.order()));
            }
            case ZeroPad2D z -> {
                KRef x = image(in.get(0), name);
                emit("ZeroPadding2D", name, padConfig(z.top(), z.bottom(), z.left(), z.right()), List.of(x), List.of());
                yield new KRef(name, outShape(layer, x), x.order());
            }
            case Add a when in.size() == 2 && !in.get(0).irShape().equals(in.get(1).irShape()) -> {
                // a [C, 1, 1] per-channel tensor added to a [C, H, W] map: both channels_last, (1, 1, C)
                // and (H, W, C), which Keras' Add broadcasts as its Multiply does (the merge layers'
                // shared base class, in Keras 2 and 3)
                List<KRef> xs = List.of(image(in.get(0), name), image(in.get(1), name));
                emit("Add", name, JSON.createObjectNode(), xs, List.of());
                yield new KRef(name, layer.outputShape(List.of(xs.get(0).irShape(), xs.get(1).irShape())), AxisOrder.CHANNELS_LAST);
            }
            case Add a -> {
                List<KRef> xs = common(in, name);
                emit("Add", name, JSON.createObjectNode(), xs, List.of());
                yield new KRef(name, xs.get(0).irShape(), xs.get(0).order());
            }
            case Multiply mul when in.size() == 2 && !in.get(0).irShape().equals(in.get(1).irShape()) -> {
                // a [C, 1, 1] gate over a [C, H, W] map (squeeze-and-excitation): both channels_last,
                // (1, 1, C) and (H, W, C), which Keras' Multiply broadcasts
                List<KRef> xs = List.of(image(in.get(0), name), image(in.get(1), name));
                emit("Multiply", name, JSON.createObjectNode(), xs, List.of());
                yield new KRef(name, layer.outputShape(List.of(xs.get(0).irShape(), xs.get(1).irShape())), AxisOrder.CHANNELS_LAST);
            }
            case Multiply mul -> {
                List<KRef> xs = common(in, name);
                emit("Multiply", name, JSON.createObjectNode(), xs, List.of());
                yield new KRef(name, xs.get(0).irShape(), xs.get(0).order());
            }
            case Concat c -> {
                List<KRef> xs = common(in, name);
                int kerasAxis = AxisOrder.inverse(xs.get(0).order())[c.axis()] + 1;
                emit("Concatenate", name, JSON.createObjectNode().put("axis", kerasAxis), xs, List.of());
                List<Shape> shapes = new ArrayList<>();
                for (KRef x : xs) shapes.add(x.irShape());
                yield new KRef(name, c.outputShape(shapes), xs.get(0).order());
            }
            case Identity i -> in.get(0);
            default -> throw new ImportException("layer type " + layer.type() + " has no Keras equivalent Shears can write",
                    target, layer.name(), SUPPORTED, null);
        };
    }

    private KRef dense(Dense d, String name, KRef x) {
        ObjectNode cfg = JSON.createObjectNode().put("units", d.outFeatures()).put("activation", "linear").put("use_bias", d.bias() != null);
        List<WeightArray> w = new ArrayList<>();
        w.add(new WeightArray("kernel:0", new int[]{d.inFeatures(), d.outFeatures()}, values(d.kernel())));
        if (d.bias() != null) w.add(new WeightArray("bias:0", new int[]{d.outFeatures()}, values(d.bias())));
        emit("Dense", name, cfg, List.of(x), w);
        return new KRef(name, Shape.of(d.outFeatures()), AxisOrder.identity(1));
    }

    private KRef conv(Conv2D c, String name, KRef input) {
        KRef x = image(input, name);
        int h = x.irShape().dim(1), w = x.irShape().dim(2);
        int[] pads = {c.padTop(), c.padLeft(), c.padBottom(), c.padRight()};
        String padding = paddingMode(pads, h, w, c.kernelH(), c.kernelW(), c.strideH(), c.strideW(), c.dilationH(), c.dilationW());
        if (padding == null) { // asymmetric or oversized padding: an explicit ZeroPadding2D, then 'valid'
            x = zeroPad(x, name, pads);
            padding = "valid";
        }
        // one group per input channel is written as DepthwiseConv2D, not Conv2D with groups: TensorFlow
        // runs grouped Conv2D on the GPU only, in many versions, while DepthwiseConv2D runs everywhere
        if (c.depthwise()) return depthwise(c, name, x, padding, input.irShape());
        ObjectNode cfg = JSON.createObjectNode().put("filters", c.outChannels());
        cfg.putArray("kernel_size").add(c.kernelH()).add(c.kernelW());
        cfg.putArray("strides").add(c.strideH()).add(c.strideW());
        cfg.put("padding", padding).put("data_format", "channels_last");
        cfg.putArray("dilation_rate").add(c.dilationH()).add(c.dilationW());
        if (c.groups() != 1) cfg.put("groups", c.groups());
        cfg.put("activation", "linear").put("use_bias", c.bias() != null);
        int cin = c.inChannels() / c.groups();
        // IR [out, in, kh, kw] -> Keras (kh, kw, in, out)
        float[] kernel = AxisOrder.permuteData(values(c.kernel()), 1, new int[]{c.outChannels(), cin, c.kernelH(), c.kernelW()},
                new int[]{2, 3, 1, 0});
        List<WeightArray> wts = new ArrayList<>();
        wts.add(new WeightArray("kernel:0", new int[]{c.kernelH(), c.kernelW(), cin, c.outChannels()}, kernel));
        if (c.bias() != null) wts.add(new WeightArray("bias:0", new int[]{c.outChannels()}, values(c.bias())));
        emit("Conv2D", name, cfg, List.of(x), wts);
        return new KRef(name, outShape(c, input.irShape()), AxisOrder.CHANNELS_LAST);
    }

    /**
     * A depthwise Conv2D as DepthwiseConv2D: output channel c * multiplier + m of the grouped
     * convolution is Keras' (input channel c, multiplier m), so the IR kernel [out, 1, kh, kw] is
     * Keras' (kh, kw, in, multiplier) read as (kh, kw, out).
     */
    private KRef depthwise(Conv2D c, String name, KRef x, String padding, Shape inShape) {
        int in = c.inChannels(), mult = c.outChannels() / in;
        ObjectNode cfg = JSON.createObjectNode();
        cfg.putArray("kernel_size").add(c.kernelH()).add(c.kernelW());
        cfg.putArray("strides").add(c.strideH()).add(c.strideW());
        cfg.put("padding", padding).put("depth_multiplier", mult).put("data_format", "channels_last");
        cfg.putArray("dilation_rate").add(c.dilationH()).add(c.dilationW());
        cfg.put("activation", "linear").put("use_bias", c.bias() != null);
        float[] kernel = AxisOrder.permuteData(values(c.kernel()), 1, new int[]{c.outChannels(), c.kernelH(), c.kernelW()},
                new int[]{1, 2, 0});
        List<WeightArray> wts = new ArrayList<>();
        wts.add(new WeightArray("depthwise_kernel:0", new int[]{c.kernelH(), c.kernelW(), in, mult}, kernel));
        if (c.bias() != null) wts.add(new WeightArray("bias:0", new int[]{c.outChannels()}, values(c.bias())));
        emit("DepthwiseConv2D", name, cfg, List.of(x), wts);
        return new KRef(name, outShape(c, inShape), AxisOrder.CHANNELS_LAST);
    }

    /** GlobalAveragePooling2D / GlobalMaxPooling2D ({@code cls}); keepdims is written only when true, Keras' default being false. */
    private KRef globalPool(Layer layer, String cls, boolean keepDims, String name, KRef input) {
        KRef x = image(input, name);
        ObjectNode cfg = JSON.createObjectNode().put("data_format", "channels_last");
        if (keepDims) cfg.put("keepdims", true);
        emit(cls, name, cfg, List.of(x), List.of());
        return new KRef(name, outShape(layer, x), keepDims ? x.order() : AxisOrder.identity(1));
    }

    private KRef pool(Layer layer, String name, KRef input, boolean max, int kh, int kw, int sh, int sw, int[] pads,
                      boolean ceilMode, boolean countIncludePad) {
        KRef x = image(input, name);
        int c = x.irShape().dim(0), h = x.irShape().dim(1), w = x.irShape().dim(2);
        if (ceilMode) {
            ConvGeometry floor = new ConvGeometry(c, h, w, kh, kw, sh, sw, pads[0], pads[1], pads[2], pads[3], 1, 1, false);
            ConvGeometry ceil = new ConvGeometry(c, h, w, kh, kw, sh, sw, pads[0], pads[1], pads[2], pads[3], 1, 1, true);
            if (floor.outH() != ceil.outH() || floor.outW() != ceil.outW())
                throw new ImportException("ceil-mode pooling that adds an output row or column has no Keras equivalent", target, layer.name());
        }
        String padding = paddingMode(pads, h, w, kh, kw, sh, sw, 1, 1);
        boolean zero = Arrays.stream(pads).allMatch(p -> p == 0);
        if (!zero && !max && countIncludePad) {
            // Averages over windows that count the padding equal zero padding then a 'valid' pool.
            x = zeroPad(x, name, pads);
            padding = "valid";
        } else if (!zero && (padding == null || !padding.equals("same") || countIncludePad)) {
            throw new ImportException((max ? "max" : "average") + " pooling with padding " + Arrays.toString(pads)
                    + " (top, left, bottom, right) matches neither Keras 'valid' nor 'same'", target, layer.name());
        }
        ObjectNode cfg = JSON.createObjectNode();
        cfg.putArray("pool_size").add(kh).add(kw);
        cfg.putArray("strides").add(sh).add(sw);
        cfg.put("padding", padding).put("data_format", "channels_last");
        emit(max ? "MaxPooling2D" : "AveragePooling2D", name, cfg, List.of(x), List.of());
        return new KRef(name, outShape(layer, input.irShape()), AxisOrder.CHANNELS_LAST);
    }

    /** "valid" for no padding, "same" where the pads are TensorFlow's for this size, else null. */
    private static String paddingMode(int[] pads, int h, int w, int kh, int kw, int sh, int sw, int dh, int dw) {
        if (Arrays.stream(pads).allMatch(p -> p == 0)) return "valid";
        int[] ph = ConvGeometry.samePadding(h, kh, sh, dh), pw = ConvGeometry.samePadding(w, kw, sw, dw);
        if (pads[0] == ph[0] && pads[2] == ph[1] && pads[1] == pw[0] && pads[3] == pw[1]) return "same";
        return null;
    }

    private KRef zeroPad(KRef x, String consumer, int[] pads) {
        String name = names.fresh(consumer + "_pad");
        emit("ZeroPadding2D", name, padConfig(pads[0], pads[2], pads[1], pads[3]), List.of(x), List.of());
        Shape s = x.irShape();
        return new KRef(name, Shape.of(s.dim(0), s.dim(1) + pads[0] + pads[2], s.dim(2) + pads[1] + pads[3]), x.order());
    }

    private static ObjectNode padConfig(int top, int bottom, int left, int right) {
        ObjectNode cfg = JSON.createObjectNode();
        ArrayNode p = cfg.putArray("padding");
        p.addArray().add(top).add(bottom);
        p.addArray().add(left).add(right);
        cfg.put("data_format", "channels_last");
        return cfg;
    }

    private KRef batchNorm(BatchNorm b, String name, KRef x) {
        int axis = AxisOrder.inverse(x.order())[0] + 1; // where the IR channel axis sits in the Keras tensor, batch counted
        ObjectNode cfg = JSON.createObjectNode().put("axis", axis).put("momentum", b.momentum()).put("epsilon", b.epsilon())
                .put("center", true).put("scale", true);
        int[] dims = {b.channels()};
        emit("BatchNormalization", name, cfg, List.of(x), List.of(
                new WeightArray("gamma:0", dims, values(b.gamma())),
                new WeightArray("beta:0", dims, values(b.beta())),
                new WeightArray("moving_mean:0", dims, values(b.movingMean())),
                new WeightArray("moving_variance:0", dims, values(b.movingVariance()))));
        return new KRef(name, x.irShape(), x.order());
    }

    private KRef activation(ActivationLayer a, String name, KRef x) {
        ObjectNode cfg = JSON.createObjectNode();
        String cls = "Activation";
        switch (a.function()) {
            case LEAKY_RELU -> {
                cls = "LeakyReLU";
                cfg.put("alpha", a.alpha());
            }
            case ELU -> {
                if (a.alpha() == 1f) cfg.put("activation", "elu");
                else {
                    cls = "ELU";
                    cfg.put("alpha", a.alpha());
                }
            }
            case LINEAR -> cfg.put("activation", "linear");
            case RELU -> cfg.put("activation", "relu");
            case SIGMOID -> cfg.put("activation", "sigmoid");
            case TANH -> cfg.put("activation", "tanh");
            case SELU -> cfg.put("activation", "selu");
            case SOFTPLUS -> cfg.put("activation", "softplus");
            case SOFTSIGN -> cfg.put("activation", "softsign");
            case HARD_SIGMOID -> cfg.put("activation", hardSigmoidName(a, name));
            case RELU_CAPPED -> { // Keras' ReLU layer: min(max(x, 0), max_value) with slope 0 and threshold 0
                cls = "ReLU";
                cfg.put("max_value", a.alpha()).put("negative_slope", 0.0).put("threshold", 0.0);
            }
            case SWISH -> cfg.put("activation", "swish"); // Keras 2's name; Keras3Config writes Keras 3's silu
            case HARD_SWISH -> cfg.put("activation", hardSwishName(a, name));
        }
        emit(cls, name, cfg, List.of(x), List.of());
        return new KRef(name, x.irShape(), x.order());
    }

    /**
     * The activation name of a HARD_SIGMOID, decided by the target: {@code hard_sigmoid} is Keras 2's
     * clip(0.2x + 0.5, 0, 1) in an HDF5 file and Keras 3's relu6(x + 3) / 6 (slope 1/6, offset 0.5) in
     * an archive, so each target writes only its own and refuses the other's, naming the layer and
     * the format that holds it. Any other slope or offset is refused on both: Keras has no activation
     * for it, and the exact equivalent (a Rescaling layer then ReLU(max_value=1)) would not come back
     * into Shears as one layer.
     */
    private String hardSigmoidName(ActivationLayer a, String name) {
        boolean offsetHalf = a.beta() == Activation.HARD_SIGMOID_OFFSET;
        if (offsetHalf && a.alpha() == Activation.HARD_SIGMOID_SLOPE) {
            if (format == Target.KERAS2_HDF5) return "hard_sigmoid";
            throw new ImportException("hard sigmoid with slope 0.2, offset 0.5 (Keras 2's clip(0.2x + 0.5, 0, 1)) is not Keras 3's "
                    + "hard_sigmoid (relu6(x + 3) / 6: slope 1/6, offset 0.5), and Keras 3 has no activation for it; "
                    + "export this model as Keras HDF5 (.h5) or ONNX instead", target, name);
        }
        if (offsetHalf && a.alpha() == Activation.HARD_SIGMOID_SLOPE_SIXTH) {
            if (format == Target.KERAS3_ARCHIVE) return "hard_sigmoid";
            throw new ImportException("hard sigmoid with slope 1/6, offset 0.5 (relu6(x + 3) / 6, Keras 3's hard_sigmoid) is not Keras 2's "
                    + "hard_sigmoid (slope 0.2, offset 0.5), and Keras 2 has no activation for it; export this model as a Keras 3 "
                    + "archive (.keras) or ONNX instead", target, name);
        }
        throw new ImportException("hard sigmoid clip(" + a.alpha() + "x + " + a.beta() + ", 0, 1) (slope " + a.alpha() + ", offset " + a.beta()
                + ") has no Keras activation: Keras 2's hard_sigmoid is slope 0.2, offset 0.5 and Keras 3's is slope 1/6, offset 0.5; "
                + "export this model as ONNX instead (HardSigmoid takes any alpha and beta)", target, a.name());
    }

    /**
     * The activation name of a HARD_SWISH: Keras 3's {@code hard_silu}. Keras 2 has no hard swish
     * (Keras 3 added it), so a Keras 2 target refuses it here, naming the layer.
     */
    private String hardSwishName(ActivationLayer a, String name) {
        if (format == Target.KERAS3_ARCHIVE) return HARD_SWISH_NAME;
        throw new ImportException("Keras 2 (tf.keras HDF5) has no hard swish activation (Keras 3 added hard_silu); "
                + "export this model as a Keras 3 archive (.keras) or ONNX instead", target, name);
    }

    private KRef softmax(Softmax s, String name, KRef x) {
        String act = s.log() ? "log_softmax" : "softmax";
        int[] kd = x.kerasDims();
        if (x.irShape().size() == kd[kd.length - 1]) { // Keras' last-axis softmax is the IR's whole-sample one
            emit("Activation", name, JSON.createObjectNode().put("activation", act), List.of(x), List.of());
            return new KRef(name, x.irShape(), x.order());
        }
        // Otherwise: flatten the sample, normalise, and restore the shape.
        KRef plain = ensure(x, AxisOrder.identity(x.rank()), name);
        String flat = names.fresh(name + "_flat");
        emit("Reshape", flat, reshapeConfig(Shape.of(x.irShape().intSize())), List.of(plain), List.of());
        KRef f = new KRef(flat, Shape.of(x.irShape().intSize()), AxisOrder.identity(1));
        String sm = names.fresh(name + "_" + act);
        emit("Activation", sm, JSON.createObjectNode().put("activation", act), List.of(f), List.of());
        emit("Reshape", name, reshapeConfig(x.irShape()), List.of(new KRef(sm, f.irShape(), f.order())), List.of());
        return new KRef(name, x.irShape(), AxisOrder.identity(x.rank()));
    }

    private KRef prelu(PReLU p, String name, KRef x) {
        Shape slope = p.slope().shape();
        int[] kd = x.kerasDims();
        ObjectNode cfg = JSON.createObjectNode();
        float[] alpha;
        int[] alphaDims;
        if (slope.size() == x.irShape().size() && !(slope.rank() == 1 && x.rank() > 1)) { // one slope per element
            alpha = AxisOrder.permuteData(values(p.slope()), 1, x.irShape().dims(), x.order());
            alphaDims = kd;
        } else { // per channel: shared over every Keras axis but the channel one
            int channelAxis = AxisOrder.inverse(x.order())[0];
            ArrayNode shared = cfg.putArray("shared_axes");
            alphaDims = new int[kd.length];
            for (int i = 0; i < kd.length; i++) {
                alphaDims[i] = i == channelAxis ? kd[i] : 1;
                if (i != channelAxis) shared.add(i + 1);
            }
            alpha = values(p.slope());
        }
        emit("PReLU", name, cfg, List.of(x), List.of(new WeightArray("alpha:0", alphaDims, alpha)));
        return new KRef(name, x.irShape(), x.order());
    }

    private static ObjectNode reshapeConfig(Shape target) {
        ObjectNode cfg = JSON.createObjectNode();
        ArrayNode t = cfg.putArray("target_shape");
        for (int d : target.dims()) t.add(d);
        return cfg;
    }

    /** The inputs with one shared order: theirs when they agree, else the plain Keras order. */
    private List<KRef> common(List<KRef> in, String consumer) {
        boolean same = in.stream().allMatch(r -> Arrays.equals(r.order(), in.get(0).order()));
        if (same) return in;
        List<KRef> out = new ArrayList<>();
        for (KRef r : in) out.add(ensure(r, AxisOrder.identity(r.rank()), consumer));
        return out;
    }

    private KRef image(KRef x, String consumer) {
        if (x.rank() != 3) throw new ImportException("expects an image [C, H, W], got " + x.irShape(), target, consumer);
        return ensure(x, AxisOrder.CHANNELS_LAST, consumer);
    }

    /** The same IR tensor written in another Keras order, through a Keras Permute layer when needed. */
    private KRef ensure(KRef r, int[] order, String consumer) {
        if (Arrays.equals(r.order(), order)) return r;
        String key = r.layer() + Arrays.toString(r.order()) + Arrays.toString(order);
        KRef cached = permuteCache.get(key);
        if (cached != null) return cached;
        // New Keras axis i = IR axis order[i] = old Keras axis inverse(r.order)[order[i]].
        int[] d = AxisOrder.compose(AxisOrder.inverse(r.order()), order);
        String name = names.fresh(consumer + "_permute");
        ObjectNode cfg = JSON.createObjectNode();
        ArrayNode dims = cfg.putArray("dims");
        for (int v : d) dims.add(v + 1);
        emit("Permute", name, cfg, List.of(r), List.of());
        KRef out = new KRef(name, r.irShape(), order.clone());
        permuteCache.put(key, out);
        return out;
    }

    private void emit(String cls, String name, ObjectNode cfg, List<KRef> inputs, List<WeightArray> w) {
        List<String> from = new ArrayList<>();
        List<int[]> dims = new ArrayList<>();
        for (KRef r : inputs) {
            from.add(r.layer());
            dims.add(r.kerasDims());
        }
        written.add(new KerasLayer(cls, name, cfg.deepCopy(), List.copyOf(from), List.copyOf(dims), List.copyOf(w)));
        cfg.put("name", name);
        cfg.put("trainable", true);
        cfg.put("dtype", "float32");
        ObjectNode layer = layers.addObject();
        layer.put("name", name);
        layer.put("class_name", cls);
        layer.set("config", cfg);
        ArrayNode nodes = layer.putArray("inbound_nodes");
        if (!inputs.isEmpty()) {
            ArrayNode node = nodes.addArray();
            for (KRef r : inputs) node.addArray().add(r.layer()).add(0).add(0).addObject();
        }
        weights.add(new LayerWeights(name, w));
    }

    private Shape outShape(Layer layer, KRef in) { return outShape(layer, in.irShape()); }

    private static Shape outShape(Layer layer, Shape in) { return layer.outputShape(List.of(in)); }

    private float[] values(Parameter p) {
        if (p.value() == null) throw new IllegalStateException("parameter " + p.name() + " has no value: bind the model first");
        return backend.download(p.value());
    }

    /** A Keras/HDF5-safe, unique layer name for an IR node ('/' would nest HDF5 groups). */
    private String kerasName(String irName) {
        String existing = irToKerasName.get(irName);
        if (existing != null) return existing;
        String base = irName.replaceAll("[^A-Za-z0-9_.\\-]", "_");
        if (base.isEmpty() || base.equals(".") || base.equals("..")) base = "layer";
        String n = names.fresh(base);
        irToKerasName.put(irName, n);
        return n;
    }
}
