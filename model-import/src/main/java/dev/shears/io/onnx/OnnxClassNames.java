package dev.shears.io.onnx;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.core.nn.Model;
import dev.shears.io.ImportException;
import dev.shears.io.onnx.proto.ModelProto;
import dev.shears.io.onnx.proto.StringStringEntryProto;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A model's class names ({@link Model#classNames}) in an ONNX file: the model metadata entry
 * ({@code ModelProto.metadata_props}, field 14, (key, value) string pairs) with key
 * {@value #KEY} and as value a JSON array of the names in output order, e.g.
 * {@code ["Ankle boot", "Bag", ...]}. ONNX has no standard key for them; onnxruntime shows the
 * entry as {@code InferenceSession.get_modelmeta().custom_metadata_map}, and
 * {@code json.loads} gives the list back.
 */
final class OnnxClassNames {
    private OnnxClassNames() {}

    static final String KEY = "shears.class_names";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Adds the entry when the model has names. */
    static void write(Model model, ModelProto.Builder proto) {
        if (model.classNames().isEmpty()) return;
        try {
            proto.addMetadataProps(StringStringEntryProto.newBuilder().setKey(KEY).setValue(JSON.writeValueAsString(model.classNames())));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write class names as JSON", e); // a list of strings always serialises
        }
    }

    /**
     * Names {@code model}'s outputs from the entry, if the file has one.
     *
     * @throws ImportException naming the key and value when it is not a JSON array of distinct names, at most one per output
     */
    static void read(ModelProto proto, Model model, Path file) {
        for (StringStringEntryProto e : proto.getMetadataPropsList()) {
            if (!KEY.equals(e.getKey())) continue;
            String bad = "metadata_props entry " + KEY + " is " + e.getValue() + ", not a JSON array of class names";
            List<String> names = new ArrayList<>();
            try {
                JsonNode a = JSON.readTree(e.getValue());
                if (a == null || !a.isArray()) throw new ImportException(bad + "; remove the entry or correct it", file, null);
                for (JsonNode n : a) {
                    if (!n.isTextual()) throw new ImportException(bad + " (" + n + " is not a string); remove the entry or correct it", file, null);
                    names.add(n.textValue());
                }
                model.setClassNames(names);
            } catch (JsonProcessingException ex) {
                throw new ImportException(bad + " (" + ex.getOriginalMessage() + "); remove the entry or correct it", file, null);
            } catch (IllegalArgumentException ex) {
                throw new ImportException("metadata_props entry " + KEY + ": " + ex.getMessage() + "; remove the entry or correct it", file, null);
            }
        }
    }
}
