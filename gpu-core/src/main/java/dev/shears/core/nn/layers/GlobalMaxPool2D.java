package dev.shears.core.nn.layers;

import dev.shears.core.backend.Backend;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.tensor.DType;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;

import java.util.List;

/**
 * Maximum over H and W of [C, H, W]: output [C] (Keras GlobalMaxPooling2D) or [C, 1, 1] when
 * keepDims (ONNX GlobalMaxPool). It is max pooling with one window covering the whole plane, run
 * by the backend's max-pool forward and backward (the gradient goes to the arg-max).
 */
public final class GlobalMaxPool2D extends GlobalPool2D {
    /** INT32 arg-max of each output within its input plane, [N, C] (or [N, C, 1, 1] with keepDims) */
    private Tensor argmax;

    public GlobalMaxPool2D(String name, boolean keepDims) {
        super(name, keepDims);
    }

    @Override public String type() { return "GlobalMaxPool2D"; }

    @Override public Tensor forward(ExecContext ctx, List<Tensor> inputs) {
        Backend b = ctx.backend();
        Tensor x = beginForward(inputs);
        Shape out = batchOutputShape();
        y = Layers.ensure(b, y, out);
        argmax = Layers.ensure(b, argmax, out, DType.INT32);
        b.maxPool(x, y, argmax, geometry, inShape.dim(0));
        return y;
    }

    @Override public List<Tensor> backward(ExecContext ctx, Tensor gradOutput, boolean needInputGrad) {
        Tensor g = inputGradBuffer(ctx, needInputGrad);
        if (g != null) ctx.backend().maxPoolBackward(gradOutput, argmax, g, geometry, inShape.dim(0));
        return Layers.grads(g);
    }
}
