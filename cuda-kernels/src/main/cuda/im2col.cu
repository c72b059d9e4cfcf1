// im2col and its adjoint col2im for one NCHW image. CPU twins: CpuBackend.im2col, col2im.
// cols is [C*kh*kw, outH*outW]: row (c, ki, kj), column (oh, ow) holds
// x[c, oh*strideH - padTop + ki*dilH, ow*strideW - padLeft + kj*dilW], or 0 in the padding.
#include "common.cuh"
#include "window.cuh"

// One thread per cols element.
extern "C" __global__ void shears_im2col(const float* x, WindowGeom g, float* cols) {
    i64 colCols = (i64)g.outH * g.outW;
    i64 n = (i64)g.channels * g.kernelH * g.kernelW * colCols;
    GRID_STRIDE(idx, n) {
        i64 row = idx / colCols;
        int col = (int)(idx - row * colCols);
        int kj = (int)(row % g.kernelW);
        int ki = (int)((row / g.kernelW) % g.kernelH);
        int c = (int)(row / ((i64)g.kernelW * g.kernelH));
        int oh = col / g.outW, ow = col - (col / g.outW) * g.outW;
        int ih = oh * g.strideH - g.padTop + ki * g.dilationH;
        int iw = ow * g.strideW - g.padLeft + kj * g.dilationW;
        cols[idx] = (ih >= 0 && ih < g.height && iw >= 0 && iw < g.width)
                ? x[((i64)c * g.height + ih) * g.width + iw] : 0.0f;
    }
}

// im2col with the rows in tap-major order: row (ki, kj, c) = (ki*kW + kj)*C + c holds what row
// (c, ki, kj) holds above, so the input channels of one kernel tap are consecutive rows. Sparse
// inference of a Conv2D pruned 2:4 along input channels (ConvTaps) multiplies its tap-major kernel
// by it. CPU twin: CpuBackend.im2colTapMajor. One thread per cols element.
extern "C" __global__ void shears_im2col_tap_major(const float* x, WindowGeom g, float* cols) {
    i64 colCols = (i64)g.outH * g.outW;
    i64 n = (i64)g.channels * g.kernelH * g.kernelW * colCols;
    GRID_STRIDE(idx, n) {
        i64 row = idx / colCols;
        int col = (int)(idx - row * colCols);
        int c = (int)(row % g.channels);
        int tap = (int)(row / g.channels);
        int ki = tap / g.kernelW, kj = tap - (tap / g.kernelW) * g.kernelW;
        int oh = col / g.outW, ow = col - (col / g.outW) * g.outW;
        int ih = oh * g.strideH - g.padTop + ki * g.dilationH;
        int iw = ow * g.strideW - g.padLeft + kj * g.dilationW;
        cols[idx] = (ih >= 0 && ih < g.height && iw >= 0 && iw < g.width)
                ? x[((i64)c * g.height + ih) * g.width + iw] : 0.0f;
    }
}

// dx += fold(cols): one thread per input element gathers every cols entry that read it, in a
// fixed order (no atomics, deterministic).
extern "C" __global__ void shears_col2im(const float* cols, WindowGeom g, float* dx) {
    i64 colCols = (i64)g.outH * g.outW;
    i64 n = (i64)g.channels * g.height * g.width;
    GRID_STRIDE(idx, n) {
        int iw = (int)(idx % g.width);
        int ih = (int)((idx / g.width) % g.height);
        int c = (int)(idx / ((i64)g.width * g.height));
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
    GRID_STRIDE(idx, n) {
        i64 row = idx / colCols;
        i64 col = idx - row * colCols;
        i64 img = col / hw;
        int p = (int)(col - img * hw);
        int kj = (int)(row % g.kernelW);
        int ki = (int)((row / g.kernelW) % g.kernelH);
        int c = (int)(row / ((i64)g.kernelW * g.kernelH));
        int oh = p / g.outW, ow = p - (p / g.outW) * g.outW;
        int ih = oh * g.strideH - g.padTop + ki * g.dilationH;
        int iw = ow * g.strideW - g.padLeft + kj * g.dilationW;
        cols[idx] = (ih >= 0 && ih < g.height && iw >= 0 && iw < g.width)
                ? x[img * image + ((i64)c * g.height + ih) * g.width + iw] : 0.0f;
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
    GRID_STRIDE(idx, n) {
        i64 img = idx / image;
        i64 r = idx - img * image;
        int c = (int)(r / plane);
        int ih = (int)((r - c * plane) / g.width);
        int iw = (int)(r - c * plane - (i64)ih * g.width);
        const float* base = cols + img * hw;
        float s = 0.0f;
        for_each_window_reading(g, ih, iw, [&](int oh, int ow, int ki, int kj) {
            i64 row = ((i64)c * g.kernelH + ki) * g.kernelW + kj;
            s += base[row * colCols + (i64)oh * g.outW + ow];
        });
        dx[idx] += s;
    }
}
