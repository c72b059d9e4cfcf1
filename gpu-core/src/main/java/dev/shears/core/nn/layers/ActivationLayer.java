package dev.shears.core.nn.layers;

import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Layer;
import dev.shears.core.nn.Parameter;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;

import java.util.List;

import dev.shears.core.backend.Activation;

/** An element-wise activation. {@code alpha}: the LeakyReLU slope or the ELU alpha. */
public final class ActivationLayer extends Layer {
    private final Activation function;
    private final float alpha;

    public ActivationLayer(String name, Activation function, float alpha) {
        super(name);
        this.function = function;
        this.alpha = alpha;
    }

    public ActivationLayer(String name, Activation function) {
        this(name, function, function == Activation.ELU ? 1f : function == Activation.LEAKY_RELU ? 0.3f : 0f);
    }

    public Activation function() { return function; }
    public float alpha() { return alpha; }

    @Override public String type() { return "Activation"; }

    @Override public Shape outputShape(List<Shape> in) { return Layers.single(in); }

    @Override public Tensor forward(ExecContext ctx, List<Tensor> inputs) {
        throw new UnsupportedOperationException("forward of " + type() + " not implemented yet");
    }

    @Override public List<Tensor> backward(ExecContext ctx, Tensor gradOutput, boolean needInputGrad) {
        throw new UnsupportedOperationException("backward of " + type() + " not implemented yet");
    }
}
