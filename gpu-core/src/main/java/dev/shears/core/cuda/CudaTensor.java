package dev.shears.core.cuda;

import dev.shears.core.backend.Backend;
import dev.shears.core.tensor.DType;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;

import java.lang.ref.Cleaner;

/**
 * A tensor in device memory: {@code pointer} is the device address of element 0. The tensor that
 * allocated the block owns it and returns it to the allocator on close. Reshaped views share the
 * pointer, never free it, and keep their owner reachable; an owner that becomes unreachable
 * without being closed has its block returned by a cleaner (a safety net for code written for the
 * garbage-collected CPU backend; closing is still the way to free memory promptly).
 */
public final class CudaTensor extends Tensor {
    private static final Cleaner CLEANER = Cleaner.create();

    private final CudaBackend backend;
    /** device address of element 0 */
    private final long pointer;
    /** the owning tensor for a view (kept reachable while the view is), null for an owner */
    private final CudaTensor root;
    /** the release action (null for views) and its registration with the cleaner */
    private final Release release;
    private final Cleaner.Cleanable cleanable;
    private volatile boolean closed;

    private CudaTensor(CudaBackend backend, Shape shape, DType dtype, long pointer, CudaTensor root, boolean owner) {
        super(shape, dtype);
        this.backend = backend;
        this.pointer = pointer;
        this.root = root;
        this.release = owner ? new Release(backend, pointer) : null;
        this.cleanable = owner ? CLEANER.register(this, release) : null;
    }

    /** A tensor owning the block at {@code pointer}. */
    static CudaTensor owning(CudaBackend backend, Shape shape, DType dtype, long pointer) {
        return new CudaTensor(backend, shape, dtype, pointer, null, true);
    }

    /** Frees the block: explicitly from close(), or from the cleaner thread once unreachable. */
    private static final class Release implements Runnable {
        private final CudaBackend backend;
        private final long pointer;
        private volatile boolean explicit;

        Release(CudaBackend backend, long pointer) {
            this.backend = backend;
            this.pointer = pointer;
        }

        @Override public void run() { backend.release(pointer, !explicit); }
    }

    @Override public Backend backend() { return backend; }

    /** Device address of element 0. */
    public long pointer() {
        if (closed || (root != null && root.closed)) throw new IllegalStateException("use of a closed CUDA tensor " + this);
        return pointer;
    }

    /** Device address of element {@code offset}. */
    public long pointer(long offset) { return pointer() + offset * dtype().bytes(); }

    public long bytes() { return size() * dtype().bytes(); }

    @Override public Tensor reshape(Shape newShape) {
        if (newShape.size() != size()) throw new IllegalArgumentException("cannot view " + shape() + " as " + newShape);
        return new CudaTensor(backend, newShape, dtype(), pointer(), root == null ? this : root, false);
    }

    @Override public void close() {
        if (closed) return;
        closed = true;
        if (cleanable != null) {
            release.explicit = true;
            cleanable.clean();
        }
    }
}
