package dev.shears.core.nn.layers;

import dev.shears.core.backend.Backend;
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

    /** the last input, [N, C] or [N, C, H, W] */
    private Tensor x;
    /** output buffer, the input's shape */
    private Tensor y;
    /** input-gradient buffer, the input's shape */
    private Tensor dx;
    /** batch mean and 1/sqrt(var + eps) of the last training forward, [C] each */
    private Tensor saveMean, saveInvStd;
    /** gradient scratch for frozen gamma/beta, [C] each */
    private Tensor dGammaScratch, dBetaScratch;
    /** whether the last forward used batch statistics */
    private boolean trainedForward;

    @Override public Tensor forward(ExecContext ctx, List<Tensor> inputs) {
        Backend b = ctx.backend();
        x = Layers.input(this, inputs);
        Shape per = x.shape().dropBatch();
        if (per.rank() < 1 || per.dim(0) != channels)
            throw new IllegalArgumentException(this + ": expects " + channels + " channels on axis 1 of the batch, got " + x);
        int n = x.shape().dim(0), inner = (int) (per.size() / channels);
        y = Layers.ensure(b, y, x.shape());
        trainedForward = ctx.training();
        if (trainedForward) {
            saveMean = Layers.ensure(b, saveMean, Shape.of(channels));
            saveInvStd = Layers.ensure(b, saveInvStd, Shape.of(channels));
            b.batchNormTrain(x, gamma.value(), beta.value(), movingMean.value(), movingVariance.value(),
                    momentum, epsilon, y, saveMean, saveInvStd, n, channels, inner);
        } else {
            b.batchNormInference(x, gamma.value(), beta.value(), movingMean.value(), movingVariance.value(),
                    epsilon, y, n, channels, inner);
        }
        return y;
    }

    @Override public List<Tensor> backward(ExecContext ctx, Tensor gradOutput, boolean needInputGrad) {
        Layers.requireForward(this, x);
        if (!trainedForward)
            throw new IllegalStateException(this + ": backward after an inference-mode forward (running statistics) is not supported;"
                    + " run the forward pass with training=true");
        Backend b = ctx.backend();
        int n = x.shape().dim(0), inner = (int) (x.size() / ((long) n * channels));
        dx = Layers.ensure(b, dx, x.shape());
        Tensor dg = gamma.grad(), db = beta.grad();
        if (dg == null) dg = dGammaScratch = Layers.ensure(b, dGammaScratch, Shape.of(channels));
        if (db == null) db = dBetaScratch = Layers.ensure(b, dBetaScratch, Shape.of(channels));
        b.batchNormBackward(x, gradOutput, gamma.value(), saveMean, saveInvStd, dx, dg, db, n, channels, inner);
        return Layers.grads(needInputGrad ? dx : null);
    }
}
