package dev.shears.core.util;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Strict reads from parsed JSON: the one place the file readers (checkpoints' model.json and
 * training.json, Keras model configs) turn a JSON value into an int, a long, a boolean, a number or
 * a string. Jackson's loose readers let a damaged field pass as a value: {@code asInt()} reads
 * {@code "x"} as 0, {@code 3.7} as 3 and {@code 1e308} as {@link Integer#MAX_VALUE};
 * {@code asBoolean()} reads {@code "yes"} and {@code 1} as false; {@code asDouble()} reads text as
 * 0.0; {@code asText()} turns a number or an object into text. A later check then fails with a
 * message about something else, or nothing fails. These take only a value of the JSON type the
 * field has, and otherwise throw a {@link BadField} naming the field's path, the value found and
 * the type expected; the caller adds the file (its own exception type names it).
 *
 * <p>The {@code ...Or} readers are for optional fields: absent or JSON {@code null} gives the
 * default; any other value must have the field's type.
 */
public final class StrictJson {
    private StrictJson() {}

    /** A JSON field that is missing or not of the type it must be; {@link #path}, {@link #value} and {@link #expected} name it. */
    public static final class BadField extends IllegalArgumentException {
        private final String path;
        private final String value;
        private final String expected;

        /** {@code value} null or missing: the field is absent; {@code expected} says what it must be, in words. */
        public BadField(String path, JsonNode value, String expected) {
            super("'" + path + "' is " + (value == null || value.isMissingNode() ? "missing" : value.toString()) + ", expected " + expected);
            this.path = path;
            this.value = value == null || value.isMissingNode() ? null : value.toString();
            this.expected = expected;
        }

        /** What the field must be, in words ({@code "an integer"}, {@code "true or false"}...). */
        public String expected() { return expected; }

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

    /** The boolean at {@code v}, which must be JSON {@code true} or {@code false} (not "yes", 1 or "true"). */
    public static boolean toBoolean(JsonNode v, String path) {
        if (v == null || !v.isBoolean()) throw new BadField(path, v, "true or false");
        return v.booleanValue();
    }

    /** The field {@code name} of {@code parent} as a boolean; {@code path} is the parent's path (empty at the root). */
    public static boolean booleanField(JsonNode parent, String path, String name) {
        return toBoolean(parent == null ? null : parent.get(name), join(path, name));
    }

    /** The optional field {@code name} of {@code parent} as a boolean: {@code fallback} when absent or null. */
    public static boolean booleanFieldOr(JsonNode parent, String path, String name, boolean fallback) {
        JsonNode v = parent == null ? null : parent.get(name);
        return absent(v) ? fallback : toBoolean(v, join(path, name));
    }

    /** The number at {@code v}, which must be a JSON number (text such as {@code "0.9"} is refused, not read as 0.0). */
    public static double toDouble(JsonNode v, String path) {
        if (v == null || !v.isNumber()) throw new BadField(path, v, "a number");
        return v.doubleValue();
    }

    /**
     * The number at {@code v} as a float: a JSON number whose magnitude a float holds ({@code 1e39}
     * would silently become infinity); the nearest float to it, as {@link JsonNode#floatValue()} gives.
     */
    public static float toFloat(JsonNode v, String path) {
        double d = toDouble(v, path);
        if (Math.abs(d) > Float.MAX_VALUE) throw new BadField(path, v, "a number within float range");
        return v.floatValue();
    }

    /** The field {@code name} of {@code parent} as a float; {@code path} is the parent's path (empty at the root). */
    public static float floatField(JsonNode parent, String path, String name) {
        return toFloat(parent == null ? null : parent.get(name), join(path, name));
    }

    /** The string at {@code v}, which must be a JSON string (a number or an object is refused, not turned into text). */
    public static String toText(JsonNode v, String path) {
        if (v == null || !v.isTextual()) throw new BadField(path, v, "a string");
        return v.textValue();
    }

    /** The field {@code name} of {@code parent} as a string; {@code path} is the parent's path (empty at the root). */
    public static String textField(JsonNode parent, String path, String name) {
        return toText(parent == null ? null : parent.get(name), join(path, name));
    }

    /** The optional field {@code name} of {@code parent} as a string: {@code fallback} when absent or null. */
    public static String textFieldOr(JsonNode parent, String path, String name, String fallback) {
        JsonNode v = parent == null ? null : parent.get(name);
        return absent(v) ? fallback : toText(v, join(path, name));
    }

    private static boolean absent(JsonNode v) {
        return v == null || v.isNull() || v.isMissingNode();
    }

    /** {@code path.name}, or {@code name} at the root; for callers building the paths of nested fields. */
    public static String join(String path, String name) {
        return path == null || path.isEmpty() ? name : path + "." + name;
    }
}
