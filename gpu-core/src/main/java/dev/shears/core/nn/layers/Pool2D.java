package dev.shears.core.nn.layers;

import dev.shears.core.backend.ConvGeometry;
import dev.shears.core.tensor.Shape;

import java.util.List;

/** The window of a 2-D pooling layer over NCHW images: explicit padding, optional ceil mode (ONNX/PyTorch). */
public abstract sealed class Pool2D extends PlaneSweepLayer permits MaxPool2D, AvgPool2D {
    private final int kernelH, kernelW, strideH, strideW, padTop, padLeft, padBottom, padRight;
    private final boolean ceilMode;

    Pool2D(String name, int kernelH, int kernelW, int strideH, int strideW,
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

    public ConvGeometry geometry(int channels, int height, int width) {
        return new ConvGeometry(channels, height, width, kernelH, kernelW, strideH, strideW,
                padTop, padLeft, padBottom, padRight, 1, 1, ceilMode);
    }

    @Override final ConvGeometry sweep(int channels, int height, int width) { return geometry(channels, height, width); }

    @Override public final Shape outputShape(List<Shape> in) {
        Shape s = Layers.image(in);
        var g = geometry(s.dim(0), s.dim(1), s.dim(2));
        return Shape.of(s.dim(0), g.outH(), g.outW());
    }
}
