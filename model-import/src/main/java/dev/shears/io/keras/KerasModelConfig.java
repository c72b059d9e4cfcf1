package dev.shears.io.keras;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.core.util.StrictJson;
import dev.shears.io.ImportException;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A Keras model config parsed into layers in topological order, input layers and the output
 * layer. Reads every shape the config has had:
 * <ul>
 *   <li>Sequential, Keras 1 and Keras 2 &lt; 2.2.3: {@code "config": [layer, ...]};</li>
 *   <li>Sequential, later Keras 2 and Keras 3: {@code "config": {"name":..., "layers": [...]}},
 *       where the first layer may be an {@code InputLayer};</li>
 *   <li>Functional ({@code Model} / {@code Functional}): layers with {@code inbound_nodes}, in the
 *       Keras 1/2 form {@code [[["dense_1", 0, 0, {}], ...]]} or the Keras 3 form
 *       {@code [{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["dense_1", 0, 0]}}], "kwargs": {}}]}.</li>
 * </ul>
 * A Sequential model without an InputLayer gets one, named {@code <first layer>_input} (the
 * name Keras 2 gives it), shaped from the first layer's {@code batch_input_shape} /
 * {@code input_shape} / {@code input_dim}.
 *
 * @param layers       every layer, inputs first, each after the layers it reads
 * @param inputLayers  names of the InputLayers, in the model's input order
 * @param outputLayer  the layer whose output is the model's output
 * @param keras3WeightPaths layer name -> the group holding its variables in a Keras 3 weights file
 *                     ({@code layers/dense_1}; see {@link Keras3Paths}), for the layers of {@code model.layers}
 */
