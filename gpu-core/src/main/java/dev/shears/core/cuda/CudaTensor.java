package dev.shears.core.cuda;

import dev.shears.core.backend.Backend;
import dev.shears.core.tensor.DType;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;

/**
 * A tensor in device memory: {@code pointer} is the device address of element 0. The tensor that
 * allocated the block owns it and returns it to the allocator on close; reshaped views share the
 * pointer and never free it.
 */
public final class CudaTensor extends Tensor {
    private final CudaBackend backend;
    /** device address of element 0 */
    private final long pointer;
    /** whether close() returns the block to the allocator (false for views) */
    private final boolean owner;
    private boolean closed;

    CudaTensor(CudaBackend backend, Shape shape, DType dtype, long pointer, boolean owner) {
        super(shape, dtype);
        this.backend = backend;
        this.pointer = pointer;
        this.owner = owner;
    }

    @Override public Backend backend() { return backend; }

    /** Device address of element 0. */
    public long pointer() {
        if (closed) throw new IllegalStateException("use of a closed CUDA tensor " + this);
        return pointer;
    }

    /** Device address of element {@code offset}. */
    public long pointer(long offset) { return pointer() + offset * dtype().bytes(); }

    public long bytes() { return size() * dtype().bytes(); }

    @Override public Tensor reshape(Shape newShape) {
        if (newShape.size() != size()) throw new IllegalArgumentException("cannot view " + shape() + " as " + newShape);
        return new CudaTensor(backend, newShape, dtype(), pointer(), false);
    }

    @Override public void close() {
        if (closed) return;
        closed = true;
        if (owner) backend.release(pointer);
    }
}
