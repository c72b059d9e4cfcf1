package dev.shears.core.nn.layers;

import dev.shears.core.backend.Backend;
import dev.shears.core.tensor.DType;
import dev.shears.core.backend.ConvGeometry;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Layer;
import dev.shears.core.nn.Parameter;
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

    /** the last input's shape, [N, C, H, W] */
    private Shape inShape;
    private ConvGeometry geometry;
    /** output buffer, [N, C, outH, outW] */
    private Tensor y;
    /** input-gradient buffer, [N, C, H, W] */
    private Tensor dx;
    /** INT32 arg-max of each output within its input plane, [N, C, outH, outW] */
    private Tensor argmax;

    @Override public Tensor forward(ExecContext ctx, List<Tensor> inputs) {
        Backend b = ctx.backend();
        Tensor x = Layers.input(this, inputs);
        if (x.shape().rank() != 4) throw new IllegalArgumentException(this + ": expects an [N, C, H, W] input, got " + x);
        inShape = x.shape();
        int n = inShape.dim(0);
        geometry = geometry(inShape.dim(1), inShape.dim(2), inShape.dim(3));
        Shape out = Shape.of(n, inShape.dim(1), geometry.outH(), geometry.outW());
        y = Layers.ensure(b, y, out);
        argmax = Layers.ensure(b, argmax, out, DType.INT32);
        b.maxPool(x, y, argmax, geometry, n);
        return y;
    }

    @Override public List<Tensor> backward(ExecContext ctx, Tensor gradOutput, boolean needInputGrad) {
        Layers.requireForward(this, inShape);
        if (!needInputGrad) return Layers.grads(null);
        dx = Layers.ensure(ctx.backend(), dx, inShape);
        ctx.backend().maxPoolBackward(gradOutput, argmax, dx, geometry, inShape.dim(0));
        return Layers.grads(dx);
    }
}
