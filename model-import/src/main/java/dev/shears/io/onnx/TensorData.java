package dev.shears.io.onnx;

import java.util.Arrays;

/**
 * A decoded ONNX tensor held on the host: a constant of the graph (initializer, Constant node,
 * folded ConstantOfShape) or a `.pb` file's content. Floating types decode to {@code floats},
 * integer and bool types to {@code longs}; exactly one of them is non-null.
 *
 * @param dims   the ONNX dimensions (full shape; empty for a scalar)
 * @param floats float32 elements, row-major, or null
 * @param longs  integer elements, row-major, or null
 */
record TensorData(long[] dims, float[] floats, long[] longs) {

    static TensorData ofFloats(long[] dims, float[] v) { return new TensorData(dims, v, null); }

    static TensorData ofLongs(long[] dims, long[] v) { return new TensorData(dims, null, v); }

    int size() { return floats != null ? floats.length : longs.length; }

    int rank() { return dims.length; }

    boolean isFloat() { return floats != null; }

    /** The elements as floats (integer tensors converted). */
    float[] asFloats() {
        if (floats != null) return floats;
        float[] f = new float[longs.length];
        for (int i = 0; i < f.length; i++) f[i] = longs[i];
        return f;
    }

    /** The elements as longs; only for integer tensors (shapes, axes). */
    long[] asLongs() {
        if (longs != null) return longs;
        long[] l = new long[floats.length];
        for (int i = 0; i < l.length; i++) {
            if (floats[i] != Math.rint(floats[i])) throw new IllegalArgumentException("expected integers, got " + floats[i]);
            l[i] = (long) floats[i];
        }
        return l;
    }

    /** The same elements with other dims (same element count). */
    TensorData withDims(long[] newDims) {
        return new TensorData(newDims, floats, longs);
    }

    static long count(long[] dims) {
        long n = 1;
        for (long d : dims) n = Math.multiplyExact(n, d);
        return n;
    }

    @Override public String toString() {
        return (floats != null ? "float" : "int") + Arrays.toString(dims);
    }
}
