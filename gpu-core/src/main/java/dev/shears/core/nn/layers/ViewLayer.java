package dev.shears.core.nn.layers;

import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Layer;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;

import java.util.List;

/**
 * A layer whose output is its input viewed with another per-sample shape (Flatten, Reshape):
 * forward and backward are reshapes of the same storage, no copy; subclasses give the shape.
 */
abstract sealed class ViewLayer extends Layer permits Flatten, Reshape {
    ViewLayer(String name) { super(name); }

    /** the last input's shape, [N, ...] */
    private Shape inShape;
    // cached views, so a steady training loop creates no new objects
    private Tensor lastIn, lastOut, lastDy, lastDx;

    @Override public final Tensor forward(ExecContext ctx, List<Tensor> inputs) {
        Tensor x = Layers.input(this, inputs);
        inShape = x.shape();
        if (x != lastIn) {
            int n = x.shape().dim(0);
            lastOut = x.reshape(outputShape(List.of(x.shape().dropBatch())).withBatch(n));
            lastIn = x;
        }
        return lastOut;
    }

    @Override public final List<Tensor> backward(ExecContext ctx, Tensor gradOutput, boolean needInputGrad) {
        Layers.requireForward(this, inShape);
        if (!needInputGrad) return Layers.grads(null);
        if (gradOutput != lastDy || !lastDx.shape().equals(inShape)) {
            lastDx = gradOutput.reshape(inShape);
            lastDy = gradOutput;
        }
        return Layers.grads(lastDx);
    }
}
