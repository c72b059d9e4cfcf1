package dev.shears.core.cpu;

import dev.shears.core.backend.ConvGeometry;

import java.util.Arrays;

/**
 * Direct depthwise convolution on NCHW arrays (one group per input channel, {@code multiplier}
 * output channels per input channel; output channel o reads input channel o / multiplier): the
 * forward, the input gradient and the kernel gradient, with no im2col and no GEMM. The grouped
 * GEMM path (Conv2D's reference) does a product with M = multiplier and K = kh*kw per group and
 * image: its cost is the unfolding and the per-call overhead, not the arithmetic.
 *
 * <p>3x3 kernels go to {@link Depthwise3x3}. Other kernels: each loop walks a kernel tap's valid output range row by row (a contiguous run of output
 * positions per row, a strided run of inputs), so there is no per-element bounds test. The planes
 * of MobileNet-sized layers are 4 to 28 wide, too short for vector lanes to pay over a scalar loop
 * the JIT already unrolls; the loops are left scalar.
 *
 * <p>Determinism: every output value, input-gradient value and kernel-gradient value is summed by
 * one thread in a fixed order (taps in (ki, kj) order; for the kernel gradient images, then output
 * rows, then columns), whatever the thread count: forward and input gradient split over planes
 * (image, channel), the kernel gradient over channels.
 */
final class CpuDepthwise {
    private CpuDepthwise() {}

    /** y [n, C*m, outH, outW] = depthwise(x [n, C, H, W], w [C*m, 1, kh, kw]). */
    static void forward(float[] x, float[] w, float[] y, ConvGeometry g, int n, int m) {
        if (threeByThree(g)) {
            Depthwise3x3.forward(x, w, y, g, n, m);
            return;
        }
        int c = g.channels(), oc = c * m, ohw = g.outH() * g.outW(), hw = g.height() * g.width();
        Parallel.forRange(n * oc, CpuConv.grain(ohw * g.kernelH() * g.kernelW()), (s, e) -> {
            for (int p = s; p < e; p++) {
                int i = p / oc, o = p % oc;
                forwardPlane(x, (i * c + o / m) * hw, w, o * g.kernelH() * g.kernelW(), y, p * ohw, g);
            }
        });
    }

    /**
     * The input gradient (written, where dx is non-null) and the kernel gradient (added to dW,
     * where non-null) of {@link #forward} from dy [n, C*m, outH, outW].
     */
    static void backward(float[] x, float[] w, float[] dy, float[] dx, float[] dW, ConvGeometry g, int n, int m) {
        if (threeByThree(g)) {
            Depthwise3x3.backward(x, w, dy, dx, dW, g, n, m);
            return;
        }
        int c = g.channels(), oc = c * m, taps = g.kernelH() * g.kernelW(), ohw = g.outH() * g.outW(), hw = g.height() * g.width();
        if (dx != null)
            Parallel.forRange(n * c, CpuConv.grain(hw + m * ohw * taps), (s, e) -> {
                for (int p = s; p < e; p++) {
                    int i = p / c, ch = p % c;
                    Arrays.fill(dx, p * hw, (p + 1) * hw, 0f);
                    for (int j = 0; j < m; j++) { // the channel's output channels in order
                        int o = ch * m + j;
                        inputGradPlane(dy, (i * oc + o) * ohw, w, o * taps, dx, p * hw, g);
                    }
                }
            });
        if (dW != null)
            Parallel.forRange(oc, Math.max(1, CpuConv.grain(n * ohw * taps)), (s, e) -> {
                float[] acc = new float[taps];
                for (int o = s; o < e; o++) {
                    Arrays.fill(acc, 0f);
                    for (int i = 0; i < n; i++)
                        kernelGradPlane(x, (i * c + o / m) * hw, dy, (i * oc + o) * ohw, acc, g);
                    for (int t = 0; t < taps; t++) dW[o * taps + t] += acc[t];
                }
            });
    }

    /** A 3x3 kernel: {@link Depthwise3x3}'s unrolled loops over zero-padded planes (MobileNet's only depthwise kernel). */
    private static boolean threeByThree(ConvGeometry g) {
        return g.kernelH() == 3 && g.kernelW() == 3;
    }

    /** First output index whose tap at offset {@code tap} lands at input index >= 0. */
    private static int first(int pad, int tap, int stride) {
        int need = pad - tap; // o*stride >= need
        return need <= 0 ? 0 : (need + stride - 1) / stride;
    }

