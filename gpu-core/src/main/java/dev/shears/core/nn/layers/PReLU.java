package dev.shears.core.nn.layers;

import dev.shears.core.backend.Backend;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Layer;
import dev.shears.core.nn.Parameter;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;

import java.util.List;

/**
 * y = x > 0 ? x : slope * x. The slope is per channel (shape [C], channel = per-sample axis 0)
 * or per element (the full per-sample shape).
 */
public final class PReLU extends Layer {
    private final Parameter slope;

    public PReLU(String name, Shape slopeShape) {
        super(name);
        this.slope = addParameter("alpha", Parameter.Role.SLOPE, slopeShape, true);
    }

    public Parameter slope() { return slope; }

    @Override public String type() { return "PReLU"; }

    @Override public Shape outputShape(List<Shape> in) {
        Shape s = Layers.single(in);
        Shape a = slope.shape();
        boolean perChannel = a.rank() == 1 && a.dim(0) == s.dim(0);
        if (!perChannel && a.size() != s.size())
            throw new IllegalArgumentException("slope " + a + " fits neither the channels nor the whole of input " + s);
        return s;
    }

    /** the last input, [N, ...] */
    private Tensor x;
    /** output buffer, the input's shape */
    private Tensor y;
    /** input-gradient buffer, the input's shape */
    private Tensor dx;
    /** slope-gradient scratch when the slope is frozen, the slope's shape */
    private Tensor dSlopeScratch;
    private int outer, channels, inner;

    @Override public Tensor forward(ExecContext ctx, List<Tensor> inputs) {
        x = Layers.input(this, inputs);
        Shape per = x.shape().dropBatch();
        outputShape(List.of(per)); // validates the slope against the input
        Shape a = slope.shape();
        boolean perChannel = a.rank() == 1 && a.dim(0) == per.dim(0);
        outer = x.shape().dim(0);
        channels = perChannel ? a.dim(0) : (int) per.size();
        inner = (int) (per.size() / channels);
        y = Layers.ensure(ctx.backend(), y, x.shape());
        ctx.backend().prelu(x, slope.value(), y, outer, channels, inner);
        return y;
    }

    @Override public List<Tensor> backward(ExecContext ctx, Tensor gradOutput, boolean needInputGrad) {
        Layers.requireForward(this, x);
        Backend b = ctx.backend();
        dx = Layers.ensure(b, dx, x.shape());
        Tensor ds = slope.grad();
        if (ds == null) ds = dSlopeScratch = Layers.ensure(b, dSlopeScratch, slope.shape());
        b.preluBackward(x, slope.value(), gradOutput, dx, ds, outer, channels, inner);
        return Layers.grads(needInputGrad ? dx : null);
    }
}
