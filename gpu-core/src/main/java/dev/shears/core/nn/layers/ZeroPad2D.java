package dev.shears.core.nn.layers;

import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Layer;
import dev.shears.core.nn.Parameter;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;

import java.util.List;

/** Zero padding of the H and W axes of [C, H, W]. */
public final class ZeroPad2D extends Layer {
    private final int top, left, bottom, right;

    public ZeroPad2D(String name, int top, int left, int bottom, int right) {
        super(name);
        if (top < 0 || left < 0 || bottom < 0 || right < 0) throw new IllegalArgumentException(name + ": negative padding");
        this.top = top;
        this.left = left;
        this.bottom = bottom;
        this.right = right;
    }

    public int top() { return top; }
    public int left() { return left; }
    public int bottom() { return bottom; }
    public int right() { return right; }

    @Override public String type() { return "ZeroPad2D"; }

    @Override public Shape outputShape(List<Shape> in) {
        Shape s = Layers.image(in);
        return Shape.of(s.dim(0), s.dim(1) + top + bottom, s.dim(2) + left + right);
    }

    @Override public Tensor forward(ExecContext ctx, List<Tensor> inputs) {
        throw new UnsupportedOperationException("forward of " + type() + " not implemented yet");
    }

    @Override public List<Tensor> backward(ExecContext ctx, Tensor gradOutput, boolean needInputGrad) {
        throw new UnsupportedOperationException("backward of " + type() + " not implemented yet");
    }
}
