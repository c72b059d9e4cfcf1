package dev.shears.core.tensor;

import java.util.Arrays;

/** An immutable tensor shape, row-major; dimension 0 is the batch where there is one. */
public final class Shape {
    private final int[] dims;
    private final long size;

    private Shape(int[] dims) {
        long s = 1;
        for (int d : dims) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in " + Arrays.toString(dims));
            s *= d;
        }
        this.dims = dims;
        this.size = s;
    }

    public static Shape of(int... dims) {
        return new Shape(dims.clone());
    }

    public static Shape of(long... dims) {
        int[] d = new int[dims.length];
        for (int i = 0; i < dims.length; i++) d[i] = Math.toIntExact(dims[i]);
        return new Shape(d);
    }

    public int rank() { return dims.length; }

    public int dim(int i) { return dims[i < 0 ? dims.length + i : i]; }

    public int[] dims() { return dims.clone(); }

    /** Number of elements. */
    public long size() { return size; }

    /** Number of elements as an int, failing clearly when it does not fit. */
    public int intSize() {
        if (size > Integer.MAX_VALUE) throw new IllegalStateException("tensor of shape " + this + " has more than 2^31-1 elements");
        return (int) size;
    }

    /** The shape with a leading batch dimension added. */
    public Shape withBatch(int batch) {
        int[] d = new int[dims.length + 1];
        d[0] = batch;
        System.arraycopy(dims, 0, d, 1, dims.length);
        return new Shape(d);
    }

    /** The shape without its leading (batch) dimension. */
    public Shape dropBatch() {
        return new Shape(Arrays.copyOfRange(dims, 1, dims.length));
    }

    /** Product of the dimensions from {@code from} (inclusive) to the end. */
    public long sizeFrom(int from) {
        long s = 1;
        for (int i = from; i < dims.length; i++) s *= dims[i];
        return s;
    }

    @Override public boolean equals(Object o) { return o instanceof Shape s && Arrays.equals(dims, s.dims); }
    @Override public int hashCode() { return Arrays.hashCode(dims); }
    @Override public String toString() { return Arrays.toString(dims); }
}
