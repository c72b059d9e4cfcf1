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
