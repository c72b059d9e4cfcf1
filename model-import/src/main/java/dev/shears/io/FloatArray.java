package dev.shears.io;

import dev.shears.core.tensor.Shape;

/**
 * A float32 array in host memory with its full shape (batch dimension included where there is
 * one), row-major. What `.npy` and ONNX `.pb` tensor files hold, and what `shears predict` reads
 * and writes.
 *
 * @param shape the full shape
 * @param data  the elements, row-major, {@code shape.size()} of them
 */
public record FloatArray(Shape shape, float[] data) {
    public FloatArray {
        if (shape.size() != data.length)
            throw new IllegalArgumentException("shape " + shape + " holds " + shape.size() + " elements, data has " + data.length);
    }

    /** The values of a read {@code .npy} array as float32 (unscaled), with its shape. */
    public static FloatArray of(dev.shears.core.data.Npy.Array a) {
        return new FloatArray(a.shape(), a.toFloats());
    }
}
