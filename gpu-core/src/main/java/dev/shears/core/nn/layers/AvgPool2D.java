package dev.shears.core.nn.layers;

import dev.shears.core.backend.Backend;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;

import java.util.List;

/** Average pooling over NCHW images (the window is {@link Pool2D}'s). */
public final class AvgPool2D extends Pool2D {
    private final boolean countIncludePad;

    public AvgPool2D(String name, int kernelH, int kernelW, int strideH, int strideW,
                     int padTop, int padLeft, int padBottom, int padRight, boolean ceilMode, boolean countIncludePad) {
        super(name, kernelH, kernelW, strideH, strideW, padTop, padLeft, padBottom, padRight, ceilMode);
        this.countIncludePad = countIncludePad;
    }

    /** padding counts in each window's divisor (taps inside the padded input; see Backend.avgPool) */
    public boolean countIncludePad() { return countIncludePad; }

    @Override public String type() { return "AvgPool2D"; }

    @Override public Tensor forward(ExecContext ctx, List<Tensor> inputs) {
        Backend b = ctx.backend();
        Tensor x = beginForward(inputs);
        int n = inShape.dim(0);
        y = Layers.ensure(b, y, Shape.of(n, inShape.dim(1), geometry.outH(), geometry.outW()));
        b.avgPool(x, y, geometry, n, countIncludePad);
        return y;
    }

    @Override public List<Tensor> backward(ExecContext ctx, Tensor gradOutput, boolean needInputGrad) {
        Tensor g = inputGradBuffer(ctx, needInputGrad);
        if (g != null) ctx.backend().avgPoolBackward(gradOutput, g, geometry, inShape.dim(0), countIncludePad);
        return Layers.grads(g);
    }
}
