package dev.shears.core.nn.layers;

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

    @Override public Tensor forward(ExecContext ctx, List<Tensor> inputs) {
        throw new UnsupportedOperationException("forward of " + type() + " not implemented yet");
    }

    @Override public List<Tensor> backward(ExecContext ctx, Tensor gradOutput, boolean needInputGrad) {
        throw new UnsupportedOperationException("backward of " + type() + " not implemented yet");
    }
}
