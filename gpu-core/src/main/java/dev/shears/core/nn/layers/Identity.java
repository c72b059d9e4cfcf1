package dev.shears.core.nn.layers;

import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Layer;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;

import java.util.List;

/** Passes its input through. */
public final class Identity extends Layer {
    public Identity(String name) { super(name); }

    @Override public String type() { return "Identity"; }

    @Override public Shape outputShape(List<Shape> in) { return Layers.single(in); }

    @Override public Tensor forward(ExecContext ctx, List<Tensor> inputs) {
        return Layers.input(this, inputs);
    }

    @Override public List<Tensor> backward(ExecContext ctx, Tensor gradOutput, boolean needInputGrad) {
        return Layers.grads(needInputGrad ? gradOutput : null);
    }
}
