package dev.shears.core.nn.layers;

import dev.shears.core.backend.Backend;
import dev.shears.core.tensor.DType;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;

import java.util.List;

/** Max pooling over NCHW images (the window is {@link Pool2D}'s); padding never wins. */
public final class MaxPool2D extends Pool2D {

    public MaxPool2D(String name, int kernelH, int kernelW, int strideH, int strideW,
                     int padTop, int padLeft, int padBottom, int padRight, boolean ceilMode) {
        super(name, kernelH, kernelW, strideH, strideW, padTop, padLeft, padBottom, padRight, ceilMode);
    }

    @Override public String type() { return "MaxPool2D"; }

    /** INT32 arg-max of each output within its input plane, [N, C, outH, outW] */
    private Tensor argmax;

    @Override public Tensor forward(ExecContext ctx, List<Tensor> inputs) {
        Backend b = ctx.backend();
        Tensor x = beginForward(inputs);
        int n = inShape.dim(0);
        Shape out = Shape.of(n, inShape.dim(1), geometry.outH(), geometry.outW());
        y = Layers.ensure(b, y, out);
        argmax = Layers.ensure(b, argmax, out, DType.INT32);
        b.maxPool(x, y, argmax, geometry, n);
        return y;
    }

    @Override public List<Tensor> backward(ExecContext ctx, Tensor gradOutput, boolean needInputGrad) {
        Tensor g = inputGradBuffer(ctx, needInputGrad);
        if (g != null) ctx.backend().maxPoolBackward(gradOutput, argmax, g, geometry, inShape.dim(0));
        return Layers.grads(g);
    }
}
