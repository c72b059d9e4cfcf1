package dev.shears.pruning.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.core.backend.Activation;
import dev.shears.core.nn.Layer;
import dev.shears.core.nn.layers.*;
import dev.shears.core.tensor.Shape;
import dev.shears.core.util.StrictJson;

/** Writes each IR layer's configuration as JSON and reads it back (the checkpoint's model.json). */
final class LayerCodec {
    private LayerCodec() {}

    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    static ObjectNode config(Layer layer) {
        ObjectNode c = F.objectNode();
        switch (layer) {
            case Dense d -> c.put("in", d.inFeatures()).put("out", d.outFeatures()).put("bias", d.bias() != null);
            case Conv2D v -> c.put("in", v.inChannels()).put("out", v.outChannels()).put("kh", v.kernelH()).put("kw", v.kernelW())
                    .put("sh", v.strideH()).put("sw", v.strideW()).put("pt", v.padTop()).put("pl", v.padLeft())
                    .put("pb", v.padBottom()).put("pr", v.padRight()).put("dh", v.dilationH()).put("dw", v.dilationW())
                    .put("groups", v.groups()).put("bias", v.bias() != null);
            case MaxPool2D p -> c.put("kh", p.kernelH()).put("kw", p.kernelW()).put("sh", p.strideH()).put("sw", p.strideW())
                    .put("pt", p.padTop()).put("pl", p.padLeft()).put("pb", p.padBottom()).put("pr", p.padRight()).put("ceil", p.ceilMode());
            case AvgPool2D p -> c.put("kh", p.kernelH()).put("kw", p.kernelW()).put("sh", p.strideH()).put("sw", p.strideW())
                    .put("pt", p.padTop()).put("pl", p.padLeft()).put("pb", p.padBottom()).put("pr", p.padRight()).put("ceil", p.ceilMode())
                    .put("countIncludePad", p.countIncludePad());
            case GlobalAvgPool2D g -> c.put("keepDims", g.keepDims());
            case GlobalMaxPool2D g -> c.put("keepDims", g.keepDims());
            case BatchNorm b -> c.put("channels", b.channels()).put("epsilon", b.epsilon()).put("momentum", b.momentum());
            case ActivationLayer a -> {
                c.put("function", a.function().name()).put("alpha", a.alpha());
                if (a.function() == Activation.HARD_SIGMOID) c.put("beta", a.beta()); // alpha is its slope, beta its offset
            }
            case PReLU p -> c.set("slopeShape", ints(p.slope().shape().dims()));
            case Softmax s -> c.put("log", s.log());
            case Flatten f -> { }
            case Reshape r -> c.set("target", ints(r.target().dims()));
            case Permute p -> c.set("perm", ints(p.perm()));
            case ZeroPad2D z -> c.put("top", z.top()).put("left", z.left()).put("bottom", z.bottom()).put("right", z.right());
            case Dropout d -> c.put("rate", d.rate());
            case Add a -> { }
            case Multiply m -> { }
            case Concat k -> c.put("axis", k.axis());
            case LRN l -> c.put("size", l.size()).put("alpha", l.alpha()).put("beta", l.beta()).put("bias", l.bias());
            case Identity i -> { }
            case Rescale r -> c.put("scale", r.scale()).put("offset", r.offset());
            default -> throw new UnsupportedOperationException("checkpoint cannot store layer type " + layer.type()
                    + " (" + layer.getClass().getName() + "); add it to LayerCodec");
        }
        return c;
    }

