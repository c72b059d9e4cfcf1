package dev.shears.core.cpu;

import dev.shears.core.backend.Backend;
import dev.shears.core.tensor.DType;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;

/**
 * A tensor in Java heap arrays: exactly one of {@code floats}, {@code ints}, {@code bytes} is
 * non-null, by dtype. Reshaped views share the array.
 */
public final class CpuTensor extends Tensor {
    private final Backend backend;
    /** FLOAT32 storage, shape().size() elements, or null */
    public final float[] floats;
    /** INT32 storage or null */
    public final int[] ints;
    /** UINT8 storage or null */
    public final byte[] bytes;

    CpuTensor(Backend backend, Shape shape, DType dtype, float[] floats, int[] ints, byte[] bytes) {
        super(shape, dtype);
        this.backend = backend;
        this.floats = floats;
        this.ints = ints;
        this.bytes = bytes;
    }

    static CpuTensor allocate(Backend backend, Shape shape, DType dtype) {
        int n = shape.intSize();
        return switch (dtype) {
            case FLOAT32 -> new CpuTensor(backend, shape, dtype, new float[n], null, null);
            case INT32 -> new CpuTensor(backend, shape, dtype, null, new int[n], null);
            case UINT8 -> new CpuTensor(backend, shape, dtype, null, null, new byte[n]);
        };
    }

    @Override public Backend backend() { return backend; }

    @Override public Tensor reshape(Shape newShape) {
        if (newShape.size() != size()) throw new IllegalArgumentException("cannot view " + shape() + " as " + newShape);
        return new CpuTensor(backend, newShape, dtype(), floats, ints, bytes);
    }

    /** The float storage of a FLOAT32 tensor, failing clearly for another dtype or backend. */
    public static float[] f(Tensor t) {
        if (t instanceof CpuTensor c && c.floats != null) return c.floats;
        throw new IllegalArgumentException("expected a FLOAT32 CPU tensor, got " + t);
    }

    public static int[] i(Tensor t) {
        if (t instanceof CpuTensor c && c.ints != null) return c.ints;
        throw new IllegalArgumentException("expected an INT32 CPU tensor, got " + t);
    }

    public static byte[] b(Tensor t) {
        if (t instanceof CpuTensor c && c.bytes != null) return c.bytes;
        throw new IllegalArgumentException("expected a UINT8 CPU tensor, got " + t);
    }
}
