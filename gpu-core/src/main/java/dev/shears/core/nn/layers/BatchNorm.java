package dev.shears.core.nn.layers;

import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Layer;
import dev.shears.core.nn.Parameter;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;

import java.util.List;

/**
 * Batch normalisation over the channel axis, which is per-sample axis 0 ([C] or [C, H, W]).
 * Parameters gamma, beta (trainable) and the running mean and variance (not trainable).
 * Running statistics follow {@code running = momentum*running + (1-momentum)*batch} (Keras;
 * ONNX's momentum means the same; PyTorch's is 1 - this).
 */
public final class BatchNorm extends Layer {
    private final int channels;
    private final float epsilon;
    private final float momentum;
    private final Parameter gamma, beta, movingMean, movingVariance;

    public BatchNorm(String name, int channels, float epsilon, float momentum) {
        super(name);
        this.channels = channels;
        this.epsilon = epsilon;
        this.momentum = momentum;
        this.gamma = addParameter("gamma", Parameter.Role.GAMMA, Shape.of(channels), true);
        this.beta = addParameter("beta", Parameter.Role.BETA, Shape.of(channels), true);
        this.movingMean = addParameter("moving_mean", Parameter.Role.RUNNING_MEAN, Shape.of(channels), false);
        this.movingVariance = addParameter("moving_variance", Parameter.Role.RUNNING_VAR, Shape.of(channels), false);
    }

    public int channels() { return channels; }
    public float epsilon() { return epsilon; }
    public float momentum() { return momentum; }
    public Parameter gamma() { return gamma; }
    public Parameter beta() { return beta; }
    public Parameter movingMean() { return movingMean; }
    public Parameter movingVariance() { return movingVariance; }

    @Override public String type() { return "BatchNorm"; }

    @Override public Shape outputShape(List<Shape> in) {
        Shape s = Layers.single(in);
        if (s.dim(0) != channels) throw new IllegalArgumentException("expects " + channels + " channels on axis 0, got " + s);
        return s;
    }

    @Override public Tensor forward(ExecContext ctx, List<Tensor> inputs) {
        throw new UnsupportedOperationException("forward of " + type() + " not implemented yet");
    }

    @Override public List<Tensor> backward(ExecContext ctx, Tensor gradOutput, boolean needInputGrad) {
        throw new UnsupportedOperationException("backward of " + type() + " not implemented yet");
    }
}