    /** The layer {@code name} of {@code type} from its config {@code c}, found at {@code path} in model.json (for errors). */
    static Layer layer(String name, String type, JsonNode c, String path) {
        return switch (type) {
            case "Dense" -> new Dense(name, i(c, path, "in"), i(c, path, "out"), b(c, path, "bias"));
            case "Conv2D" -> new Conv2D(name, i(c, path, "in"), i(c, path, "out"), i(c, path, "kh"), i(c, path, "kw"), i(c, path, "sh"), i(c, path, "sw"),
                    i(c, path, "pt"), i(c, path, "pl"), i(c, path, "pb"), i(c, path, "pr"), i(c, path, "dh"), i(c, path, "dw"), i(c, path, "groups"), b(c, path, "bias"));
            case "MaxPool2D" -> new MaxPool2D(name, i(c, path, "kh"), i(c, path, "kw"), i(c, path, "sh"), i(c, path, "sw"), i(c, path, "pt"), i(c, path, "pl"),
                    i(c, path, "pb"), i(c, path, "pr"), b(c, path, "ceil"));
            case "AvgPool2D" -> new AvgPool2D(name, i(c, path, "kh"), i(c, path, "kw"), i(c, path, "sh"), i(c, path, "sw"), i(c, path, "pt"), i(c, path, "pl"),
                    i(c, path, "pb"), i(c, path, "pr"), b(c, path, "ceil"), b(c, path, "countIncludePad"));
            case "GlobalAvgPool2D" -> new GlobalAvgPool2D(name, b(c, path, "keepDims"));
            case "GlobalMaxPool2D" -> new GlobalMaxPool2D(name, b(c, path, "keepDims"));
            case "BatchNorm" -> new BatchNorm(name, i(c, path, "channels"), f(c, path, "epsilon"), f(c, path, "momentum"));
            case "Activation" -> activationLayer(name, c, path);
            case "PReLU" -> new PReLU(name, Shape.of(ints(c.get("slopeShape"), path + ".slopeShape")));
            case "Softmax", "LogSoftmax" -> new Softmax(name, b(c, path, "log"));
            case "Flatten" -> new Flatten(name);
            case "Reshape" -> new Reshape(name, Shape.of(ints(c.get("target"), path + ".target")));
            case "Permute" -> new Permute(name, ints(c.get("perm"), path + ".perm"));
            case "ZeroPad2D" -> new ZeroPad2D(name, i(c, path, "top"), i(c, path, "left"), i(c, path, "bottom"), i(c, path, "right"));
            case "Dropout" -> new Dropout(name, f(c, path, "rate"));
            case "Add" -> new Add(name);
            case "Multiply" -> new Multiply(name);
            case "Concat" -> new Concat(name, i(c, path, "axis"));
            case "LRN" -> new LRN(name, i(c, path, "size"), f(c, path, "alpha"), f(c, path, "beta"), f(c, path, "bias"));
            case "Identity" -> new Identity(name);
            case "Rescale" -> new Rescale(name, f(c, path, "scale"), f(c, path, "offset"));
            default -> throw new IllegalArgumentException("unknown layer type '" + type + "' for layer '" + name
                    + "' (written by a newer Shears?)");
        };
    }

    private static int i(JsonNode c, String path, String k) {
        return StrictJson.intField(c, path, k);
    }

    /** A float field: a JSON number in float range (text such as "0.9" was read as 0.0 by a loose reader). */
    private static float f(JsonNode c, String path, String k) {
        return StrictJson.floatField(c, path, k);
    }

    /** A boolean field: JSON true or false ("yes" or 1 was read as false by asBoolean()). */
    private static boolean b(JsonNode c, String path, String k) {
        return StrictJson.booleanField(c, path, k);
    }

    /**
     * An Activation layer. HARD_SIGMOID has had its offset in {@code beta} since it took parameters;
     * a file from before has none and slope 0 (or 0.2): Keras 2's 0.2, 0.5, as it computed then.
     */
    private static ActivationLayer activationLayer(String name, JsonNode c, String path) {
        Activation fn = activation(c, path);
        float alpha = f(c, path, "alpha");
        if (fn == Activation.HARD_SIGMOID && !c.has("beta")) {
            if (alpha != 0f && alpha != Activation.HARD_SIGMOID_SLOPE)
                throw new IllegalArgumentException("'" + StrictJson.join(path, "beta") + "' is missing: a HARD_SIGMOID with slope " + alpha
                        + " needs its offset (files from before hard sigmoid took parameters have slope 0, Keras 2's 0.2x + 0.5)");
            return new ActivationLayer(name, fn, Activation.HARD_SIGMOID_SLOPE, Activation.HARD_SIGMOID_OFFSET);
        }
        return new ActivationLayer(name, fn, alpha, fn == Activation.HARD_SIGMOID ? f(c, path, "beta") : 0f);
    }

    private static Activation activation(JsonNode c, String path) {
        String s = StrictJson.textField(c, path, "function");
        try {
            return Activation.valueOf(s);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + StrictJson.join(path, "function") + "' is \"" + s + "\", expected one of "
                    + java.util.Arrays.toString(Activation.values()));
        }
    }

    static com.fasterxml.jackson.databind.node.ArrayNode ints(int[] v) {
        var a = F.arrayNode();
        for (int x : v) a.add(x);
        return a;
    }

    /** An integer array of model.json at {@code path}, each entry strict (asInt() would read "x" as 0: a damaged dimension must not pass as a value). */
    static int[] ints(JsonNode a, String path) {
        return StrictJson.toInts(a, path);
    }
}
