package dev.shears.core.nn.layers;

import dev.shears.core.backend.Backend;
import dev.shears.core.tensor.DType;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Layer;
import dev.shears.core.nn.Parameter;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;

import java.util.List;

/** Flattens each sample to one dimension in row-major (NCHW) order. */
public final class Flatten extends Layer {
    public Flatten(String name) { super(name); }

    @Override public String type() { return "Flatten"; }

    @Override public Shape outputShape(List<Shape> in) {
        return Shape.of(Layers.single(in).size());
    }

    /** the last input's shape, [N, ...] */
    private Shape inShape;
    // cached views, so a steady training loop creates no new objects
    private Tensor lastIn, lastOut, lastDy, lastDx;

    @Override public Tensor forward(ExecContext ctx, List<Tensor> inputs) {
        Tensor x = Layers.input(this, inputs);
        inShape = x.shape();
        if (x != lastIn) {
            int n = x.shape().dim(0);
            lastOut = x.reshape(outputShape(List.of(x.shape().dropBatch())).withBatch(n));
            lastIn = x;
        }
        return lastOut;
    }

    @Override public List<Tensor> backward(ExecContext ctx, Tensor gradOutput, boolean needInputGrad) {
        Layers.requireForward(this, inShape);
        if (!needInputGrad) return Layers.grads(null);
        if (gradOutput != lastDy || !lastDx.shape().equals(inShape)) {
            lastDx = gradOutput.reshape(inShape);
            lastDy = gradOutput;
        }
        return Layers.grads(lastDx);
    }
}
