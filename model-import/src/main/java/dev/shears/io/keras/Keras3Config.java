package dev.shears.io.keras;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.io.ImportException;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Serialises the layers {@link KerasConfigWriter} produced as a Keras 3 {@code config.json}: the
 * Functional model as {@code model.save("x.keras")} writes it. Every fact here (key names, the
 * defaults written for each class, which classes carry a {@code build_config}, the call kwargs
 * recorded in {@code inbound_nodes}) was read from files written by Keras 3.15.1; the structural
 * test compares against such a file.
 *
 * <p>Differences from the Keras 2 config: every object is {@code {"module", "class_name", "config",
 * "registered_name"}}; the InputLayer has {@code batch_shape}; inbound nodes are
 * {@code {"args": [...], "kwargs": {...}}} holding {@code __keras_tensor__} objects with their
 * shape and {@code keras_history}; a single model input/output is a bare {@code [name, 0, 0]};
 * LeakyReLU's slope is {@code negative_slope}. Keras 3 redefined {@code hard_sigmoid} as
 * {@code relu6(x + 3) / 6}: a hard sigmoid of slope 1/6, offset 0.5 is written as it, Keras 2's
 * (slope 0.2, offset 0.5) is refused here.
 */
final class Keras3Config {
    private Keras3Config() {}

    /** The Keras version whose format this writes (recorded in metadata.json). */
    static final String KERAS_VERSION = "3.15.1";

    /** The model's name, also the {@code name} attribute of the weights file's root {@code vars} group. */
    static final String MODEL_NAME = "shears_model";

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Classes whose layers Keras writes with a build_config (those that build weights or check shapes). */
    private static final Set<String> WITH_BUILD_CONFIG = Set.of("Dense", "Conv2D", "DepthwiseConv2D", "BatchNormalization", "PReLU", "Flatten",
            "Permute", "ZeroPadding2D", "Add", "Multiply", "Concatenate");

    /** Classes that take all their inputs as one list argument. */
    private static final Set<String> MERGE = Set.of("Add", "Multiply", "Concatenate");

    /** Call kwargs Keras records for a class (BatchNormalization's mask, Dropout's training flag). */
    private static final Map<String, String> CALL_KWARGS = Map.of(
            "BatchNormalization", "{\"mask\": null}",
            "Dropout", "{\"training\": false}");

    private static final String ZEROS = "{\"module\": \"keras.initializers\", \"class_name\": \"Zeros\", \"config\": {}, \"registered_name\": null}";
    private static final String ONES = "{\"module\": \"keras.initializers\", \"class_name\": \"Ones\", \"config\": {}, \"registered_name\": null}";
    private static final String GLOROT = "{\"module\": \"keras.initializers\", \"class_name\": \"GlorotUniform\", "
            + "\"config\": {\"seed\": null, \"input_axes\": null, \"output_axes\": null}, \"registered_name\": null}";

    /**
     * The entries Keras writes for each class beyond the ones Shears sets, with Keras' defaults
     * (initialisers matter only for training from scratch; regularisers and constraints are none).
     */
    private static final Map<String, String> DEFAULTS = Map.ofEntries(
            Map.entry("Dense", "{\"kernel_initializer\": " + GLOROT + ", \"bias_initializer\": " + ZEROS + ", \"kernel_regularizer\": null, "
                    + "\"bias_regularizer\": null, \"kernel_constraint\": null, \"bias_constraint\": null, \"quantization_config\": null}"),
            Map.entry("Conv2D", "{\"groups\": 1, \"kernel_initializer\": " + GLOROT + ", \"bias_initializer\": " + ZEROS
                    + ", \"kernel_regularizer\": null, \"bias_regularizer\": null, \"activity_regularizer\": null, "
                    + "\"kernel_constraint\": null, \"bias_constraint\": null}"),
            Map.entry("DepthwiseConv2D", "{\"depthwise_initializer\": " + GLOROT + ", \"bias_initializer\": " + ZEROS
                    + ", \"depthwise_regularizer\": null, \"bias_regularizer\": null, \"activity_regularizer\": null, "
                    + "\"depthwise_constraint\": null, \"bias_constraint\": null}"),
            Map.entry("BatchNormalization", "{\"beta_initializer\": " + ZEROS + ", \"gamma_initializer\": " + ONES
                    + ", \"moving_mean_initializer\": " + ZEROS + ", \"moving_variance_initializer\": " + ONES
                    + ", \"beta_regularizer\": null, \"gamma_regularizer\": null, \"beta_constraint\": null, \"gamma_constraint\": null, "
                    + "\"synchronized\": false, \"renorm\": false, \"renorm_clipping\": null, \"renorm_momentum\": 0.99}"),
            Map.entry("PReLU", "{\"alpha_initializer\": " + ZEROS + ", \"alpha_regularizer\": null, \"alpha_constraint\": null, \"shared_axes\": null}"),
            Map.entry("Dropout", "{\"seed\": null, \"noise_shape\": null}"),
            Map.entry("Flatten", "{\"data_format\": \"channels_last\"}"),
            Map.entry("GlobalAveragePooling2D", "{\"keepdims\": false}"),
            Map.entry("GlobalMaxPooling2D", "{\"keepdims\": false}"));

