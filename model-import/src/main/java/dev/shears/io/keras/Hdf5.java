package dev.shears.io.keras;

import dev.shears.core.util.HeapBudget;
import dev.shears.io.ImportException;
import io.jhdf.HdfFile;
import io.jhdf.api.Attribute;
import io.jhdf.api.Dataset;
import io.jhdf.api.Group;
import io.jhdf.api.Node;

import java.lang.reflect.Array;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;

/**
 * The few jhdf calls the Keras reader makes, each turning jhdf's failures on a truncated or
 * corrupt file (which surface as assorted runtime exceptions, often only when data is read
 * lazily) into an {@link ImportException} naming the file.
 */
final class Hdf5 {
    private Hdf5() {}

    static HdfFile open(Path file) {
        return call(file, null, () -> new HdfFile(file));
    }

    /** An in-memory HDF5 file (a member of a .keras archive); {@code file} names it in errors. */
    static HdfFile open(byte[] bytes, Path file) {
        return call(file, null, () -> HdfFile.fromBytes(bytes));
    }

    static <T> T call(Path file, String node, Supplier<T> body) {
        try {
            return body.get();
        } catch (ImportException e) {
            throw e;
        } catch (RuntimeException | OutOfMemoryError | StackOverflowError e) {
            throw new ImportException("cannot read the HDF5 file (is it truncated or corrupt?): " + describe(e), file, node,
                    List.of(), e);
        }
    }

    private static String describe(Throwable e) {
        String m = e.getMessage();
        return e.getClass().getSimpleName() + (m == null ? "" : ": " + m);
    }

    /** A string attribute, or null when absent. */
    static String stringAttribute(Path file, Node node, String name) {
        return call(file, node.getPath(), () -> {
            Attribute a = node.getAttribute(name);
            if (a == null) return null;
            requireHeap(file, node.getPath(), "attribute '" + name + "'", a.getDimensionsAsLong(), a.getDataType().getSize(), 0);
            Object v = a.getData();
            if (v instanceof String s) return s;
            if (v != null && v.getClass().isArray() && Array.getLength(v) == 1 && Array.get(v, 0) instanceof String s) return s;
            throw new ImportException("attribute '" + name + "' is not a string (" + (v == null ? "empty" : v.getClass().getSimpleName()) + ")",
                    file, node.getPath());
        });
    }

    /**
     * A list-of-strings attribute ({@code layer_names}, {@code weight_names}); empty when absent or
     * empty (jhdf returns null for the empty float array Keras writes for weight-less layers).
     * Keras splits very long lists into {@code name0}, {@code name1}, ... attributes; those are joined.
     */
    static List<String> stringList(Path file, Node node, String name) {
        return call(file, node.getPath(), () -> {
            List<String> out = new ArrayList<>();
            Attribute a = node.getAttribute(name);
            if (a != null) {
                requireHeap(file, node.getPath(), "attribute '" + name + "'", a.getDimensionsAsLong(), a.getDataType().getSize(), 0);
                addStrings(file, node, name, a.getData(), out);
                return out;
            }
            for (int chunk = 0; node.getAttribute(name + chunk) != null; chunk++) {
                Attribute part = node.getAttribute(name + chunk);
                requireHeap(file, node.getPath(), "attribute '" + name + chunk + "'", part.getDimensionsAsLong(), part.getDataType().getSize(), 0);
                addStrings(file, node, name, part.getData(), out);
            }
            return out;
        });
    }

    private static void addStrings(Path file, Node node, String name, Object v, List<String> out) {
        if (v == null) return;
        if (v instanceof String s) {
            out.add(s);
            return;
        }
        if (!v.getClass().isArray()) throw new ImportException("attribute '" + name + "' is not a list of strings", file, node.getPath());
        int n = Array.getLength(v);
        for (int i = 0; i < n; i++) {
            Object e = Array.get(v, i);
            if (e instanceof String s) out.add(s);
            else if (n == 0 || e instanceof Number) return; // the empty float array Keras writes
            else throw new ImportException("attribute '" + name + "' holds " + e.getClass().getSimpleName() + ", not strings", file, node.getPath());
        }
    }

    static Node child(Path file, Group group, String name) {
        return call(file, group.getPath(), () -> group.getChildren().get(name));
    }

    static Node byPath(Path file, Group group, String relative) {
        return call(file, group.getPath(), () -> {
            Node n = group;
            for (String part : relative.split("/")) {
                if (part.isEmpty()) continue;
                if (!(n instanceof Group g)) return null;
                n = g.getChildren().get(part);
                if (n == null) return null;
            }
            return n;
        });
    }

    /** A float dataset read whole, converted from double or integer storage if needed. */
    static float[] floats(Path file, Dataset ds) {
        return call(file, ds.getPath(), () -> {
            // jhdf reads the whole dataset into an array of its storage type, which float64 or integer storage then
            // converts to a float copy: check both fit before reading, from the header alone
            requireHeap(file, ds.getPath(), "dataset", ds.getDimensionsAsLong(), ds.getDataType().getSize(),
                    ds.getJavaType() == float.class ? 0 : Float.BYTES);
            Object flat = ds.getDataFlat();
            if (flat instanceof float[] f) return f;
            if (flat instanceof double[] d) {
                float[] f = new float[d.length];
                for (int i = 0; i < d.length; i++) f[i] = (float) d[i];
                return f;
            }
            if (flat instanceof int[] iv) {
                float[] f = new float[iv.length];
                for (int i = 0; i < iv.length; i++) f[i] = iv[i];
                return f;
            }
            throw new ImportException("dataset holds " + (flat == null ? "nothing" : flat.getClass().getSimpleName())
                    + "; Shears reads float32/float64 weights", file, ds.getPath());
        });
    }

    /**
     * Refuses, before jhdf reads it, a dataset or attribute whose header declares more than the free
     * heap holds: a few damaged bytes of dims would otherwise make jhdf allocate gigabytes (or run out of
     * memory) before any check. {@code width} is the stored element size, {@code copyWidth} that of a
     * converted copy the caller makes (0 for none).
     */
    private static void requireHeap(Path file, String node, String what, long[] dims, int width, int copyWidth) {
        String sized = what + " of dims " + Arrays.toString(dims) + " (" + width + "-byte values)";
        long bytes;
        try {
            long count = 1;
            for (long d : dims) count = Math.multiplyExact(count, d);
            bytes = Math.addExact(Math.multiplyExact(count, (long) width), Math.multiplyExact(count, (long) copyWidth));
        } catch (ArithmeticException e) {
            throw new ImportException(sized + " is larger than any heap; is the file corrupt?", file, node);
        }
        HeapBudget.require(bytes, sized, m -> new ImportException(m, file, node));
    }

    static int[] dims(Path file, Dataset ds) {
        return call(file, ds.getPath(), ds::getDimensions);
    }
}
