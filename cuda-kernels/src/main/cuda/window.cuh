// The window sweep shared by im2col.cu and pooling.cu: window (oh, ow), tap (ki, kj) reads input
// row oh*strideH - padTop + ki*dilationH and column ow*strideW - padLeft + kj*dilationW.
#pragma once

struct WindowGeom {
    int channels, height, width, kernelH, kernelW, strideH, strideW, padTop, padLeft, dilationH, dilationW,
        outH, outW, padBottom, padRight; // KernelGeometry.packed(), same order
};

// Input row and column that tap (ki, kj) of window (oh, ow) reads (either may lie in the padding).
__device__ __forceinline__ int window_row(const WindowGeom& g, int oh, int ki) { return oh * g.strideH - g.padTop + ki * g.dilationH; }
__device__ __forceinline__ int window_col(const WindowGeom& g, int ow, int kj) { return ow * g.strideW - g.padLeft + kj * g.dilationW; }

// What tap (ki, kj) of window (oh, ow) reads from channel c of the image at x [C, H, W]: the input
// element, or 0 in the padding (the im2col kernels' cols entry).
__device__ __forceinline__ float window_tap(const float* x, const WindowGeom& g, int c, int oh, int ow, int ki, int kj) {
    int ih = window_row(g, oh, ki), iw = window_col(g, ow, kj);
    return (ih >= 0 && ih < g.height && iw >= 0 && iw < g.width) ? x[((i64)c * g.height + ih) * g.width + iw] : 0.0f;
}

// Calls f(ih, iw) for every tap of window (oh, ow) that lies inside the input, in (ki, kj)
// row-major order (the pooling forward passes; the first maximum in this order wins).
template <typename F>
__device__ __forceinline__ void for_each_window_tap(const WindowGeom& g, int oh, int ow, F f) {
    for (int ki = 0; ki < g.kernelH; ki++) {
        int ih = window_row(g, oh, ki);
        if (ih < 0 || ih >= g.height) continue;
        for (int kj = 0; kj < g.kernelW; kj++) {
            int iw = window_col(g, ow, kj);
            if (iw >= 0 && iw < g.width) f(ih, iw);
        }
    }
}

// Calls f(oh, ow, ki, kj) for every window (oh, ow) whose tap (ki, kj) reads input element (ih, iw),
// in (ki, kj) row-major order, so a sum over the calls is deterministic. The gathering backward
// passes (col2im, pooling) use it instead of atomics.
template <typename F>
__device__ __forceinline__ void for_each_window_reading(const WindowGeom& g, int ih, int iw, F f) {
    for (int ki = 0; ki < g.kernelH; ki++) {
        int th = ih + g.padTop - ki * g.dilationH;  // = oh * strideH
        if (th < 0 || th % g.strideH != 0) continue;
        int oh = th / g.strideH;
        if (oh >= g.outH) continue;
        for (int kj = 0; kj < g.kernelW; kj++) {
            int tw = iw + g.padLeft - kj * g.dilationW;
            if (tw < 0 || tw % g.strideW != 0) continue;
            int ow = tw / g.strideW;
            if (ow >= g.outW) continue;
            f(oh, ow, ki, kj);
        }
    }
}
