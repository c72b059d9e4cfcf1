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

    /** the last input, [N, C, H, W] */
    private Tensor x;
    private ConvGeometry geometry;
    /** output buffer, [N, outChannels, outH, outW] */
    private Tensor y;
    /** im2col of one image, all groups: [groups, C/groups*kh*kw, outH*outW] */
    private Tensor cols;
    /** gradient of cols, same shape */
    private Tensor dCols;
    /** input-gradient buffer, [N, C, H, W] */
    private Tensor dx;

    /** A 1x1, stride-1, unpadded kernel: the image itself is its im2col matrix. */
    private boolean pointwise() {
        return kernelH == 1 && kernelW == 1 && strideH == 1 && strideW == 1 && dilationH == 1 && dilationW == 1
                && padTop == 0 && padLeft == 0 && padBottom == 0 && padRight == 0;
    }

    @Override public Tensor forward(ExecContext ctx, List<Tensor> inputs) {
        Backend b = ctx.backend();
        x = Layers.input(this, inputs);
        Shape s = x.shape();
        if (s.rank() != 4 || s.dim(1) != inChannels)
            throw new IllegalArgumentException(this + ": expects an [N, " + inChannels + ", H, W] input, got " + x);
        int n = s.dim(0), h = s.dim(2), w = s.dim(3);
        geometry = geometry(h, w);
        int cg = inChannels / groups, ocg = outChannels / groups;
        int rows = geometry.colRows(), hw = geometry.colCols();
        long imageSize = (long) inChannels * h * w, outImage = (long) outChannels * hw;
        y = Layers.ensure(b, y, Shape.of(n, outChannels, geometry.outH(), geometry.outW()));
        boolean direct = pointwise();
        if (!direct) cols = Layers.ensure(b, cols, Shape.of(groups, rows, hw));
        for (int i = 0; i < n; i++) {
            long xo = i * imageSize;
            Tensor src = direct ? x : cols;
            long srcOff = direct ? xo : 0;
            long srcStride = direct ? (long) cg * h * w : (long) rows * hw;
            if (!direct)
                for (int g = 0; g < groups; g++) b.im2col(x, xo + (long) g * cg * h * w, geometry, cols, (long) g * rows * hw);
            // per group: y_g [ocg, hw] = W_g [ocg, rows] * cols_g [rows, hw]
            b.gemm(false, false, ocg, hw, rows, 1f, kernel.value(), 0, (long) ocg * rows,
                    src, srcOff, srcStride, 0f, y, i * outImage, (long) ocg * hw, groups);
        }
        if (bias != null) b.addBias(y, bias.value(), n, outChannels, hw);
        return y;
    }

    @Override public List<Tensor> backward(ExecContext ctx, Tensor gradOutput, boolean needInputGrad) {
        Layers.requireForward(this, x);
        Backend b = ctx.backend();
        Shape s = x.shape();
        int n = s.dim(0), h = s.dim(2), w = s.dim(3);
        int cg = inChannels / groups, ocg = outChannels / groups;
        int rows = geometry.colRows(), hw = geometry.colCols();
        long imageSize = (long) inChannels * h * w, outImage = (long) outChannels * hw;
        boolean direct = pointwise();
        Tensor dW = kernel.grad();
        if (bias != null && bias.grad() != null) b.biasGrad(gradOutput, bias.grad(), n, outChannels, hw, true);
        if (needInputGrad) {
            dx = Layers.ensure(b, dx, s);
            if (!direct) {
                b.fill(dx, 0f);
                dCols = Layers.ensure(b, dCols, Shape.of(groups, rows, hw));
            }
        }
        for (int i = 0; i < n; i++) {
            long xo = i * imageSize, yo = i * outImage;
            Tensor src = direct ? x : cols;
            long srcOff = direct ? xo : 0;
            long srcStride = direct ? (long) cg * h * w : (long) rows * hw;
            if (dW != null) {
                // recompute this image's columns (cheaper than keeping N of them)
                if (!direct)
                    for (int g = 0; g < groups; g++) b.im2col(x, xo + (long) g * cg * h * w, geometry, cols, (long) g * rows * hw);
                // dW_g [ocg, rows] += dy_g [ocg, hw] * cols_g^T
                b.gemm(false, true, ocg, rows, hw, 1f, gradOutput, yo, (long) ocg * hw,
                        src, srcOff, srcStride, 1f, dW, 0, (long) ocg * rows, groups);
            }
            if (needInputGrad) {
                // dcols_g [rows, hw] = W_g^T * dy_g ; written straight into dx for 1x1 kernels
                Tensor dst = direct ? dx : dCols;
                b.gemm(true, false, rows, hw, ocg, 1f, kernel.value(), 0, (long) ocg * rows,
                        gradOutput, yo, (long) ocg * hw, 0f, dst, srcOff, srcStride, groups);
                if (!direct)
                    for (int g = 0; g < groups; g++) b.col2im(dCols, (long) g * rows * hw, geometry, dx, xo + (long) g * cg * h * w);
            }
        }
        return Layers.grads(needInputGrad ? dx : null);
    }
}
