package dev.shears.core.nn.layers;

import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Layer;
import dev.shears.core.nn.Parameter;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;

import java.util.List;

/**
 * 2-D convolution over NCHW images; kernel stored [out, in/groups, kh, kw] (the ONNX layout),
 * bias [out]. Padding is explicit (importers resolve 'same'/auto_pad from the input size).
 */
public final class Conv2D extends Layer {
    private final int inChannels, outChannels, kernelH, kernelW, strideH, strideW;
    private final int padTop, padLeft, padBottom, padRight, dilationH, dilationW, groups;
    private final Parameter kernel;
    private final Parameter bias;

    public Conv2D(String name, int inChannels, int outChannels, int kernelH, int kernelW,
                  int strideH, int strideW, int padTop, int padLeft, int padBottom, int padRight,
                  int dilationH, int dilationW, int groups, boolean useBias) {
        super(name);
        if (groups <= 0 || inChannels % groups != 0 || outChannels % groups != 0)
            throw new IllegalArgumentException(name + ": channels " + inChannels + " -> " + outChannels + " not divisible by groups " + groups);
        this.inChannels = inChannels;
        this.outChannels = outChannels;
        this.kernelH = kernelH;
        this.kernelW = kernelW;
        this.strideH = strideH;
        this.strideW = strideW;
        this.padTop = padTop;
        this.padLeft = padLeft;
        this.padBottom = padBottom;
        this.padRight = padRight;
        this.dilationH = dilationH;
        this.dilationW = dilationW;
        this.groups = groups;
        this.kernel = addParameter("kernel", Parameter.Role.KERNEL, Shape.of(outChannels, inChannels / groups, kernelH, kernelW), true);
        this.bias = useBias ? addParameter("bias", Parameter.Role.BIAS, Shape.of(outChannels), true) : null;
    }

    /** Square kernel, equal padding on every side, no dilation, one group. */
    public static Conv2D of(String name, int in, int out, int k, int stride, int pad, boolean useBias) {
        return new Conv2D(name, in, out, k, k, stride, stride, pad, pad, pad, pad, 1, 1, 1, useBias);
    }

    public int inChannels() { return inChannels; }
    public int outChannels() { return outChannels; }
    public int kernelH() { return kernelH; }
    public int kernelW() { return kernelW; }
    public int strideH() { return strideH; }
    public int strideW() { return strideW; }
    public int padTop() { return padTop; }
    public int padLeft() { return padLeft; }
    public int padBottom() { return padBottom; }
    public int padRight() { return padRight; }
    public int dilationH() { return dilationH; }
    public int dilationW() { return dilationW; }
    public int groups() { return groups; }
    public Parameter kernel() { return kernel; }
    public Parameter bias() { return bias; }

    /** The geometry of one group's sweep over an input of this spatial size. */
    public dev.shears.core.backend.ConvGeometry geometry(int height, int width) {
        return new dev.shears.core.backend.ConvGeometry(inChannels / groups, height, width, kernelH, kernelW, strideH, strideW,
                padTop, padLeft, padBottom, padRight, dilationH, dilationW, false);
    }

    @Override public String type() { return "Conv2D"; }

    @Override public Shape outputShape(List<Shape> in) {
        Shape s = Layers.image(in);
        if (s.dim(0) != inChannels) throw new IllegalArgumentException("expects " + inChannels + " input channels, got " + s);
        var g = geometry(s.dim(1), s.dim(2));
        return Shape.of(outChannels, g.outH(), g.outW());
    }

    @Override public Tensor forward(ExecContext ctx, List<Tensor> inputs) {
        throw new UnsupportedOperationException("forward of " + type() + " not implemented yet");
    }

    @Override public List<Tensor> backward(ExecContext ctx, Tensor gradOutput, boolean needInputGrad) {
        throw new UnsupportedOperationException("backward of " + type() + " not implemented yet");
    }
}
