// The window sweep shared by im2col.cu and pooling.cu: window (oh, ow), tap (ki, kj) reads input
// row oh*strideH - padTop + ki*dilationH and column ow*strideW - padLeft + kj*dilationW.
#pragma once

struct WindowGeom {
    int channels, height, width, kernelH, kernelW, strideH, strideW, padTop, padLeft, dilationH, dilationW,
        outH, outW, padBottom, padRight; // KernelGeometry.packed(), same order
};

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
