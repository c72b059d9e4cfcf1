package dev.shears.core.nn.layers;

import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Layer;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;

import java.util.List;

import dev.shears.core.backend.Activation;

/**
 * An element-wise activation. {@code alpha}: the LeakyReLU slope, the ELU alpha or the
 * RELU_CAPPED cap (6 for ReLU6); the other functions ignore it.
 */
public final class ActivationLayer extends Layer {
    private final Activation function;
    private final float alpha;

    public ActivationLayer(String name, Activation function, float alpha) {
        super(name);
        if (function == Activation.RELU_CAPPED && !(alpha > 0))
            throw new IllegalArgumentException("activation '" + name + "': RELU_CAPPED needs a cap above 0 (6 for ReLU6), got " + alpha);
        this.function = function;
        this.alpha = alpha;
    }

    /** Default parameters: ELU alpha 1, LeakyReLU slope 0.3 (Keras's), RELU_CAPPED cap 6 (ReLU6). */
    public ActivationLayer(String name, Activation function) {
        this(name, function, function == Activation.ELU ? 1f : function == Activation.LEAKY_RELU ? 0.3f
                : function == Activation.RELU_CAPPED ? 6f : 0f);
    }

    public Activation function() { return function; }
    public float alpha() { return alpha; }

    @Override public String type() { return "Activation"; }

    @Override public Shape outputShape(List<Shape> in) { return Layers.single(in); }

    /** the last input, [N, ...] */
    private Tensor x;
    /** output buffer, the input's shape */
    private Tensor y;
    /** input-gradient buffer, the input's shape */
    private Tensor dx;

    @Override public Tensor forward(ExecContext ctx, List<Tensor> inputs) {
        x = Layers.input(this, inputs);
        if (function == Activation.LINEAR) return x;
        y = Layers.ensure(ctx.backend(), y, x.shape());
        ctx.backend().activation(function, alpha, x, y);
        return y;
    }

    @Override public List<Tensor> backward(ExecContext ctx, Tensor gradOutput, boolean needInputGrad) {
        Layers.requireForward(this, x);
        if (!needInputGrad) return Layers.grads(null);
        if (function == Activation.LINEAR) return Layers.grads(gradOutput);
        dx = Layers.ensure(ctx.backend(), dx, x.shape());
        ctx.backend().activationBackward(function, alpha, x, y, gradOutput, dx);
        return Layers.grads(dx);
    }
}
