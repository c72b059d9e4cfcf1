package dev.shears.core.backend;

/**
 * The shape of one 2-D convolution or pooling window sweep over one image in NCHW layout.
 * Output size per axis: {@code (in + padBegin + padEnd - dilation*(k-1) - 1) / stride + 1}
 * (floor), or ceiling when {@code ceilMode} (ONNX/PyTorch pooling only).
 *
 * @param channels  input channels C (for a grouped convolution: the channels of one group)
 * @param height    input height H
 * @param width     input width W
 */
public record ConvGeometry(int channels, int height, int width,
                           int kernelH, int kernelW,
                           int strideH, int strideW,
                           int padTop, int padLeft, int padBottom, int padRight,
                           int dilationH, int dilationW,
                           boolean ceilMode) {

    public ConvGeometry {
        if (channels <= 0 || height <= 0 || width <= 0) throw new IllegalArgumentException("bad input size " + channels + "x" + height + "x" + width);
        if (kernelH <= 0 || kernelW <= 0) throw new IllegalArgumentException("bad kernel " + kernelH + "x" + kernelW);
        if (strideH <= 0 || strideW <= 0) throw new IllegalArgumentException("bad stride " + strideH + "x" + strideW);
        if (dilationH <= 0 || dilationW <= 0) throw new IllegalArgumentException("bad dilation " + dilationH + "x" + dilationW);
        if (padTop < 0 || padLeft < 0 || padBottom < 0 || padRight < 0) throw new IllegalArgumentException("negative padding");
        // fields are not assigned yet inside a compact constructor: compute from the parameters
        if (outSize(height, kernelH, strideH, padTop, padBottom, dilationH, ceilMode) <= 0
                || outSize(width, kernelW, strideW, padLeft, padRight, dilationW, ceilMode) <= 0)
            throw new IllegalArgumentException("window " + kernelH + "x" + kernelW + " does not fit input " + height + "x" + width);
    }

    /** Square kernel and stride, the same padding on every side, unit dilation, floor mode. */
    public static ConvGeometry simple(int channels, int height, int width, int k, int stride, int pad) {
        return new ConvGeometry(channels, height, width, k, k, stride, stride, pad, pad, pad, pad, 1, 1, false);
    }

    /**
     * TensorFlow/Keras 'same' padding of one axis, also ONNX's {@code auto_pad} SAME_UPPER: the
     * output is {@code ceil(in / stride)}; the total padding that takes,
     * {@code max((out - 1) * stride + (k - 1) * dilation + 1 - in, 0)}, is split {before, after}
     * with the odd pixel after (bottom/right). ONNX's SAME_LOWER is the same pair swapped.
     */
    public static int[] samePadding(int in, int k, int stride, int dilation) {
        if (in <= 0 || k <= 0 || stride <= 0 || dilation <= 0)
            throw new IllegalArgumentException("same padding: input " + in + ", kernel " + k + ", stride " + stride + ", dilation " + dilation
                    + " must all be positive");
        int out = (in + stride - 1) / stride;
        int total = Math.max((out - 1) * stride + (k - 1) * dilation + 1 - in, 0);
        return new int[]{total / 2, total - total / 2};
    }

    public int outH() { return outSize(height, kernelH, strideH, padTop, padBottom, dilationH, ceilMode); }

    public int outW() { return outSize(width, kernelW, strideW, padLeft, padRight, dilationW, ceilMode); }

    /** Rows of the im2col matrix: C*kh*kw. */
    public int colRows() { return channels * kernelH * kernelW; }

    /** Columns of the im2col matrix: outH*outW. */
    public int colCols() { return outH() * outW(); }

    /** Elements of n input images, [n, C, H, W]. */
    public long imageElements(long n) { return n * channels * height * width; }

    /** Elements of n pooled images, [n, C, outH, outW] (pooling keeps the channels). */
    public long pooledElements(long n) { return n * channels * outH() * outW(); }

    /** Elements of n images' im2col columns, [colRows, colCols] each. */
    public long columnElements(long n) { return n * colRows() * colCols(); }

    private static int outSize(int in, int k, int s, int p0, int p1, int d, boolean ceilMode) {
        int span = in + p0 + p1 - d * (k - 1) - 1;
        if (span < 0) return 0;
        int o = ceilMode ? (span + s - 1) / s + 1 : span / s + 1;
        // ceil mode: the last window must start inside the input or the begin padding (ONNX rule)
        if (ceilMode && (o - 1) * s >= in + p0) o--;
        return o;
    }
}
