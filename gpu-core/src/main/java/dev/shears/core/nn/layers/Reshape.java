package dev.shears.core.nn.layers;

import dev.shears.core.backend.Backend;
import dev.shears.core.tensor.DType;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Layer;
import dev.shears.core.nn.Parameter;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;

import java.util.List;

/** Reshapes each sample to a fixed per-sample shape (same number of elements). */
public final class Reshape extends Layer {
    private final Shape target;

    public Reshape(String name, Shape target) {
        super(name);
        this.target = target;
    }

    public Shape target() { return target; }

    @Override public String type() { return "Reshape"; }

    @Override public Shape outputShape(List<Shape> in) {
        Shape s = Layers.single(in);
        if (s.size() != target.size()) throw new IllegalArgumentException("cannot reshape " + s + " to " + target);
        return target;
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
