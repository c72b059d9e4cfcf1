package dev.shears.core.nn.layers;

import dev.shears.core.backend.ConvGeometry;
import dev.shears.core.tensor.Shape;

import java.util.List;

/**
 * Pooling with one window covering the whole [H, W] plane: output [C] (Keras) or [C, 1, 1] when
 * keepDims (ONNX). What the global average and max pools share: the shapes and the window.
 */
public abstract sealed class GlobalPool2D extends PlaneSweepLayer permits GlobalAvgPool2D, GlobalMaxPool2D {
    private final boolean keepDims;

    GlobalPool2D(String name, boolean keepDims) {
        super(name);
        this.keepDims = keepDims;
    }

    public boolean keepDims() { return keepDims; }

    @Override public Shape outputShape(List<Shape> in) {
        Shape s = Layers.image(in);
        return keepDims ? Shape.of(s.dim(0), 1, 1) : Shape.of(s.dim(0));
    }

    /** one window covering the whole plane */
    @Override ConvGeometry sweep(int c, int h, int w) {
        return new ConvGeometry(c, h, w, h, w, 1, 1, 0, 0, 0, 0, 1, 1, false);
    }

    /** The batch output shape for the last input: [N, C] or [N, C, 1, 1] with keepDims. */
    final Shape batchOutputShape() {
        int n = inShape.dim(0), c = inShape.dim(1);
        return keepDims ? Shape.of(n, c, 1, 1) : Shape.of(n, c);
    }
}
