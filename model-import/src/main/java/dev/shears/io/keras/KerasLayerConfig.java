package dev.shears.io.keras;

import com.fasterxml.jackson.databind.JsonNode;
import dev.shears.core.util.StrictJson;
import dev.shears.io.ImportException;

import java.nio.file.Path;
import java.util.List;
import java.util.function.Supplier;

/**
 * One layer as a Keras model config describes it: its class, name, its {@code config} object and
 * the layers it reads (one node, tensor 0 each; shared layers are refused at parse time). Field
 * getters take every name the field has had across Keras 1, 2 and 3 (e.g. {@code units} /
 * {@code output_dim}) and fail with the file, the layer and the field.
 *
 * @param inbound names of the layers whose outputs this one reads, in argument order
 */
record KerasLayerConfig(String className, String name, JsonNode config, List<String> inbound, Path file) {

    /** The first of {@code names} whose value is present and not null, or null; the one lookup {@link #field} and {@link #path} share. */
    private String present(String... names) {
        for (String n : names) {
            JsonNode v = config.get(n);
            if (v != null && !v.isNull()) return n;
        }
        return null;
    }

    /** The value of the first of {@code names} present and not null, or null. */
    JsonNode field(String... names) {
        String n = present(names);
        return n == null ? null : config.get(n);
    }

    boolean has(String... names) { return present(names) != null; }

    /** The path of the first of {@code names} present (the first name when none is), as errors give it ({@code config.filters}). */
    String path(String... names) {
        String n = present(names);
        return "config." + (n == null ? names[0] : n);
    }

    /**
     * The integer {@code v} at {@code path}: an integral number in int range ({@link StrictJson}), else an
     * error naming the file, this layer, the path and the value (never {@code "x"} read as 0 or 3.7 as 3).
     */
    int strictInt(JsonNode v, String path) {
        return strict(() -> StrictJson.toInt(v, path));
    }

    /** What {@code read} returns, its {@link StrictJson.BadField} turned into this layer's error. */
    private <T> T strict(Supplier<T> read) {
        try {
            return read.get();
        } catch (StrictJson.BadField e) {
            throw error(e.getMessage());
        }
    }

    int requireInt(String... names) {
        JsonNode v = field(names);
        if (v == null) throw error("the config has no '" + names[0] + "'");
        return strictInt(v, path(names));
    }

    int intOr(int fallback, String... names) {
        JsonNode v = field(names);
        if (v == null) return fallback;
        return strictInt(v, path(names));
    }

    /**
     * The optional number {@code names}: a JSON number ({@link StrictJson}), else an error naming the file,
     * this layer, the field's path and the value (text such as {@code "0.99"} is not read as 0.0).
     */
    double numberOr(double fallback, String... names) {
        JsonNode v = field(names);
        if (v == null) return fallback;
        return strict(() -> StrictJson.toDouble(v, path(names)));
    }

    /** The optional boolean {@code names}: JSON true or false only ({@code "yes"} or 1 is an error, not false). */
    boolean boolOr(boolean fallback, String... names) {
        JsonNode v = field(names);
        if (v == null) return fallback;
        return strict(() -> StrictJson.toBoolean(v, path(names)));
    }

    /** The optional string {@code names}: a JSON string only (a number or an object is an error, not its text). */
    String stringOr(String fallback, String... names) {
        JsonNode v = field(names);
        if (v == null) return fallback;
        return strict(() -> StrictJson.toText(v, path(names)));
    }

    /** A pair such as kernel_size or strides: an integer n (meaning n, n) or a list of two. */
    int[] pairOr(int[] fallback, String... names) {
        JsonNode v = field(names);
        if (v == null) return fallback;
        String path = path(names);
        if (v.isNumber()) {
            int n = strictInt(v, path);
            return new int[]{n, n};
        }
        if (v.isArray() && v.size() == 2) return new int[]{strictInt(v.get(0), path + "[0]"), strictInt(v.get(1), path + "[1]")};
        throw error("'" + names[0] + "' is " + v + ", expected an integer or a list of two");
    }

    /** A list of integers (target_shape, dims, batch_input_shape without its batch entry...). */
    int[] intList(JsonNode v, String what) {
        if (v == null || !v.isArray()) throw error("'" + what + "' is " + v + ", expected a list of integers");
        int[] out = new int[v.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode e = v.get(i);
            if (e.isNull()) throw error("'" + what + "' is " + v + ": entry " + i + " is not a fixed integer"
                    + " (Shears needs fixed sizes for every axis but the batch)");
            out[i] = strictInt(e, "config." + what + "[" + i + "]");
        }
        return out;
    }

    ImportException error(String message) {
        return new ImportException(className + " layer: " + message, file, name);
    }

    ImportException unsupported(String message, List<String> supported) {
        return new ImportException(className + " layer: " + message, file, name, supported, null);
    }
}
