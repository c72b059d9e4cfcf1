package dev.shears.kernels;

/**
 * A convolution or pooling window sweep over one NCHW image as the kernels take it: the fields of
 * the WindowGeom struct in window.cuh (im2col.cu, pooling.cu), in that order (15 ints passed by
 * value). Built from gpu-core's ConvGeometry by the backend.
 */
public record KernelGeometry(int channels, int height, int width, int kernelH, int kernelW,
                             int strideH, int strideW, int padTop, int padLeft, int dilationH, int dilationW,
                             int outH, int outW, int padBottom, int padRight) {

    public KernelGeometry {
        if (channels <= 0 || height <= 0 || width <= 0 || kernelH <= 0 || kernelW <= 0 || strideH <= 0 || strideW <= 0
                || dilationH <= 0 || dilationW <= 0 || outH <= 0 || outW <= 0 || padTop < 0 || padLeft < 0 || padBottom < 0 || padRight < 0) {
            throw new IllegalArgumentException("invalid kernel geometry " + this);
        }
    }

    /** The struct's fields in declaration order. */
    public int[] packed() {
        return new int[] {channels, height, width, kernelH, kernelW, strideH, strideW, padTop, padLeft, dilationH, dilationW,
                outH, outW, padBottom, padRight};
    }

    public long inputPlane() { return (long) height * width; }

    public long outputPlane() { return (long) outH * outW; }
}
