package dev.shears.core.util;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Strict integer reads from parsed JSON: the one place the file readers (checkpoints' model.json
 * and training.json, Keras model configs) turn a JSON value into an int or a long. Jackson's
 * {@code asInt()} reads {@code "x"} as 0, {@code 3.7} as 3 and {@code 1e308} as
 * {@link Integer#MAX_VALUE}, so a damaged field passes as a value and a later check fails with a
 * message about something else (or nothing fails). These take only an integral JSON number in
 * range, and otherwise throw a {@link BadField} naming the field's path and the value found; the
 * caller adds the file (its own exception type names it).
 */
public final class StrictJson {
    private StrictJson() {}

    /** A JSON field that is missing or not the integer it must be; {@link #path} and {@link #value} name it. */
    public static final class BadField extends IllegalArgumentException {
        private final String path;
        private final String value;

        BadField(String path, JsonNode value, String expected) {
            super("'" + path + "' is " + (value == null || value.isMissingNode() ? "missing" : value.toString()) + ", expected " + expected);
            this.path = path;
            this.value = value == null || value.isMissingNode() ? null : value.toString();
        }

        /** The field's path in its document, as {@code a.b[2].c}. */
        public String path() { return path; }

        /** The value as JSON text, or null when the field is missing. */
        public String value() { return value; }
    }

    /** The int at {@code v} (null or missing: the field is absent), which must be an integral number within int range. */
    public static int toInt(JsonNode v, String path) {
        if (v == null || !v.isIntegralNumber() || !v.canConvertToInt()) throw new BadField(path, v, "an integer");
        return v.intValue();
    }

    /** The long at {@code v}, which must be an integral number within long range. */
    public static long toLong(JsonNode v, String path) {
        if (v == null || !v.isIntegralNumber() || !v.canConvertToLong()) throw new BadField(path, v, "an integer");
        return v.longValue();
    }

    /** The field {@code name} of {@code parent} as an int; {@code path} is the parent's path (empty at the root). */
    public static int intField(JsonNode parent, String path, String name) {
        return toInt(parent == null ? null : parent.get(name), join(path, name));
    }

    /** The field {@code name} of {@code parent} as a long; {@code path} is the parent's path (empty at the root). */
    public static long longField(JsonNode parent, String path, String name) {
        return toLong(parent == null ? null : parent.get(name), join(path, name));
    }

    /** The array at {@code a} as ints, each entry strict; errors name the entry ({@code path[3]}). */
    public static int[] toInts(JsonNode a, String path) {
        if (a == null || !a.isArray()) throw new BadField(path, a, "a list of integers");
        int[] v = new int[a.size()];
        for (int i = 0; i < v.length; i++) v[i] = toInt(a.get(i), path + "[" + i + "]");
        return v;
    }

    private static String join(String path, String name) {
        return path == null || path.isEmpty() ? name : path + "." + name;
    }
}
