package dev.shears.cli.report;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import dev.shears.core.util.AtomicFiles;

import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The one JSON writer of the benchmark results ({@code shears bench --json}, the JMH runner, the
 * GPU benchmarks and the schedules handed to the PyTorch peers). A tree of maps (keys in their
 * iteration order), lists, primitive arrays, strings, numbers, booleans and nulls becomes text laid
 * out for people reading result files: a container whose children are all scalars sits on one line
 * ({@code {"op": "spmm", "m": 4096, ...}}, {@code [64, 3, 7, 7]}); any other is broken over lines,
 * two spaces an indent level, so a result list reads one row a line.
 * <p>
 * Numbers are written as given: a {@link BigDecimal} as its plain digits (see {@link #fixed} for
 * {@code %.Nf}-style rounding of a single field), other numbers by {@code toString}, and doubles
 * (and floats) either the same way or, with {@link #write(Object, int)}, rounded to a number of
 * significant digits as {@code %.Ng} writes them. NaN and infinities are not JSON: they become
 * {@code null} ("no value"), as in the run reports. Strings are escaped by Jackson.
 */
public final class BenchJson {
    private BenchJson() {}

    /** The tree as JSON text ending in a newline, doubles in full (shortest round-trip) precision. */
    public static String write(Object tree) {
        return write(tree, 0);
    }

    /**
     * The tree as JSON text ending in a newline, every double (or float) rounded to
     * {@code significantDigits} significant digits as {@code String.format("%.Ng")} writes it;
     * 0 keeps them in full.
     */
    public static String write(Object tree, int significantDigits) {
        if (significantDigits < 0) throw new IllegalArgumentException("significant digits must be >= 0, got " + significantDigits);
        StringBuilder sb = new StringBuilder();
        new Writer(sb, significantDigits).value(tree, "");
        return sb.append('\n').toString();
    }

    /**
     * Writes {@link #write(Object)} to {@code file} atomically, creating its folder.
     *
     * @param inputs files the run read (null entries ignored); writing over one of them is refused
     */
    public static void writeFile(Path file, Object tree, Path... inputs) {
        AtomicFiles.writeString(file, write(tree), inputs);
    }

    /**
     * {@code value} rounded to {@code decimals} places exactly as {@code String.format("%.Nf")}
     * rounds it, trailing zeros kept ({@code fixed(0.5, 4)} writes {@code 0.5000}); null (JSON
     * null) when it is NaN or infinite. A negative value that rounds to zero is written {@code 0.000}
     * where {@code %.3f} writes {@code -0.000}: the same JSON number.
     */
    public static BigDecimal fixed(double value, int decimals) {
        if (!Double.isFinite(value)) return null;
        return new BigDecimal(String.format(Locale.ROOT, "%." + decimals + "f", value));
    }

    private record Writer(StringBuilder sb, int digits) {
        void value(Object o, String indent) {
            List<?> list = asList(o);
            if (list != null) array(list, indent);
            else if (o instanceof Map<?, ?> map) object(map, indent);
            else scalar(o);
        }

        private void object(Map<?, ?> map, String indent) {
            boolean inline = map.values().stream().allMatch(Writer::isScalar);
            String inner = indent + "  ";
            sb.append('{');
            int i = 0;
            for (Map.Entry<?, ?> e : map.entrySet()) {
                if (i++ > 0) sb.append(inline ? ", " : ",");
                if (!inline) sb.append('\n').append(inner);
                string(String.valueOf(e.getKey()));
                sb.append(": ");
                value(e.getValue(), inner);
            }
            if (!inline && !map.isEmpty()) sb.append('\n').append(indent);
            sb.append('}');
        }

        private void array(List<?> list, String indent) {
            boolean inline = list.stream().allMatch(Writer::isScalar);
            String inner = indent + "  ";
            sb.append('[');
            for (int i = 0; i < list.size(); i++) {
                if (i > 0) sb.append(inline ? ", " : ",");
                if (!inline) sb.append('\n').append(inner);
                value(list.get(i), inner);
            }
            if (!inline) sb.append('\n').append(indent);
            sb.append(']');
        }

        private void scalar(Object o) {
            switch (o) {
                case null -> sb.append("null");
                case Double d -> floating(d);
                case Float f -> floating(f.doubleValue());
                case BigDecimal b -> sb.append(b.toPlainString());
                case Number n -> sb.append(n);
                case Boolean b -> sb.append(b);
                default -> string(o.toString());
            }
        }

        private void floating(double d) {
            if (!Double.isFinite(d)) sb.append("null");
            else if (digits > 0) sb.append(String.format(Locale.ROOT, "%." + digits + "g", d));
            else sb.append(d);
        }

        private void string(String s) {
            sb.append('"').append(JsonStringEncoder.getInstance().quoteAsString(s)).append('"');
        }

        private static boolean isScalar(Object o) {
            return !(o instanceof Map) && asList(o) == null;
        }

        /** Collections and primitive arrays as lists; null for anything else. */
        private static List<?> asList(Object o) {
            return switch (o) {
                case Collection<?> c -> c instanceof List<?> l ? l : new java.util.ArrayList<>(c);
                case double[] a -> Arrays.stream(a).boxed().toList();
                case float[] a -> { Float[] b = new Float[a.length]; for (int i = 0; i < a.length; i++) b[i] = a[i]; yield Arrays.asList(b); }
                case long[] a -> Arrays.stream(a).boxed().toList();
                case int[] a -> Arrays.stream(a).boxed().toList();
                case Object[] a -> Arrays.asList(a);
                case null, default -> null;
            };
        }
    }
}