    /** One past the last output index whose tap lands inside [0, size). */
    private static int end(int size, int pad, int tap, int stride, int out) {
        int lim = size + pad - tap; // o*stride < lim
        return lim <= 0 ? 0 : Math.min(out, (lim + stride - 1) / stride);
    }

    /** One plane: y[yOff..] [outH, outW] = sum over taps of w[t] * the tap's shifted input plane. */
    private static void forwardPlane(float[] x, int xOff, float[] w, int wOff, float[] y, int yOff, ConvGeometry g) {
        int oh = g.outH(), ow = g.outW(), width = g.width(), sh = g.strideH(), sw = g.strideW();
        Arrays.fill(y, yOff, yOff + oh * ow, 0f);
        for (int ki = 0; ki < g.kernelH(); ki++) {
            int tapH = ki * g.dilationH();
            int r0 = first(g.padTop(), tapH, sh), r1 = end(g.height(), g.padTop(), tapH, sh, oh);
            for (int kj = 0; kj < g.kernelW(); kj++) {
                int tapW = kj * g.dilationW();
                int c0 = first(g.padLeft(), tapW, sw), c1 = end(width, g.padLeft(), tapW, sw, ow);
                float wt = w[wOff + ki * g.kernelW() + kj];
                for (int r = r0; r < r1; r++) {
                    int yRow = yOff + r * ow, xRow = xOff + (r * sh - g.padTop() + tapH) * width - g.padLeft() + tapW;
                    if (sw == 1) for (int q = c0; q < c1; q++) y[yRow + q] += wt * x[xRow + q];
                    else for (int q = c0; q < c1; q++) y[yRow + q] += wt * x[xRow + q * sw];
                }
            }
        }
    }

    /** One output plane's share of an input-gradient plane: dx[at input of tap] += w[t] * dy, taps in order. */
    private static void inputGradPlane(float[] dy, int dyOff, float[] w, int wOff, float[] dx, int dxOff, ConvGeometry g) {
        int oh = g.outH(), ow = g.outW(), width = g.width(), sh = g.strideH(), sw = g.strideW();
        for (int ki = 0; ki < g.kernelH(); ki++) {
            int tapH = ki * g.dilationH();
            int r0 = first(g.padTop(), tapH, sh), r1 = end(g.height(), g.padTop(), tapH, sh, oh);
            for (int kj = 0; kj < g.kernelW(); kj++) {
                int tapW = kj * g.dilationW();
                int c0 = first(g.padLeft(), tapW, sw), c1 = end(width, g.padLeft(), tapW, sw, ow);
                float wt = w[wOff + ki * g.kernelW() + kj];
                for (int r = r0; r < r1; r++) {
                    int dyRow = dyOff + r * ow, dxRow = dxOff + (r * sh - g.padTop() + tapH) * width - g.padLeft() + tapW;
                    if (sw == 1) for (int q = c0; q < c1; q++) dx[dxRow + q] += wt * dy[dyRow + q];
                    else for (int q = c0; q < c1; q++) dx[dxRow + q * sw] += wt * dy[dyRow + q];
                }
            }
        }
    }

    /** One (image, channel) plane's contribution to a channel's kernel gradient: acc[t] += sum of dy * the tap's input. */
    private static void kernelGradPlane(float[] x, int xOff, float[] dy, int dyOff, float[] acc, ConvGeometry g) {
        int oh = g.outH(), ow = g.outW(), width = g.width(), sh = g.strideH(), sw = g.strideW();
        for (int ki = 0; ki < g.kernelH(); ki++) {
            int tapH = ki * g.dilationH();
            int r0 = first(g.padTop(), tapH, sh), r1 = end(g.height(), g.padTop(), tapH, sh, oh);
            for (int kj = 0; kj < g.kernelW(); kj++) {
                int tapW = kj * g.dilationW();
                int c0 = first(g.padLeft(), tapW, sw), c1 = end(width, g.padLeft(), tapW, sw, ow);
                float sum = 0f;
                for (int r = r0; r < r1; r++) {
                    int dyRow = dyOff + r * ow, xRow = xOff + (r * sh - g.padTop() + tapH) * width - g.padLeft() + tapW;
                    if (sw == 1) for (int q = c0; q < c1; q++) sum += dy[dyRow + q] * x[xRow + q];
                    else for (int q = c0; q < c1; q++) sum += dy[dyRow + q] * x[xRow + q * sw];
                }
                acc[ki * g.kernelW() + kj] += sum;
            }
        }
    }
}
