package dev.shears.core.nn.layers;

import dev.shears.core.tensor.Shape;

import java.util.List;

/** Shape checks shared by the layers. */
final class Layers {
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
}
