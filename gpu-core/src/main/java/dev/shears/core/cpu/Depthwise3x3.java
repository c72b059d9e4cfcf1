package dev.shears.core.cpu;

import dev.shears.core.backend.ConvGeometry;

import java.util.Arrays;

/**
 * {@link CpuDepthwise} for 3x3 kernels (any stride, padding, dilation and multiplier): each plane
 * is first copied into a zero-padded buffer [H + padTop + padBottom, W + padLeft + padRight], so
 * every output position reads all nine taps with no bounds tests, and the nine taps are unrolled
 * with the weights (or, for the kernel gradient, the nine sums) in locals. MobileNet's planes are 4
 * to 14 wide: the general path's per-tap row runs of 4 to 14 were all loop overhead (about 0.4
 * G multiply-adds/s measured); here each output does nine in a row.
 *
 * <p>Sums and their order, fixed whatever the thread count: an output adds its taps in (ki, kj)
 * order, from the first product (as the general path does); an input-gradient plane adds, output
 * position by position in row-major order, the nine taps' products, for its output channels in
 * order; a kernel-gradient tap adds over images, then output positions in row-major order. Each
 * plane (forward, input gradient) or output channel (kernel gradient) is one thread's.
 */
final class Depthwise3x3 {
    private Depthwise3x3() {}

    private static int paddedH(ConvGeometry g) { return g.height() + g.padTop() + g.padBottom(); }
    private static int paddedW(ConvGeometry g) { return g.width() + g.padLeft() + g.padRight(); }

    /** Copies plane x[xOff..] [H, W] into the interior of xp [Hp, Wp] (whose border stays zero). */
    private static void pad(float[] x, int xOff, float[] xp, ConvGeometry g, int wp) {
        int h = g.height(), w = g.width();
        for (int r = 0; r < h; r++) System.arraycopy(x, xOff + r * w, xp, (r + g.padTop()) * wp + g.padLeft(), w);
    }

    static void forward(float[] x, float[] w, float[] y, ConvGeometry g, int n, int m) {
        int c = g.channels(), oc = c * m, oh = g.outH(), ow = g.outW(), hw = g.height() * g.width();
        int hp = paddedH(g), wp = paddedW(g), sh = g.strideH(), sw = g.strideW();
        int d1 = g.dilationW(), d2 = 2 * d1, e1 = g.dilationH() * wp, e2 = 2 * e1;
        Parallel.forRange(n * oc, CpuConv.grain(oh * ow * 9), (s, e) -> {
            float[] xp = new float[hp * wp];
            int padded = -1; // the input plane xp holds
            for (int p = s; p < e; p++) {
                int i = p / oc, o = p % oc, in = i * c + o / m;
                if (in != padded) { pad(x, in * hw, xp, g, wp); padded = in; }
                int k = o * 9;
                float w0 = w[k], w1 = w[k + 1], w2 = w[k + 2], w3 = w[k + 3], w4 = w[k + 4], w5 = w[k + 5], w6 = w[k + 6], w7 = w[k + 7], w8 = w[k + 8];
                int yo = p * oh * ow;
                for (int r = 0; r < oh; r++) {
                    int row = r * sh * wp;
                    for (int q = 0; q < ow; q++) {
                        int b = row + q * sw;
                        float v = w0 * xp[b];
                        v += w1 * xp[b + d1];
                        v += w2 * xp[b + d2];
                        v += w3 * xp[b + e1];
                        v += w4 * xp[b + e1 + d1];
                        v += w5 * xp[b + e1 + d2];
                        v += w6 * xp[b + e2];
                        v += w7 * xp[b + e2 + d1];
                        v += w8 * xp[b + e2 + d2];
                        y[yo + r * ow + q] = v;
                    }
                }
            }
        });
    }

    static void backward(float[] x, float[] w, float[] dy, float[] dx, float[] dW, ConvGeometry g, int n, int m) {
        int c = g.channels(), oc = c * m, oh = g.outH(), ow = g.outW(), ohw = oh * ow, h = g.height(), width = g.width(), hw = h * width;
        int hp = paddedH(g), wp = paddedW(g), sh = g.strideH(), sw = g.strideW();
        int d1 = g.dilationW(), d2 = 2 * d1, e1 = g.dilationH() * wp, e2 = 2 * e1;
        if (dx != null)
            Parallel.forRange(n * c, CpuConv.grain(hw + m * ohw * 9), (s, e) -> {
                float[] dxp = new float[hp * wp];
                for (int p = s; p < e; p++) {
                    int i = p / c, ch = p % c;
                    Arrays.fill(dxp, 0f);
                    for (int j = 0; j < m; j++) {
                        int o = ch * m + j, k = o * 9, dyo = (i * oc + o) * ohw;
                        float w0 = w[k], w1 = w[k + 1], w2 = w[k + 2], w3 = w[k + 3], w4 = w[k + 4], w5 = w[k + 5], w6 = w[k + 6], w7 = w[k + 7], w8 = w[k + 8];
                        for (int r = 0; r < oh; r++) {
                            int row = r * sh * wp;
                            for (int q = 0; q < ow; q++) {
                                int b = row + q * sw;
                                float d = dy[dyo + r * ow + q];
                                dxp[b] += w0 * d;
                                dxp[b + d1] += w1 * d;
                                dxp[b + d2] += w2 * d;
                                dxp[b + e1] += w3 * d;
                                dxp[b + e1 + d1] += w4 * d;
                                dxp[b + e1 + d2] += w5 * d;
                                dxp[b + e2] += w6 * d;
                                dxp[b + e2 + d1] += w7 * d;
                                dxp[b + e2 + d2] += w8 * d;
                            }
                        }
                    }
                    // the interior is the input plane's gradient; the border (padding) is dropped
                    for (int r = 0; r < h; r++) System.arraycopy(dxp, (r + g.padTop()) * wp + g.padLeft(), dx, p * hw + r * width, width);
                }
            });
        if (dW != null)
            Parallel.forRange(oc, 1, (s, e) -> {
                float[] xp = new float[hp * wp];
                for (int o = s; o < e; o++) {
                    float a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0, a8 = 0;
                    for (int i = 0; i < n; i++) {
                        pad(x, (i * c + o / m) * hw, xp, g, wp);
                        int dyo = (i * oc + o) * ohw;
                        for (int r = 0; r < oh; r++) {
                            int row = r * sh * wp;
                            for (int q = 0; q < ow; q++) {
                                int b = row + q * sw;
                                float d = dy[dyo + r * ow + q];
                                a0 += d * xp[b];
                                a1 += d * xp[b + d1];
                                a2 += d * xp[b + d2];
                                a3 += d * xp[b + e1];
                                a4 += d * xp[b + e1 + d1];
                                a5 += d * xp[b + e1 + d2];
                                a6 += d * xp[b + e2];
                                a7 += d * xp[b + e2 + d1];
                                a8 += d * xp[b + e2 + d2];
                            }
                        }
                    }
                    int k = o * 9;
                    dW[k] += a0; dW[k + 1] += a1; dW[k + 2] += a2; dW[k + 3] += a3; dW[k + 4] += a4;
                    dW[k + 5] += a5; dW[k + 6] += a6; dW[k + 7] += a7; dW[k + 8] += a8;
                }
            });
    }
}
