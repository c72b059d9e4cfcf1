package dev.shears.core.tensor;

import dev.shears.core.backend.Backend;

/**
 * A dense, contiguous, row-major block of elements owned by one {@link Backend}. Each backend has
 * its own subclass (host arrays for the CPU, device pointers for CUDA); code outside a backend
 * touches elements only through the backend's ops or its upload/download methods.
 */
public abstract class Tensor implements AutoCloseable {
    private final Shape shape;
    private final DType dtype;

    protected Tensor(Shape shape, DType dtype) {
        this.shape = shape;
        this.dtype = dtype;
    }

    public final Shape shape() { return shape; }

    public final DType dtype() { return dtype; }

    public final long size() { return shape.size(); }

    public abstract Backend backend();

    /**
     * A tensor sharing this one's storage with another shape of the same size (no copy).
     */
    public abstract Tensor reshape(Shape newShape);

    /** Releases the storage (a no-op for heap tensors). Views never free their parent's storage. */
    @Override public void close() {}

    @Override public String toString() { return getClass().getSimpleName() + dtype + shape; }
}
