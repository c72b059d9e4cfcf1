// Direct depthwise convolution over NCHW: x [n, C, H, W], kernel w [C*m, 1, kh, kw] -> y [n, C*m,
// outH, outW], output channel o reading input channel o / m (m, the depth multiplier, >= 1).
// CPU twins: CpuDepthwise.forward and CpuDepthwise.backward (Depthwise3x3 for 3x3 kernels), through
// CpuBackend.depthwiseConv and depthwiseConvBackward.
// A Conv2D with one group per input channel runs these instead of one GEMM per group (M = m,
// K = kh*kw: nothing but launch overhead). The window is window.cuh's (stride, padding, dilation);
// g.channels is C, the input channels. No atomics: every value is summed by one thread (forward,
// input gradient) or by one block in a fixed tree (kernel gradient), so results repeat bit for bit.
#include "common.cuh"
#include "window.cuh"

// One thread per output; taps added in (ki, kj) row-major order from 0, padding skipped.
extern "C" __global__ void shears_depthwise_forward(const float* x, const float* w, float* y, WindowGeom g, int batch,
                                                    int multiplier) {
    i64 planes = (i64)batch * g.channels * multiplier;  // (image, output channel) pairs
    i64 total = planes * g.outH * g.outW;
    int taps = g.kernelH * g.kernelW;
    Digits<unsigned, 2> at;  // (ow, oh), top = plane = i * C*m + o
    at.radix[0] = g.outW;
    at.radix[1] = g.outH;
    GRID_STRIDE_DIGITS(idx, total, at) {
        i64 plane = at.top;
        // input plane i * C + o / m: plane / m, since i * C*m is a multiple of m
        const float* xp = x + (plane / multiplier) * g.height * g.width;
        const float* wp = w + (plane % ((i64)g.channels * multiplier)) * taps;
        int oh = (int)at.digit[1], ow = (int)at.digit[0];
        float s = 0.0f;
        for (int ki = 0; ki < g.kernelH; ki++) {
            int ih = window_row(g, oh, ki);
            if (ih < 0 || ih >= g.height) continue;
            for (int kj = 0; kj < g.kernelW; kj++) {
                int iw = window_col(g, ow, kj);
                if (iw >= 0 && iw < g.width) s += wp[ki * g.kernelW + kj] * xp[ih * g.width + iw];
            }
        }
        y[idx] = s;
    }
}

// One thread per input element, gathering (dx overwritten): dx = sum over the channel's m output
// channels in order, then over the windows that read the element (for_each_window_reading's
// order), of w[tap] * dy.
extern "C" __global__ void shears_depthwise_input_grad(const float* w, const float* dy, float* dx, WindowGeom g, int batch,
                                                       int multiplier) {
    i64 total = (i64)batch * g.channels * g.height * g.width;
    int taps = g.kernelH * g.kernelW;
    i64 outPlane = (i64)g.outH * g.outW;
    Digits<unsigned, 2> at;  // (iw, ih), top = plane = i * C + c
    at.radix[0] = g.width;
    at.radix[1] = g.height;
    GRID_STRIDE_DIGITS(idx, total, at) {
        i64 plane = at.top;
        int c = (int)(plane % g.channels);
        int ih = (int)at.digit[1], iw = (int)at.digit[0];
        float s = 0.0f;
        for (int j = 0; j < multiplier; j++) {
            // output plane i * C*m + c*m + j = plane * m + j
            const float* dyp = dy + (plane * multiplier + j) * outPlane;
            const float* wp = w + ((i64)c * multiplier + j) * taps;
            for_each_window_reading(g, ih, iw, [&](int oh, int ow, int ki, int kj) {
                s += wp[ki * g.kernelW + kj] * dyp[oh * g.outW + ow];
            });
        }
        dx[idx] = s;
    }
}

// This block's double sum for kernel weight `weight` = o * kh*kw + t (output channel o, tap t):
// over the products dy[i, o, oh, ow] * x[i, o / m, the tap's input] (0 in the padding) of its
// positions j = first, first + stride, ... of the n*outH*outW (i, oh, ow), j row-major. Each thread
// adds its products (rounded to float, as the CPU's are) in double in increasing j, then block_sum_d
// adds the threads' sums in a fixed tree: the same bits every run. Valid in thread 0.
__device__ __forceinline__ double depthwise_weight_sum(const float* x, const float* dy, const WindowGeom& g, int batch,
                                                       int multiplier, i64 weight, i64 first, i64 stride, double* scratch) {
    int taps = g.kernelH * g.kernelW;
    int o = (int)(weight / taps), t = (int)(weight % taps);
    int ki = t / g.kernelW, kj = t % g.kernelW;
    int outChannels = g.channels * multiplier;
    i64 outPlane = (i64)g.outH * g.outW, inPlane = (i64)g.height * g.width;
    i64 count = (i64)batch * outPlane;
    const float* xc = x + (i64)(o / multiplier) * inPlane;  // image 0's input plane
    const float* dyc = dy + (i64)o * outPlane;              // image 0's output plane
    double s = 0.0;
    Digits<unsigned, 2> at;  // (ow, oh), top = image i
    at.radix[0] = g.outW;
    at.radix[1] = g.outH;
    at.start(first, stride, count);
    for (i64 j = first; j < count; j += stride, at.advance()) {
        int oh = (int)at.digit[1], ow = (int)at.digit[0];
        int ih = window_row(g, oh, ki), iw = window_col(g, ow, kj);
        if (ih < 0 || ih >= g.height || iw < 0 || iw >= g.width) continue;
        i64 i = at.top;
        float d = dyc[i * outChannels * outPlane + (i64)oh * g.outW + ow];
        float v = xc[i * g.channels * inPlane + (i64)ih * g.width + iw];
        s += (double)(d * v);
    }
    return block_sum_d(s, scratch);
}

// One block per kernel weight (a grid of C*m*kh*kw blocks): dW[weight] += its sum, added in double
// and rounded once.
extern "C" __global__ void shears_depthwise_kernel_grad(const float* x, const float* dy, float* dW, WindowGeom g, int batch,
                                                        int multiplier) {
    __shared__ double scratch[32];
    i64 weight = blockIdx.x;
    double s = depthwise_weight_sum(x, dy, g, batch, multiplier, weight, threadIdx.x, blockDim.x, scratch);
    if (threadIdx.x == 0) dW[weight] = (float)((double)dW[weight] + s);
}

// With few weights and many positions (a small layer at a large batch), one block per weight
// leaves most SMs idle: a grid (weights, parts) splits each weight's positions over `parts` blocks
// instead, block (w, p) taking j = p * blockDim.x + threadIdx.x, stepping by parts * blockDim.x, and
// writing its sum to partial[w * parts + p] (partial: [weights, parts] doubles);
// shears_channel_parts_finish (bias.cu) then adds each weight's parts in order p = 0, 1, ... into
// dW. No atomics: the same bits run to run for a given split (not bit-identical to the one-block
// kernel, whose order differs; both within the parity test's tolerance of the CPU twin).
extern "C" __global__ void shears_depthwise_kernel_grad_partial(const float* x, const float* dy, double* partial, WindowGeom g,
                                                                int batch, int multiplier) {
    __shared__ double scratch[32];
    i64 weight = blockIdx.x;
    int parts = gridDim.y;
    double s = depthwise_weight_sum(x, dy, g, batch, multiplier, weight, channel_part_first(), channel_part_stride(), scratch);
    if (threadIdx.x == 0) partial[weight * parts + blockIdx.y] = s;
}
