// im2col and its adjoint col2im for one NCHW image. CPU twins: CpuBackend.im2col, col2im.
// cols is [C*kh*kw, outH*outW]: row (c, ki, kj), column (oh, ow) holds
// x[c, oh*strideH - padTop + ki*dilH, ow*strideW - padLeft + kj*dilW], or 0 in the padding.
#include "common.cuh"
#include "window.cuh"

// One thread per cols element.
extern "C" __global__ void shears_im2col(const float* x, WindowGeom g, float* cols) {
    i64 colCols = (i64)g.outH * g.outW;
    i64 n = (i64)g.channels * g.kernelH * g.kernelW * colCols;
    Digits<unsigned, 4> at;  // idx = (((c*kH + ki)*kW + kj)*outH + oh)*outW + ow: (ow, oh, kj, ki), c = at.top
    at.radix[0] = g.outW;
    at.radix[1] = g.outH;
    at.radix[2] = g.kernelW;
    at.radix[3] = g.kernelH;
    GRID_STRIDE_DIGITS(idx, n, at) {
        int ow = (int)at.digit[0], oh = (int)at.digit[1], kj = (int)at.digit[2], ki = (int)at.digit[3];
        int c = (int)at.top;
        cols[idx] = window_tap(x, g, c, oh, ow, ki, kj);
    }
}

// im2col with the rows in tap-major order: row (ki, kj, c) = (ki*kW + kj)*C + c holds what row
// (c, ki, kj) holds above, so the input channels of one kernel tap are consecutive rows. Sparse
// inference of a Conv2D pruned 2:4 along input channels (ConvTaps) multiplies its tap-major kernel
// by it. CPU twin: CpuBackend.im2colTapMajor. One thread per cols element.
extern "C" __global__ void shears_im2col_tap_major(const float* x, WindowGeom g, float* cols) {
    i64 colCols = (i64)g.outH * g.outW;
    i64 n = (i64)g.channels * g.kernelH * g.kernelW * colCols;
    Digits<unsigned, 4> at;  // idx = (((ki*kW + kj)*C + c)*outH + oh)*outW + ow: (ow, oh, c, kj), ki = at.top
    at.radix[0] = g.outW;
    at.radix[1] = g.outH;
    at.radix[2] = g.channels;
    at.radix[3] = g.kernelW;
    GRID_STRIDE_DIGITS(idx, n, at) {
        int ow = (int)at.digit[0], oh = (int)at.digit[1], c = (int)at.digit[2], kj = (int)at.digit[3];
        int ki = (int)at.top;
        cols[idx] = window_tap(x, g, c, oh, ow, ki, kj);
    }
}

// dx += fold(cols): one thread per input element gathers every cols entry that read it, in a
// fixed order (no atomics, deterministic).
extern "C" __global__ void shears_col2im(const float* cols, WindowGeom g, float* dx) {
    i64 colCols = (i64)g.outH * g.outW;
    i64 n = (i64)g.channels * g.height * g.width;
    Digits<unsigned, 2> at;  // idx = (c*H + ih)*W + iw: (iw, ih), c = at.top
    at.radix[0] = g.width;
    at.radix[1] = g.height;
    GRID_STRIDE_DIGITS(idx, n, at) {
        int iw = (int)at.digit[0], ih = (int)at.digit[1], c = (int)at.top;
        float s = 0.0f;
        for_each_window_reading(g, ih, iw, [&](int oh, int ow, int ki, int kj) {
            i64 row = ((i64)c * g.kernelH + ki) * g.kernelW + kj;
            s += cols[row * colCols + (i64)oh * g.outW + ow];
        });
        dx[idx] += s;
    }
}

// im2col of a batch of images side by side: x is [images, C, H, W]; cols is
// [C*kh*kw, images*outH*outW], row (c, ki, kj), column i*outH*outW + (oh, ow) holding what column
// (oh, ow) of image i's shears_im2col holds. A convolution then multiplies a whole chunk of images
// in one GEMM (and sums its weight gradient over them in one). CPU twin: CpuBackend.im2colBatch.
// One thread per cols element.
extern "C" __global__ void shears_im2col_batch(const float* x, WindowGeom g, int images, float* cols) {
    i64 hw = (i64)g.outH * g.outW;
    i64 colCols = hw * images;
    i64 image = (i64)g.channels * g.height * g.width;
    i64 n = (i64)g.channels * g.kernelH * g.kernelW * colCols;
    // idx = ((((c*kH + ki)*kW + kj)*images + img)*outH + oh)*outW + ow: (ow, oh, img, kj, ki), c = at.top
    Digits<unsigned, 5> at;
    at.radix[0] = g.outW;
    at.radix[1] = g.outH;
    at.radix[2] = images;
    at.radix[3] = g.kernelW;
    at.radix[4] = g.kernelH;
    GRID_STRIDE_DIGITS(idx, n, at) {
        int ow = (int)at.digit[0], oh = (int)at.digit[1], kj = (int)at.digit[3], ki = (int)at.digit[4];
        i64 img = at.digit[2];
        int c = (int)at.top;
        cols[idx] = window_tap(x + img * image, g, c, oh, ow, ki, kj);
    }
}

// The adjoint of shears_im2col_batch: dx [images, C, H, W] += fold(cols [C*kh*kw, images*outH*outW]).
// One thread per input element gathers, in the fixed order of for_each_window_reading, every cols
// entry of its own image that read it (no atomics, deterministic). CPU twin: CpuBackend.col2imBatch.
extern "C" __global__ void shears_col2im_batch(const float* cols, WindowGeom g, int images, float* dx) {
    i64 hw = (i64)g.outH * g.outW;
    i64 colCols = hw * images;
    i64 plane = (i64)g.height * g.width;
    i64 image = (i64)g.channels * plane;
    i64 n = image * images;
    Digits<unsigned, 3> at;  // idx = ((img*C + c)*H + ih)*W + iw: (iw, ih, c), img = at.top
    at.radix[0] = g.width;
    at.radix[1] = g.height;
    at.radix[2] = g.channels;
    GRID_STRIDE_DIGITS(idx, n, at) {
        int iw = (int)at.digit[0], ih = (int)at.digit[1], c = (int)at.digit[2];
        i64 img = at.top;
        const float* base = cols + img * hw;
        float s = 0.0f;
        for_each_window_reading(g, ih, iw, [&](int oh, int ow, int ki, int kj) {
            i64 row = ((i64)c * g.kernelH + ki) * g.kernelW + kj;
            s += base[row * colCols + (i64)oh * g.outW + ow];
        });
        dx[idx] += s;
    }
}
