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

/** Avg pooling over NCHW images, explicit padding, optional ceil mode (ONNX/PyTorch). */
public final class AvgPool2D extends Layer {
    private final int kernelH, kernelW, strideH, strideW, padTop, padLeft, padBottom, padRight;
    private final boolean ceilMode;
    private final boolean countIncludePad;

    public AvgPool2D(String name, int kernelH, int kernelW, int strideH, int strideW,
                     int padTop, int padLeft, int padBottom, int padRight, boolean ceilMode, boolean countIncludePad) {
        super(name);
        this.kernelH = kernelH;
        this.kernelW = kernelW;
        this.strideH = strideH;
        this.strideW = strideW;
        this.padTop = padTop;
        this.padLeft = padLeft;
        this.padBottom = padBottom;
        this.padRight = padRight;
        this.ceilMode = ceilMode;
        this.countIncludePad = countIncludePad;
    }

    public int kernelH() { return kernelH; }
    public int kernelW() { return kernelW; }
    public int strideH() { return strideH; }
    public int strideW() { return strideW; }
    public int padTop() { return padTop; }
    public int padLeft() { return padLeft; }
    public int padBottom() { return padBottom; }
    public int padRight() { return padRight; }
    public boolean ceilMode() { return ceilMode; }
    /** divide by the full window size even where it covers padding */
    public boolean countIncludePad() { return countIncludePad; }

    public dev.shears.core.backend.ConvGeometry geometry(int channels, int height, int width) {
        return new dev.shears.core.backend.ConvGeometry(channels, height, width, kernelH, kernelW, strideH, strideW,
                padTop, padLeft, padBottom, padRight, 1, 1, ceilMode);
    }

    @Override public String type() { return "AvgPool2D"; }

    @Override public Shape outputShape(List<Shape> in) {
        Shape s = Layers.image(in);
        var g = geometry(s.dim(0), s.dim(1), s.dim(2));
        return Shape.of(s.dim(0), g.outH(), g.outW());
    }

    /** the last input's shape, [N, C, H, W] */
    private Shape inShape;
    private ConvGeometry geometry;
    /** output buffer, [N, C, outH, outW] */
    private Tensor y;
    /** input-gradient buffer, [N, C, H, W] */
    private Tensor dx;

    @Override public Tensor forward(ExecContext ctx, List<Tensor> inputs) {
        Backend b = ctx.backend();
        Tensor x = Layers.input(this, inputs);
        if (x.shape().rank() != 4) throw new IllegalArgumentException(this + ": expects an [N, C, H, W] input, got " + x);
        inShape = x.shape();
        int n = inShape.dim(0);
        geometry = geometry(inShape.dim(1), inShape.dim(2), inShape.dim(3));
        y = Layers.ensure(b, y, Shape.of(n, inShape.dim(1), geometry.outH(), geometry.outW()));
        b.avgPool(x, y, geometry, n, countIncludePad);
        return y;
    }

    @Override public List<Tensor> backward(ExecContext ctx, Tensor gradOutput, boolean needInputGrad) {
        Layers.requireForward(this, inShape);
        if (!needInputGrad) return Layers.grads(null);
        dx = Layers.ensure(ctx.backend(), dx, inShape);
        ctx.backend().avgPoolBackward(gradOutput, dx, geometry, inShape.dim(0), countIncludePad);
        return Layers.grads(dx);
    }
}
