package dev.shears.core.nn.layers;

import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Layer;
import dev.shears.core.nn.Parameter;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;

import java.util.List;

/** Element-wise sum of two or more inputs of the same shape. */
public final class Add extends Layer {
    public Add(String name) { super(name); }

    @Override public String type() { return "Add"; }

    @Override public int arity() { return -1; }

    @Override public Shape outputShape(List<Shape> in) {
        if (in.isEmpty()) throw new IllegalArgumentException("needs at least one input");
        for (Shape s : in) if (!s.equals(in.get(0))) throw new IllegalArgumentException("inputs differ in shape: " + in);
        return in.get(0);
    }

    @Override public Tensor forward(ExecContext ctx, List<Tensor> inputs) {
        throw new UnsupportedOperationException("forward of " + type() + " not implemented yet");
    }

    @Override public List<Tensor> backward(ExecContext ctx, Tensor gradOutput, boolean needInputGrad) {
        throw new UnsupportedOperationException("backward of " + type() + " not implemented yet");
    }
}