record KerasModelConfig(List<KerasLayerConfig> layers, List<String> inputLayers, String outputLayer, String modelClass,
                        Map<String, String> keras3WeightPaths) {

    private static final ObjectMapper JSON = new ObjectMapper();

    static JsonNode parseJson(String text, Path file, String what) {
        try {
            return JSON.readTree(text);
        } catch (Exception e) {
            throw new ImportException(what + " is not valid JSON: " + e.getMessage(), file, null, List.of(), e);
        }
    }

    static KerasModelConfig parse(JsonNode root, Path file) {
        String cls = text(root.get("class_name"));
        JsonNode config = root.get("config");
        if (cls == null || config == null)
            throw new ImportException("not a Keras model config: expected an object with 'class_name' and 'config', found keys "
                    + fieldNames(root), file, null);
        return switch (cls) {
            case "Sequential" -> sequential(config, file);
            case "Model", "Functional" -> functional(config, file, cls);
            default -> throw new ImportException("model class '" + cls + "' is not supported", file, null,
                    List.of("Sequential", "Model", "Functional"), null);
        };
    }

    private static KerasModelConfig sequential(JsonNode config, Path file) {
        JsonNode list = config.isArray() ? config : config.get("layers");
        if (list == null || !list.isArray() || list.isEmpty())
            throw new ImportException("Sequential model config has no layers", file, null);
        List<KerasLayerConfig> layers = new ArrayList<>();
        List<Keras3Paths.SavedLayer> saved = new ArrayList<>();
        String previous = null;
        for (JsonNode l : list) {
            String cls = layerClass(l, file);
            JsonNode cfg = l.get("config");
            String name = layerName(l, cfg, file, layers.size());
            if (!cls.equals("InputLayer")) saved.add(new Keras3Paths.SavedLayer(cls, name)); // Sequential.layers leaves it out
            if (previous == null && !cls.equals("InputLayer")) {
                ObjectNode inCfg = JSON.createObjectNode();
                inCfg.set("batch_input_shape", inputShapeOf(cfg, name, cls, file));
                String inName = name + "_input";
                layers.add(new KerasLayerConfig("InputLayer", inName, inCfg, List.of(), file));
                previous = inName;
            }
            checkNotNested(cls, name, file);
            layers.add(new KerasLayerConfig(cls, name, cfg, previous == null ? List.of() : List.of(previous), file));
            previous = name;
        }
        String in = layers.get(0).name();
        return new KerasModelConfig(unique(layers, file), List.of(in), previous, "Sequential", Keras3Paths.assign(saved));
    }

    private static KerasModelConfig functional(JsonNode config, Path file, String cls) {
        JsonNode list = config.get("layers");
        if (list == null || !list.isArray() || list.isEmpty())
            throw new ImportException(cls + " model config has no layers", file, null);
        List<KerasLayerConfig> layers = new ArrayList<>();
        List<Keras3Paths.SavedLayer> saved = new ArrayList<>();
        for (JsonNode l : list) {
            String lcls = layerClass(l, file);
            JsonNode cfg = l.get("config");
            String at = "layers[" + layers.size() + "]";
            JsonNode n = l.get("name");
            String name;
            try {
                name = n == null || n.isNull() ? layerName(l, cfg, file, layers.size()) : StrictJson.toText(n, at + ".name");
            } catch (StrictJson.BadField e) {
                throw new ImportException("the model config's " + e.getMessage() + " (is the config corrupt?)", file, null);
            }
            checkNotNested(lcls, name, file);
            saved.add(new Keras3Paths.SavedLayer(lcls, name)); // Functional.layers: every layer, in config order
            layers.add(new KerasLayerConfig(lcls, name, cfg, inbound(l.get("inbound_nodes"), at + ".inbound_nodes", name, file), file));
        }
        List<String> inputs = tensorRefs(config.get("input_layers"), "input_layers", file);
        List<String> outputs = tensorRefs(config.get("output_layers"), "output_layers", file);
        if (outputs.size() != 1)
            throw new ImportException("the model has " + outputs.size() + " outputs " + outputs + "; Shears imports models with exactly one output", file, null);
        if (inputs.isEmpty()) throw new ImportException("the model config lists no input_layers", file, null);
        List<KerasLayerConfig> sorted = topological(unique(layers, file), file);
        for (String in : inputs) {
            KerasLayerConfig l = sorted.stream().filter(x -> x.name().equals(in)).findFirst()
                    .orElseThrow(() -> new ImportException("input layer '" + in + "' is not among the layers", file, null));
            if (!l.className().equals("InputLayer"))
                throw new ImportException("model input '" + in + "' is a " + l.className() + ", expected an InputLayer", file, in);
        }
        return new KerasModelConfig(sorted, inputs, outputs.get(0), cls, Keras3Paths.assign(saved));
    }

    /** The Keras 1/2/3 forms of inbound_nodes, reduced to the names of the layers read. */
    private static List<String> inbound(JsonNode nodes, String path, String name, Path file) {
        List<String> out = new ArrayList<>();
        if (nodes == null || nodes.isNull() || nodes.isEmpty()) return out;
        if (nodes.size() > 1)
            throw new ImportException("the layer is called " + nodes.size() + " times (a shared layer); Shears imports layers used once",
                    file, name);
        collectHistory(nodes.get(0), path + "[0]", out, name, file);
        return out;
    }

    /** Adds the layers that node entry {@code n}, at {@code path} in the config (for errors), reads. */
    private static void collectHistory(JsonNode n, String path, List<String> out, String name, Path file) {
        if (n == null || n.isNull()) return;
        if (n.isObject()) {
            JsonNode history = n.path("config").get("keras_history");
            if (history != null) {
                out.add(historyRef(history, path + ".config.keras_history", name, file));
                return;
            }
            JsonNode args = n.get("args");
            if (args != null) collectHistory(args, path + ".args", out, name, file);
            return; // kwargs (training flags, masks) carry no data inputs Shears needs
        }
        if (n.isArray()) {
            // Keras 1/2 node entry: ["layer", nodeIndex, tensorIndex(, kwargs)]; a list of entries starts with a list.
            // The indices are not tested here: a damaged one is historyRef's error, not a silently dropped input.
            if (n.size() >= 3 && n.get(0).isTextual()) {
                out.add(historyRef(n, path, name, file));
                return;
            }
            for (int i = 0; i < n.size(); i++) collectHistory(n.get(i), path + "[" + i + "]", out, name, file);
        }
    }

    /**
     * The layer name of inbound reference {@code ref} at {@code path} (e.g. {@code layers[3].inbound_nodes[0][1]}):
     * errors name that path and the entry, not the whole reference (a Keras 2 one carries its call kwargs).
     */
    private static String historyRef(JsonNode ref, String path, String name, Path file) {
        if (!ref.isArray() || ref.size() < 3 || !ref.get(0).isTextual())
            throw new ImportException("inbound reference " + path + " is " + (ref.isArray() ? "a list of " + ref.size() + (ref.isEmpty() || ref.get(0).isTextual() ? "" : " not starting with a layer name")
                    : ref.isObject() ? "an object" : ref.toString()) + ", not [layer name, call index, output index] (is the config corrupt?)", file, name);
        int call, output;
        try {
            call = StrictJson.toInt(ref.get(1), path + "[1]");
            output = StrictJson.toInt(ref.get(2), path + "[2]");
        } catch (StrictJson.BadField e) {
            throw new ImportException("inbound reference " + e.getMessage() + " (the call index, then the output index; is the config corrupt?)", file, name);
        }
        if (call != 0 || output != 0)
            throw new ImportException("reads output " + output + " of call " + call + " of layer '"
                    + ref.get(0).asText() + "'; Shears imports single-output layers called once", file, name);
        return ref.get(0).asText();
    }

    /** [[layer, node, tensor], ...], or Keras 3's bare [layer, node, tensor] for a single tensor. */
    private static List<String> tensorRefs(JsonNode refs, String what, Path file) {
        List<String> out = new ArrayList<>();
        if (refs != null && refs.isArray() && refs.size() > 0 && refs.get(0).isTextual()) out.add(tensorRef(refs, what, file));
        else for (JsonNode ref : listOrEmpty(refs)) out.add(tensorRef(ref, what, file));
        return out;
    }

    private static String tensorRef(JsonNode ref, String what, Path file) {
        if (ref == null || !ref.isArray() || ref.isEmpty() || !ref.get(0).isTextual())
            throw new ImportException("'" + what + "' entry " + ref + " is not [layer, node, tensor]", file, null);
        return ref.get(0).asText();
    }

    private static List<KerasLayerConfig> topological(List<KerasLayerConfig> layers, Path file) {
        Map<String, KerasLayerConfig> byName = new LinkedHashMap<>();
        for (KerasLayerConfig l : layers) byName.put(l.name(), l);
        for (KerasLayerConfig l : layers)
            for (String in : l.inbound())
                if (!byName.containsKey(in))
                    throw new ImportException("reads layer '" + in + "', which the config does not define", file, l.name());
        List<KerasLayerConfig> out = new ArrayList<>();
        Set<String> done = new HashSet<>();
        Map<String, Integer> state = new HashMap<>();
        for (KerasLayerConfig l : layers) visit(l, byName, done, state, out, file);
        return out;
    }

    private static void visit(KerasLayerConfig l, Map<String, KerasLayerConfig> byName, Set<String> done,
                              Map<String, Integer> state, List<KerasLayerConfig> out, Path file) {
        if (done.contains(l.name())) return;
        if (state.containsKey(l.name())) throw new ImportException("the layer graph has a cycle through this layer", file, l.name());
        state.put(l.name(), 1);
        for (String in : l.inbound()) visit(byName.get(in), byName, done, state, out, file);
        done.add(l.name());
        out.add(l);
    }

    private static List<KerasLayerConfig> unique(List<KerasLayerConfig> layers, Path file) {
        Set<String> seen = new HashSet<>();
        for (KerasLayerConfig l : layers)
            if (!seen.add(l.name())) throw new ImportException("two layers are named '" + l.name() + "'", file, l.name());
        return layers;
    }

    private static void checkNotNested(String cls, String name, Path file) {
        if (cls.equals("Sequential") || cls.equals("Model") || cls.equals("Functional"))
            throw new ImportException("a nested " + cls + " model used as a layer is not supported; flatten it into one model in Keras",
                    file, name);
    }

    private static JsonNode inputShapeOf(JsonNode cfg, String name, String cls, Path file) {
        if (cfg != null) {
            JsonNode b = firstPresent(cfg, "batch_input_shape", "batch_shape");
            if (b != null) return b;
            JsonNode s = cfg.get("input_shape");
            if (s != null && s.isArray()) {
                var arr = JSON.createArrayNode().addNull();
                s.forEach(arr::add);
                return arr;
            }
            JsonNode d = cfg.get("input_dim");
            if (d != null && !d.isNull()) {
                try {
                    return JSON.createArrayNode().addNull().add(StrictJson.toInt(d, "config.input_dim"));
                } catch (StrictJson.BadField e) {
                    throw new ImportException(cls + " layer: " + e.getMessage(), file, name);
                }
            }
        }
        throw new ImportException("the first layer (" + cls + ") does not say the model's input shape (no batch_input_shape, "
                + "input_shape or input_dim); Shears needs it", file, name);
    }

    private static JsonNode firstPresent(JsonNode cfg, String... names) {
        for (String n : names) if (cfg.hasNonNull(n)) return cfg.get(n);
        return null;
    }

    private static String layerClass(JsonNode l, Path file) {
        String cls = text(l.get("class_name"));
        if (cls == null || !l.has("config")) throw new ImportException("layer entry without class_name/config: " + abbreviate(l), file, null);
        return cls;
    }

    private static String layerName(JsonNode l, JsonNode cfg, Path file, int index) {
        String n = text(cfg == null ? null : cfg.get("name"));
        if (n == null) n = text(l.get("name"));
        if (n == null) throw new ImportException("layer " + index + " (" + text(l.get("class_name")) + ") has no name", file, null);
        return n;
    }

    private static Iterable<JsonNode> listOrEmpty(JsonNode n) { return n == null || !n.isArray() ? List.of() : n; }

    private static String text(JsonNode n) { return n != null && n.isTextual() ? n.asText() : null; }

    private static List<String> fieldNames(JsonNode n) {
        List<String> out = new ArrayList<>();
        if (n != null) n.fieldNames().forEachRemaining(out::add);
        return out;
    }

    private static String abbreviate(JsonNode n) {
        String s = String.valueOf(n);
        return s.length() > 120 ? s.substring(0, 120) + "..." : s;
    }
}
