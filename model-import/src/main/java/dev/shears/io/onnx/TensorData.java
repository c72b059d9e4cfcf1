package dev.shears.io.onnx;

import java.util.Arrays;
import java.util.function.Supplier;

/**
 * A decoded ONNX tensor held on the host: a constant of the graph (initializer, Constant node,
 * folded ConstantOfShape) or a `.pb` file's content. Floating types decode to {@code floats},
 * integer and bool types to {@code longs}; exactly one of them is non-null.
 *
 * <p>The elements may be built lazily, on the first call that needs them ({@link #floats},
 * {@link #longs}, {@link #asFloats}, {@link #asLongs}); dims, rank, size and element kind never
 * build them. A few bytes of a file can declare a constant of a gigabyte (a ConstantOfShape whose
 * shape was damaged) that a later check on the dims refuses; building it only when an importer
 * uses the values lets that check fail first, without the allocation. A builder whose size the
 * dims alone set (a ConstantOfShape, a sparse tensor's dense form) checks it against the heap and
 * fails with an {@link dev.shears.io.ImportException} naming the file and the tensor; one decoding
 * a tensor's stored elements needs no such check (the file holds that many). Views made with
 * {@link #withDims} share the built elements.
 */
final class TensorData {
    /** the ONNX dimensions (full shape; empty for a scalar) */
    private final long[] dims;
    private final boolean isFloat;
    private final Elements elements;

    /** The elements, built once and shared by every view; {@code array} is a float[] or a long[] of count(dims) values, row-major. */
    private static final class Elements {
        private Supplier<?> build;
        private Object array;

        Elements(Object array, Supplier<?> build) {
            this.array = array;
            this.build = build;
        }

        Object get() {
            if (array == null) {
                array = build.get();
                build = null;
            }
            return array;
        }
    }

    private TensorData(long[] dims, boolean isFloat, Elements elements) {
        this.dims = dims;
        this.isFloat = isFloat;
        this.elements = elements;
    }

    /**
     * @param floats float32 elements, row-major, or null
     * @param longs  integer elements, row-major, or null
     */
    TensorData(long[] dims, float[] floats, long[] longs) {
        this(dims, floats != null, new Elements(floats != null ? floats : longs, null));
        if ((floats == null) == (longs == null)) throw new IllegalArgumentException("exactly one of floats and longs must be given");
    }

    static TensorData ofFloats(long[] dims, float[] v) { return new TensorData(dims, v, null); }

    static TensorData ofLongs(long[] dims, long[] v) { return new TensorData(dims, null, v); }

    /** Float elements that {@code build} makes on first use; it returns count(dims) values. */
    static TensorData lazyFloats(long[] dims, Supplier<float[]> build) { return new TensorData(dims, true, new Elements(null, build)); }

    /** Integer elements that {@code build} makes on first use; it returns count(dims) values. */
    static TensorData lazyLongs(long[] dims, Supplier<long[]> build) { return new TensorData(dims, false, new Elements(null, build)); }

    long[] dims() { return dims; }

    /** The float elements (built now if lazy), or null for an integer tensor. */
    float[] floats() { return isFloat ? (float[]) elements.get() : null; }

    /** The integer elements (built now if lazy), or null for a float tensor. */
    long[] longs() { return isFloat ? null : (long[]) elements.get(); }

    /** The element count, from the dims (does not build lazy elements). */
    int size() { return (int) count(dims); }

    int rank() { return dims.length; }

    boolean isFloat() { return isFloat; }

    /** The elements as floats (integer tensors converted). */
    float[] asFloats() {
        if (isFloat) return floats();
        long[] longs = longs();
        float[] f = new float[longs.length];
        for (int i = 0; i < f.length; i++) f[i] = longs[i];
        return f;
    }

    /** The elements as longs; only for integer tensors (shapes, axes). */
    long[] asLongs() {
        if (!isFloat) return longs();
        float[] floats = floats();
        long[] l = new long[floats.length];
        for (int i = 0; i < l.length; i++) {
            if (floats[i] != Math.rint(floats[i])) throw new IllegalArgumentException("expected integers, got " + floats[i]);
            l[i] = (long) floats[i];
        }
        return l;
    }

    /** The same elements with other dims (same element count); lazy elements stay lazy and are built once for both. */
    TensorData withDims(long[] newDims) {
        return new TensorData(newDims, isFloat, elements);
    }

    static long count(long[] dims) {
        long n = 1;
        for (long d : dims) n = Math.multiplyExact(n, d);
        return n;
    }

    @Override public String toString() {
        return (isFloat ? "float" : "int") + Arrays.toString(dims);
    }
}
