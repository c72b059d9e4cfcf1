package dev.shears.core.nn.layers;

import dev.shears.core.tensor.Shape;

import java.util.List;

/** Flattens each sample to one dimension in row-major (NCHW) order. */
public final class Flatten extends ViewLayer {
    public Flatten(String name) { super(name); }

    @Override public String type() { return "Flatten"; }

    @Override public Shape outputShape(List<Shape> in) {
        return Shape.of(Layers.single(in).size());
    }
}
