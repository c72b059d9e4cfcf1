package dev.shears.core.nn.layers;

import dev.shears.core.backend.Backend;
import dev.shears.core.tensor.DType;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;

import java.util.List;

/** Shape checks and buffer reuse shared by the layers ({@link #ensure} also by the sparse models' output buffers). */
public final class Layers {
    private Layers() {}

    static Shape single(List<Shape> in) {
        if (in.size() != 1) throw new IllegalArgumentException("expects one input, got " + in.size());
        return in.get(0);
    }

    static Shape image(List<Shape> in) {
        Shape s = single(in);
        if (s.rank() != 3) throw new IllegalArgumentException("expects a [C, H, W] input, got " + s);
        return s;
    }

    /**
     * {@code current} when it already has this backend, shape and dtype (the steady state of a
     * training loop: nothing allocated), else a new zeroed tensor (the old one is closed).
     */
    static Tensor ensure(Backend backend, Tensor current, Shape shape, DType dtype) {
        if (current != null && current.backend() == backend && current.dtype() == dtype && current.shape().equals(shape)) return current;
        if (current != null) current.close();
        return backend.allocate(shape, dtype);
    }

    public static Tensor ensure(Backend backend, Tensor current, Shape shape) {
        return ensure(backend, current, shape, DType.FLOAT32);
    }

    /**
     * {@code current} when it holds at least {@code shape}'s elements (a scratch buffer that only
     * grows: its shape is not what is read), else a new {@code shape} tensor (the old one is closed).
     */
    public static Tensor atLeast(Backend backend, Tensor current, Shape shape) {
        if (current != null && current.backend() == backend && current.size() >= shape.size()) return current;
        if (current != null) current.close();
        return backend.allocate(shape, DType.FLOAT32);
    }

    /** The one input of a single-input layer, with a batch axis and the expected per-sample size. */
    static Tensor input(dev.shears.core.nn.Layer layer, List<Tensor> inputs) {
        if (inputs.size() != 1)
            throw new IllegalArgumentException(layer + ": expects one input, got " + inputs.size());
        Tensor x = inputs.get(0);
        if (x.shape().rank() < 1)
            throw new IllegalArgumentException(layer + ": input " + x + " has no batch axis");
        return x;
    }

    /** The one input of a layer over NCHW images, checked to be [N, C, H, W]. */
    static Tensor images(dev.shears.core.nn.Layer layer, List<Tensor> inputs) {
        Tensor x = input(layer, inputs);
        if (x.shape().rank() != 4) throw new IllegalArgumentException(layer + ": expects an [N, C, H, W] input, got " + x);
        return x;
    }

    /** The batch size of x, checking that each sample has {@code perSample} elements. */
    static int batch(dev.shears.core.nn.Layer layer, Tensor x, long perSample) {
        int n = x.shape().dim(0);
        if ((long) n * perSample != x.size())
            throw new IllegalArgumentException(layer + ": input " + x + " does not hold " + n + " samples of " + perSample + " elements");
        return n;
    }

    /** Fails clearly when backward is called before forward. */
    static void requireForward(dev.shears.core.nn.Layer layer, Object saved) {
        if (saved == null) throw new IllegalStateException(layer + ": backward called before forward");
    }

    /** A one-element gradient list (which may hold null). */
    static List<Tensor> grads(Tensor dx) {
        return java.util.Collections.singletonList(dx);
    }
}
