// Max and average pooling, forward and backward, over x [n, C, H, W] -> y [n, C, outH, outW].
// CPU twins: CpuBackend.maxPool, maxPoolBackward, avgPool, avgPoolBackward.
// Window (oh, ow) covers rows oh*strideH - padTop + ki*dilH and columns likewise; padding never
// wins a max. The backward passes gather (one thread per input element, no atomics).
#include "common.cuh"
#include "window.cuh"

// One thread per element of `planes` planes of height x width: calls f(idx, plane, row, col) with
// idx = (plane*height + row)*width + col, the element's flat index. The forward passes sweep the
// outputs (outH x outW planes), the gathering backward passes the inputs (H x W planes).
template <typename F>
__device__ __forceinline__ void for_each_plane_element(i64 planes, int height, int width, F f) {
    i64 n = planes * height * width;
    Digits<unsigned, 2> at;  // (col, row), plane = at.top
    at.radix[0] = width;
    at.radix[1] = height;
    GRID_STRIDE_DIGITS(idx, n, at) f(idx, at.top, (int)at.digit[1], (int)at.digit[0]);
}

// One thread per output; argmax (may be null) gets the flat index h*W + w inside the input plane,
// or -1 for a window with no in-bounds element (then y = 0, as on the CPU). The first maximum in
// window order (row-major) wins.
extern "C" __global__ void shears_max_pool(const float* x, float* y, int* argmax, WindowGeom g, int batch) {
    for_each_plane_element((i64)batch * g.channels, g.outH, g.outW, [&](i64 idx, i64 plane, int oh, int ow) {
        const float* xp = x + plane * g.height * g.width;
        float best = 0.0f;
        int arg = -1;
        for_each_window_tap(g, oh, ow, [&](int ih, int iw) {
            float v = xp[ih * g.width + iw];
            if (arg < 0 || v > best) { best = v; arg = ih * g.width + iw; }  // first maximum wins
        });
        y[idx] = best;
        if (argmax != nullptr) argmax[idx] = arg;
    });
}

// dx[p] = sum of dy over the windows of p's plane whose argmax is p (dx overwritten).
extern "C" __global__ void shears_max_pool_backward(const float* dy, const int* argmax, float* dx, WindowGeom g, int batch) {
    for_each_plane_element((i64)batch * g.channels, g.height, g.width, [&](i64 idx, i64 plane, int ih, int iw) {
        int p = ih * g.width + iw;
        const float* dyp = dy + plane * g.outH * g.outW;
        const int* ap = argmax + plane * g.outH * g.outW;
        float s = 0.0f;
        for_each_window_reading(g, ih, iw, [&](int oh, int ow, int, int) {
            int o = oh * g.outW + ow;
            if (ap[o] == p) s += dyp[o];
        });
        dx[idx] = s;
    });
}

// The divisor of window (oh, ow): kh*kw when counting padding, else the in-bounds elements.
__device__ __forceinline__ int pool_count(const WindowGeom& g, int oh, int ow, int countIncludePad) {
    // taps inside the padded input when padding counts (a ceil-mode window hanging past the
    // padding is clipped, as in ONNX Runtime and PyTorch), else inside the input; CpuConv.count
    int hLo = countIncludePad ? -g.padTop : 0, hHi = countIncludePad ? g.height + g.padBottom : g.height;
    int wLo = countIncludePad ? -g.padLeft : 0, wHi = countIncludePad ? g.width + g.padRight : g.width;
    int ch = 0, cw = 0;
    for (int ki = 0; ki < g.kernelH; ki++) {
        int ih = window_row(g, oh, ki);
        if (ih >= hLo && ih < hHi) ch++;
    }
    for (int kj = 0; kj < g.kernelW; kj++) {
        int iw = window_col(g, ow, kj);
        if (iw >= wLo && iw < wHi) cw++;
    }
    return ch * cw;
}

extern "C" __global__ void shears_avg_pool(const float* x, float* y, WindowGeom g, int batch, int countIncludePad) {
    for_each_plane_element((i64)batch * g.channels, g.outH, g.outW, [&](i64 idx, i64 plane, int oh, int ow) {
        const float* xp = x + plane * g.height * g.width;
        float s = 0.0f;
        for_each_window_tap(g, oh, ow, [&](int ih, int iw) { s += xp[ih * g.width + iw]; });
        int count = pool_count(g, oh, ow, countIncludePad);
        y[idx] = count > 0 ? s / (float)count : 0.0f;
    });
}

// dx[p] = sum over windows containing p of dy / count (dx overwritten).
extern "C" __global__ void shears_avg_pool_backward(const float* dy, float* dx, WindowGeom g, int batch, int countIncludePad) {
    for_each_plane_element((i64)batch * g.channels, g.height, g.width, [&](i64 idx, i64 plane, int ih, int iw) {
        const float* dyp = dy + plane * g.outH * g.outW;
        float s = 0.0f;
        for_each_window_reading(g, ih, iw, [&](int oh, int ow, int, int) {
            int count = pool_count(g, oh, ow, countIncludePad);
            if (count > 0) s += dyp[oh * g.outW + ow] / (float)count;
        });
        dx[idx] = s;
    });
}
