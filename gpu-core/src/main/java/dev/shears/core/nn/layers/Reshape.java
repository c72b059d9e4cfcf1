package dev.shears.core.nn.layers;

import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Layer;
import dev.shears.core.nn.Parameter;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;

import java.util.List;

/** Reshapes each sample to a fixed per-sample shape (same number of elements). */
public final class Reshape extends Layer {
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

    @Override public Tensor forward(ExecContext ctx, List<Tensor> inputs) {
        throw new UnsupportedOperationException("forward of " + type() + " not implemented yet");
    }

    @Override public List<Tensor> backward(ExecContext ctx, Tensor gradOutput, boolean needInputGrad) {
        throw new UnsupportedOperationException("backward of " + type() + " not implemented yet");
    }
}
