package dev.shears.core.nn.layers;

import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Layer;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;

import java.util.List;

import dev.shears.core.backend.Activation;

/**
 * An element-wise activation. {@code alpha}: the LeakyReLU slope, the ELU alpha, the
 * RELU_CAPPED cap (6 for ReLU6) or the HARD_SIGMOID slope; {@code beta}: the HARD_SIGMOID offset
 * (0 for every other function); the other functions ignore them.
 */
public final class ActivationLayer extends Layer {
    private final Activation function;
    private final float alpha;
    private final float beta;

    /**
     * {@code function} with its parameters. HARD_SIGMOID takes any finite slope {@code alpha} and
     * offset {@code beta} (ONNX HardSigmoid allows them all); every other function takes beta 0.
     */
    public ActivationLayer(String name, Activation function, float alpha, float beta) {
        super(name);
        if (function == Activation.RELU_CAPPED && !(alpha > 0))
            throw new IllegalArgumentException("activation '" + name + "': RELU_CAPPED needs a cap above 0 (6 for ReLU6), got " + alpha);
        if (function == Activation.HARD_SIGMOID && !(Float.isFinite(alpha) && Float.isFinite(beta)))
            throw new IllegalArgumentException("activation '" + name + "': HARD_SIGMOID needs a finite slope and offset, got slope "
                    + alpha + ", offset " + beta);
        if (function != Activation.HARD_SIGMOID && beta != 0f)
            throw new IllegalArgumentException("activation '" + name + "': only HARD_SIGMOID takes an offset (beta); "
                    + function + " got " + beta);
        this.function = function;
        this.alpha = alpha;
        this.beta = beta;
    }

    /**
     * {@code function} with parameter {@code alpha} and no offset. HARD_SIGMOID here is Keras 2's
     * (slope 0.2, offset 0.5) and {@code alpha} must be 0 (the value it was given when HARD_SIGMOID
     * had no parameters) or 0.2: any other slope needs its offset, the four-argument constructor.
     */
    public ActivationLayer(String name, Activation function, float alpha) {
        this(name, function, function == Activation.HARD_SIGMOID ? keras2Slope(name, alpha) : alpha,
                function == Activation.HARD_SIGMOID ? Activation.HARD_SIGMOID_OFFSET : 0f);
    }

    /** Default parameters: ELU alpha 1, LeakyReLU slope 0.3 (Keras's), RELU_CAPPED cap 6 (ReLU6), HARD_SIGMOID slope 0.2 offset 0.5 (Keras 2's). */
    public ActivationLayer(String name, Activation function) {
        this(name, function, switch (function) {
                    case ELU -> 1f;
                    case LEAKY_RELU -> 0.3f;
                    case RELU_CAPPED -> 6f;
                    case HARD_SIGMOID -> Activation.HARD_SIGMOID_SLOPE;
                    default -> 0f;
                }, function == Activation.HARD_SIGMOID ? Activation.HARD_SIGMOID_OFFSET : 0f);
    }

    private static float keras2Slope(String name, float alpha) {
        if (alpha == 0f || alpha == Activation.HARD_SIGMOID_SLOPE) return Activation.HARD_SIGMOID_SLOPE;
        throw new IllegalArgumentException("activation '" + name + "': a HARD_SIGMOID with slope " + alpha
                + " needs its offset too: new ActivationLayer(name, HARD_SIGMOID, slope, offset)");
    }

    public Activation function() { return function; }
    public float alpha() { return alpha; }
    /** The HARD_SIGMOID offset; 0 for every other function. */
    public float beta() { return beta; }

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
        ctx.backend().activation(function, alpha, beta, x, y);
        return y;
    }

    @Override public List<Tensor> backward(ExecContext ctx, Tensor gradOutput, boolean needInputGrad) {
        Layers.requireForward(this, x);
        if (!needInputGrad) return Layers.grads(null);
        if (function == Activation.LINEAR) return Layers.grads(gradOutput);
        dx = Layers.ensure(ctx.backend(), dx, x.shape());
        ctx.backend().activationBackward(function, alpha, beta, x, y, gradOutput, dx);
        return Layers.grads(dx);
    }
}
