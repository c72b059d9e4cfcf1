package dev.shears.core.nn.layers;

import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Layer;
import dev.shears.core.nn.Parameter;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;

import java.util.List;

/** Max pooling over NCHW images, explicit padding, optional ceil mode (ONNX/PyTorch). */
public final class MaxPool2D extends Layer {
    private final int kernelH, kernelW, strideH, strideW, padTop, padLeft, padBottom, padRight;
    private final boolean ceilMode;

    public MaxPool2D(String name, int kernelH, int kernelW, int strideH, int strideW,
                     int padTop, int padLeft, int padBottom, int padRight, boolean ceilMode) {
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

    public dev.shears.core.backend.ConvGeometry geometry(int channels, int height, int width) {
        return new dev.shears.core.backend.ConvGeometry(channels, height, width, kernelH, kernelW, strideH, strideW,
                padTop, padLeft, padBottom, padRight, 1, 1, ceilMode);
    }

    @Override public String type() { return "MaxPool2D"; }

    @Override public Shape outputShape(List<Shape> in) {
        Shape s = Layers.image(in);
        var g = geometry(s.dim(0), s.dim(1), s.dim(2));
        return Shape.of(s.dim(0), g.outH(), g.outW());
    }

    @Override public Tensor forward(ExecContext ctx, List<Tensor> inputs) {
        throw new UnsupportedOperationException("forward of " + type() + " not implemented yet");
    }

    @Override public List<Tensor> backward(ExecContext ctx, Tensor gradOutput, boolean needInputGrad) {
        throw new UnsupportedOperationException("backward of " + type() + " not implemented yet");
    }
}
