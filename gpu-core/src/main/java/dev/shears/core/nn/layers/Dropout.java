package dev.shears.core.nn.layers;

import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Layer;
import dev.shears.core.nn.Parameter;
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

    @Override public Tensor forward(ExecContext ctx, List<Tensor> inputs) {
        throw new UnsupportedOperationException("forward of " + type() + " not implemented yet");
    }

    @Override public List<Tensor> backward(ExecContext ctx, Tensor gradOutput, boolean needInputGrad) {
        throw new UnsupportedOperationException("backward of " + type() + " not implemented yet");
    }
}
