package dev.shears.core.nn.layers;

import dev.shears.core.backend.Backend;
import dev.shears.core.tensor.DType;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Layer;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;

import java.util.List;

/** Inverted dropout: active in training only, the identity at inference. */
public final class Dropout extends Layer {
    private final float rate;

    public Dropout(String name, float rate) {
        super(name);
        if (!(rate >= 0 && rate < 1)) throw new IllegalArgumentException(name + ": dropout rate " + rate + " outside [0, 1)");
        this.rate = rate;
    }

    public float rate() { return rate; }

    @Override public String type() { return "Dropout"; }

    @Override public Shape outputShape(List<Shape> in) { return Layers.single(in); }

    /** output buffer, the input's shape */
    private Tensor y;
    /** UINT8 keep mask of the last training forward, the input's shape */
    private Tensor keep;
    /** input-gradient buffer, the input's shape */
    private Tensor dx;
    /** whether the last forward dropped anything (training with rate > 0) */
    private Boolean active;

    @Override public Tensor forward(ExecContext ctx, List<Tensor> inputs) {
        Tensor x = Layers.input(this, inputs);
        active = ctx.training() && rate > 0;
        if (!active) return x;
        Backend b = ctx.backend();
        y = Layers.ensure(b, y, x.shape());
        keep = Layers.ensure(b, keep, x.shape(), DType.UINT8);
        // each layer draws its own mask: mix the layer name into the step seed
        // (seed = DropoutHash.mix(ctx.seed(), salt), formed by the backend: on the device in a captured step)
        b.dropout(x, y, keep, rate, ctx.seed(), name().hashCode());
        return y;
    }

    @Override public List<Tensor> backward(ExecContext ctx, Tensor gradOutput, boolean needInputGrad) {
        Layers.requireForward(this, active);
        if (!needInputGrad) return Layers.grads(null);
        if (!active) return Layers.grads(gradOutput);
        dx = Layers.ensure(ctx.backend(), dx, gradOutput.shape());
        ctx.backend().dropoutBackward(gradOutput, keep, dx, rate);
        return Layers.grads(dx);
    }
}