    /** The whole config.json object. */
    static ObjectNode write(List<KerasConfigWriter.KerasLayer> layers, List<String> inputs, String output, Path target) {
        ObjectNode root = JSON.createObjectNode();
        root.put("module", "keras.src.models.functional");
        root.put("class_name", "Functional");
        ObjectNode config = root.putObject("config");
        config.put("name", MODEL_NAME);
        config.put("trainable", true);
        ArrayNode list = config.putArray("layers");
        for (KerasConfigWriter.KerasLayer l : layers) list.add(layer(l, target));
        config.set("input_layers", tensorRefs(inputs));
        config.set("output_layers", tensorRefs(List.of(output)));
        root.put("registered_name", "Functional");
        root.putObject("build_config").putNull("input_shape");
        root.putObject("compile_config"); // what Keras writes for a model that was never compiled
        return root;
    }

    /** One tensor is a bare [layer, 0, 0]; several are a list of them (Keras 3's functional config). */
    private static ArrayNode tensorRefs(List<String> layers) {
        if (layers.size() == 1) return JSON.createArrayNode().add(layers.get(0)).add(0).add(0);
        ArrayNode out = JSON.createArrayNode();
        for (String l : layers) out.addArray().add(l).add(0).add(0);
        return out;
    }

    private static ObjectNode layer(KerasConfigWriter.KerasLayer l, Path target) {
        ObjectNode out = JSON.createObjectNode();
        out.put("module", "keras.layers");
        out.put("class_name", l.className());
        if (l.className().equals("InputLayer")) {
            ObjectNode cfg = out.putObject("config");
            cfg.set("batch_shape", l.config().get("batch_input_shape"));
            cfg.put("dtype", "float32").put("sparse", false).put("ragged", false).put("name", l.name()).put("optional", false);
            out.putNull("registered_name");
            out.put("name", l.name());
            out.putArray("inbound_nodes");
            return out;
        }
        ObjectNode cfg = out.putObject("config");
        cfg.put("name", l.name());
        cfg.put("trainable", true);
        cfg.set("dtype", dtypePolicy());
        ObjectNode specific = l.config().deepCopy();
        switch (l.className()) {
            case "LeakyReLU" -> specific.set("negative_slope", specific.remove("alpha"));
            case "Activation" -> {
                // hard_sigmoid is already Keras 3's (slope 1/6): the writer decides it for this target (KerasConfigWriter.hardSigmoidName)
                // Keras 3 serialises x * sigmoid(x) as silu ("swish" is its alias; Keras 2 knows only swish)
                if (specific.path("activation").asText().equals("swish")) specific.put("activation", "silu");
            }
            default -> { }
        }
        cfg.setAll(specific);
        String defaults = DEFAULTS.get(l.className());
        if (defaults != null) parse(defaults).properties().forEach(e -> {
            if (!cfg.has(e.getKey())) cfg.set(e.getKey(), e.getValue());
        });
        out.putNull("registered_name");
        if (WITH_BUILD_CONFIG.contains(l.className())) {
            ObjectNode build = out.putObject("build_config");
            if (MERGE.contains(l.className())) {
                ArrayNode shapes = build.putArray("input_shape");
                for (int[] d : l.inputDims()) shapes.add(batchShape(d));
            } else {
                build.set("input_shape", batchShape(l.inputDims().get(0)));
            }
        }
        out.put("name", l.name());
        ObjectNode node = out.putArray("inbound_nodes").addObject();
        ArrayNode args = node.putArray("args");
        ArrayNode tensors = MERGE.contains(l.className()) ? args.addArray() : args;
        for (int i = 0; i < l.inputs().size(); i++) tensors.add(kerasTensor(l.inputs().get(i), l.inputDims().get(i)));
        node.set("kwargs", parse(CALL_KWARGS.getOrDefault(l.className(), "{}")));
        return out;
    }

    private static ObjectNode kerasTensor(String layer, int[] dims) {
        ObjectNode t = JSON.createObjectNode();
        t.put("class_name", "__keras_tensor__");
        ObjectNode c = t.putObject("config");
        c.set("shape", batchShape(dims));
        c.put("dtype", "float32");
        c.putArray("keras_history").add(layer).add(0).add(0);
        return t;
    }

    private static ArrayNode batchShape(int[] dims) {
        ArrayNode a = JSON.createArrayNode().addNull();
        for (int d : dims) a.add(d);
        return a;
    }

    private static ObjectNode dtypePolicy() {
        return (ObjectNode) parse("{\"module\": \"keras\", \"class_name\": \"DTypePolicy\", \"config\": {\"name\": \"float32\"}, \"registered_name\": null}");
    }

    private static JsonNode parse(String json) {
        try {
            return JSON.readTree(json);
        } catch (Exception e) {
            throw new IllegalStateException("internal: bad constant JSON " + json, e);
        }
    }
}
