package dev.shears.core.nn.layers;

import dev.shears.core.tensor.Shape;

import java.util.List;

/** Reshapes each sample to a fixed per-sample shape (same number of elements). */
public final class Reshape extends ViewLayer {
    private final Shape target;

    public Reshape(String name, Shape target) {
        super(name);
        this.target = target;
    }

    public Shape target() { return target; }

    @Override public String type() { return "Reshape"; }

    @Override public Shape outputShape(List<Shape> in) {
        Shape s = Layers.single(in);
        if (s.size() != target.size()) throw new IllegalArgumentException("cannot reshape " + s + " to " + target);
        return target;
    }
}
