package dev.shears.core.cpu;

import dev.shears.core.backend.ConvGeometry;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;

/**
 * im2col / col2im and pooling on NCHW arrays. For a window position (oh, ow) and kernel tap
 * (ki, kj), the input row is {@code oh*strideH - padTop + ki*dilationH} and the column
 * {@code ow*strideW - padLeft + kj*dilationW}; taps outside the image read as padding.
 */
final class CpuConv {
    private CpuConv() {}

    /** Least elements per parallel task: below this the hand-off costs more than it saves. */
    static final int GRAIN_ELEMENTS = 1 << 15;

    /** Tasks of at least GRAIN_ELEMENTS elements over {@code items} items of {@code perItem} elements. */
    static int grain(int perItem) {
        return Math.max(1, GRAIN_ELEMENTS / Math.max(1, perItem));
    }

    /** First output column whose tap kj lands at input column >= 0. */
    private static int firstValid(int pad, int tapOffset, int stride) {
        int need = pad - tapOffset; // ow*stride >= need
        return need <= 0 ? 0 : (need + stride - 1) / stride;
    }

    /** One past the last output position whose tap lands inside [0, size). */
    private static int endValid(int size, int pad, int tapOffset, int stride, int out) {
        int lim = size + pad - tapOffset; // ow*stride < lim
        if (lim <= 0) return 0;
        return Math.min(out, (lim + stride - 1) / stride);
    }

    /** cols [C*kh*kw, outH*outW] at colsOff from the image [C, H, W] at xOff; rows in (c, ki, kj) order. */
    static void im2col(float[] x, int xOff, ConvGeometry g, float[] cols, int colsOff) {
        im2col(x, xOff, g, cols, colsOff, false);
    }

    /**
     * im2col with the row order chosen: {@code tapMajor} false, row (c, ki, kj) = (c*kh + ki)*kw + kj
     * (the Backend contract's order); true, row (ki, kj, c) = (ki*kw + kj)*C + c, so that the input
     * channels of one kernel tap are consecutive rows. Each row holds the same values in either
     * order; only its index moves, so both cost the same (the writes stay whole contiguous rows).
     * The tap-major order is what a Conv2D kernel pruned 2:4 along input channels needs to become
     * 2:4 along consecutive columns of its GEMM matrix (see dev.shears.core.sparse.ConvTaps).
     */
    static void im2col(float[] x, int xOff, ConvGeometry g, float[] cols, int colsOff, boolean tapMajor) {
        im2col(x, xOff, 1, g, cols, colsOff, tapMajor);
    }

    /**
     * im2col of {@code images} images [images, C, H, W] at xOff side by side: cols
     * [C*kh*kw, images*outH*outW] at colsOff, image i in columns [i*outH*outW, (i+1)*outH*outW),
     * each holding what {@link #im2col(float[], int, ConvGeometry, float[], int)} writes for that
     * image alone (one image gives exactly that matrix). The specification of shears_im2col_batch.
     */
    static void im2colBatch(float[] x, int xOff, int images, ConvGeometry g, float[] cols, int colsOff) {
        im2col(x, xOff, images, true, g, cols, colsOff, false);
    }

    /**
     * im2col of {@code images} images [images, C, H, W] at xOff, each into its own matrix: cols
     * [images, C*kh*kw, outH*outW] at colsOff, matrix i what {@link #im2col} writes for image i.
     */
    static void im2colImages(float[] x, int xOff, int images, ConvGeometry g, float[] cols, int colsOff) {
        im2col(x, xOff, images, false, g, cols, colsOff, false);
    }

    private static void im2col(float[] x, int xOff, int images, ConvGeometry g, float[] cols, int colsOff, boolean tapMajor) {
        im2col(x, xOff, images, true, g, cols, colsOff, tapMajor);
    }

    /**
     * @param sideBySide true: images side by side along the columns (cols [rows, images*outH*outW]);
     *                   false: one matrix per image (cols [images, rows, outH*outW])
     */
    private static void im2col(float[] x, int xOff, int images, boolean sideBySide, ConvGeometry g, float[] cols, int colsOff,
                               boolean tapMajor) {
        int C = g.channels(), H = g.height(), W = g.width(), kh = g.kernelH(), kw = g.kernelW();
        int oH = g.outH(), oW = g.outW(), sh = g.strideH(), sw = g.strideW();
        int pt = g.padTop(), pl = g.padLeft(), dh = g.dilationH(), dw = g.dilationW();
        int rowStride = sideBySide ? images * oH * oW : oH * oW; // elements from one cols row to the next
        int imageStride = sideBySide ? oH * oW : C * kh * kw * oH * oW; // from one image's block to the next
        // (image, channel) pairs write disjoint pieces of cols: split them over the pool
        Parallel.forRange(images * C, grain(kh * kw * oH * oW), (p0, p1) -> {
            for (int p = p0; p < p1; p++) {
                int img = p / C, c = p - img * C;
                int plane = xOff + p * H * W;
                for (int ki = 0; ki < kh; ki++) {
                    int hOff = ki * dh;
                    int ohLo = Math.min(oH, firstValid(pt, hOff, sh)), ohHi = Math.max(ohLo, endValid(H, pt, hOff, sh, oH));
                    for (int kj = 0; kj < kw; kj++) {
                        int row = tapMajor ? (ki * kw + kj) * C + c : (c * kh + ki) * kw + kj;
                        int wOff = kj * dw;
                        int owLo = Math.min(oW, firstValid(pl, wOff, sw)), owHi = Math.max(owLo, endValid(W, pl, wOff, sw, oW));
                        int dst = colsOff + row * rowStride + img * imageStride;
                        Arrays.fill(cols, dst, dst + ohLo * oW, 0f);
                        for (int oh = ohLo; oh < ohHi; oh++) {
                            int d = dst + oh * oW;
                            int src = plane + (oh * sh - pt + hOff) * W - pl + wOff;
                            Arrays.fill(cols, d, d + owLo, 0f);
                            if (sw == 1) {
                                System.arraycopy(x, src + owLo, cols, d + owLo, owHi - owLo);
                            } else {
                                for (int ow = owLo; ow < owHi; ow++) cols[d + ow] = x[src + ow * sw];
                            }
                            Arrays.fill(cols, d + owHi, d + oW, 0f);
                        }
                        Arrays.fill(cols, dst + ohHi * oW, dst + oH * oW, 0f);
                    }
                }
            }
        });
    }

    /** dst[d, d + len) += src[s, s + len), whole vectors then one masked vector (one add per element, as a scalar loop). */
    private static void addRow(float[] src, int s, float[] dst, int d, int len) {
        VectorSpecies<Float> fs = Sgemm.S;
        int j = 0;
        for (int ub = fs.loopBound(len); j < ub; j += fs.length())
            FloatVector.fromArray(fs, dst, d + j).add(FloatVector.fromArray(fs, src, s + j)).intoArray(dst, d + j);
        if (j < len) {
            VectorMask<Float> live = fs.indexInRange(j, len);
            FloatVector.fromArray(fs, dst, d + j, live).add(FloatVector.fromArray(fs, src, s + j, live)).intoArray(dst, d + j, live);
        }
    }

    /** dx [C, H, W] at dxOff += fold(cols) (the adjoint of im2col). */
    static void col2im(float[] cols, int colsOff, ConvGeometry g, float[] dx, int dxOff) {
        col2imBatch(cols, colsOff, 1, g, dx, dxOff);
    }

    /**
     * The adjoint of {@link #im2colBatch}: dx [images, C, H, W] at dxOff += fold(cols
     * [C*kh*kw, images*outH*outW]), each image folding its own columns. The specification of
     * shears_col2im_batch; one image is {@link #col2im}.
     */
    static void col2imBatch(float[] cols, int colsOff, int images, ConvGeometry g, float[] dx, int dxOff) {
        col2im(cols, colsOff, images, true, g, dx, dxOff);
    }

    /** The adjoint of {@link #im2colImages}: dx [images, C, H, W] at dxOff += fold(cols [images, C*kh*kw, outH*outW]). */
    static void col2imImages(float[] cols, int colsOff, int images, ConvGeometry g, float[] dx, int dxOff) {
        col2im(cols, colsOff, images, false, g, dx, dxOff);
    }

    /** @param sideBySide the cols layout, as in {@link #im2col(float[], int, int, boolean, ConvGeometry, float[], int, boolean)} */
    private static void col2im(float[] cols, int colsOff, int images, boolean sideBySide, ConvGeometry g, float[] dx, int dxOff) {
        int C = g.channels(), H = g.height(), W = g.width(), kh = g.kernelH(), kw = g.kernelW();
        int oH = g.outH(), oW = g.outW(), sh = g.strideH(), sw = g.strideW();
        int pt = g.padTop(), pl = g.padLeft(), dh = g.dilationH(), dw = g.dilationW();
        int rowStride = sideBySide ? images * oH * oW : oH * oW;
        int imageStride = sideBySide ? oH * oW : C * kh * kw * oH * oW;
        // (image, channel) p's rows fold only into plane p: pairs split over the pool without races
        Parallel.forRange(images * C, grain(kh * kw * oH * oW), (p0, p1) -> {
            for (int p = p0; p < p1; p++) {
                int img = p / C, c = p - img * C;
                int row = c * kh * kw;
                int plane = dxOff + p * H * W;
                for (int ki = 0; ki < kh; ki++) {
                    int hOff = ki * dh;
                    int ohLo = Math.min(oH, firstValid(pt, hOff, sh)), ohHi = endValid(H, pt, hOff, sh, oH);
                    for (int kj = 0; kj < kw; kj++, row++) {
                        int wOff = kj * dw;
                        int owLo = Math.min(oW, firstValid(pl, wOff, sw)), owHi = endValid(W, pl, wOff, sw, oW);
                        int srcRow = colsOff + row * rowStride + img * imageStride;
                        for (int oh = ohLo; oh < ohHi; oh++) {
                            int s = srcRow + oh * oW;
                            int d = plane + (oh * sh - pt + hOff) * W - pl + wOff;
                            if (sw == 1) { // a vector loop: the scalar one measured 12-16 us per LeNet conv1 image, this 7
                                addRow(cols, s + owLo, dx, d + owLo, owHi - owLo);
                            } else {
                                for (int ow = owLo; ow < owHi; ow++) dx[d + ow * sw] += cols[s + ow];
                            }
                        }
                    }
                }
            }
        });
    }

    static void maxPool(float[] x, float[] y, int[] argmax, ConvGeometry g, int n) {
        int H = g.height(), W = g.width(), oH = g.outH(), oW = g.outW();
        int kh = g.kernelH(), kw = g.kernelW(), sh = g.strideH(), sw = g.strideW(), dh = g.dilationH(), dw = g.dilationW();
        int pt = g.padTop(), pl = g.padLeft();
        int planes = n * g.channels();
        if (pt == 0 && pl == 0 && (oH - 1) * sh + (kh - 1) * dh < H && (oW - 1) * sw + (kw - 1) * dw < W) {
            maxPoolInside(x, y, argmax, g, planes);
            return;
        }
        Parallel.forRange(planes, grain(H * W), (p0, p1) -> {
            for (int p = p0; p < p1; p++) {
                int xb = p * H * W, yb = p * oH * oW;
                for (int oh = 0; oh < oH; oh++) {
                    int h0 = oh * sh - pt;
                    // taps ki in [kiLo, kiHi) land inside the image
                    int kiLo = h0 >= 0 ? 0 : (-h0 + dh - 1) / dh, kiHi = Math.min(kh, H - h0 <= 0 ? 0 : (H - h0 + dh - 1) / dh);
                    for (int ow = 0; ow < oW; ow++) {
                        int w0 = ow * sw - pl;
                        int kjLo = w0 >= 0 ? 0 : (-w0 + dw - 1) / dw, kjHi = Math.min(kw, W - w0 <= 0 ? 0 : (W - w0 + dw - 1) / dw);
                        float best = 0f;
                        int arg = -1;
                        for (int ki = kiLo; ki < kiHi; ki++) {
                            int row = (h0 + ki * dh) * W;
                            for (int kj = kjLo; kj < kjHi; kj++) {
                                int at = row + w0 + kj * dw;
                                float v = x[xb + at];
                                if (arg < 0 || v > best) {
                                    best = v;
                                    arg = at;
                                }
                            }
                        }
                        y[yb + oh * oW + ow] = best;
                        if (argmax != null) argmax[yb + oh * oW + ow] = arg;
                    }
                }
            }
        });
    }

    /**
     * {@link #maxPool} where every window lies inside the image (no padding, none hanging past the
     * edge: LeNet's and most CNNs' pools), without the per-window clipping of the general loop.
     * Same taps in the same order with the same comparison (the first tap, then strictly greater
     * wins), so the same maxima and arg-maxima.
     */
    private static void maxPoolInside(float[] x, float[] y, int[] argmax, ConvGeometry g, int planes) {
        int H = g.height(), W = g.width(), oH = g.outH(), oW = g.outW();
        int kh = g.kernelH(), kw = g.kernelW(), sh = g.strideH(), sw = g.strideW(), dh = g.dilationH(), dw = g.dilationW();
        if (kh == 2 && kw == 2 && sh == 2 && sw == 2 && dh == 1 && dw == 1) {
            maxPool2x2(x, y, argmax, g, planes);
            return;
        }
        Parallel.forRange(planes, grain(H * W), (p0, p1) -> {
            for (int p = p0; p < p1; p++) {
                int xb = p * H * W, yb = p * oH * oW;
                for (int oh = 0; oh < oH; oh++) {
                    int yr = yb + oh * oW;
                    for (int ow = 0; ow < oW; ow++) {
                        int w0 = ow * sw, best = oh * sh * W + w0;
                        float bv = x[xb + best];
                        for (int ki = 0; ki < kh; ki++) {
                            int row = (oh * sh + ki * dh) * W + w0;
                            for (int kj = 0; kj < kw; kj++) {
                                int at = row + kj * dw;
                                float v = x[xb + at];
                                if (v > bv) {
                                    bv = v;
                                    best = at;
                                }
                            }
                        }
                        y[yr + ow] = bv;
                        if (argmax != null) argmax[yr + ow] = best;
                    }
                }
            }
        });
    }

    /** int lanes as many as {@link Sgemm#S}'s float lanes, for the arg-maxima */
    private static final VectorSpecies<Integer> IS = VectorSpecies.of(int.class, Sgemm.S.vectorShape());

    /**
     * {@link #maxPoolInside} for the 2x2 stride-2 window, vectorised over a plane's outputs: each
     * tap is a gather of Sgemm.VL outputs' inputs and the running maximum and its index are
     * blended where the tap is strictly greater, the scalar loop's comparison in its order, so the
     * same results. The scalar loop's compare-and-branch mispredicts about half the time on
     * activations (measured 2 ms of a 17 ms LeNet-5 step on one thread).
     */
    private static void maxPool2x2(float[] x, float[] y, int[] argmax, ConvGeometry g, int planes) {
        int H = g.height(), W = g.width(), oH = g.outH(), oW = g.outW(), oHW = oH * oW;
        VectorSpecies<Float> fs = Sgemm.S;
        int vl = fs.length();
        // the top-left tap of output o within its plane
        int[] tap = new int[oHW];
        for (int o = 0; o < oHW; o++) tap[o] = (o / oW) * 2 * W + (o % oW) * 2;
        Parallel.forRange(planes, grain(H * W), (p0, p1) -> {
            for (int p = p0; p < p1; p++) {
                int xb = p * H * W, yb = p * oHW;
                int o = 0;
                // whole vectors only: HotSpot compiles the unmasked gather, while the masked one
                // ran in the Vector API's Java fallback (JFR: most of pooling's time)
                for (int ub = oHW - vl; o <= ub; o += vl) {
                    IntVector at = IntVector.fromArray(IS, tap, o);
                    FloatVector best = FloatVector.fromArray(fs, x, xb, tap, o);
                    IntVector arg = at;
                    FloatVector v = FloatVector.fromArray(fs, x, xb + 1, tap, o);
                    VectorMask<Float> gt = v.compare(VectorOperators.GT, best);
                    best = best.blend(v, gt);
                    arg = arg.blend(at.add(1), gt.cast(IS));
                    v = FloatVector.fromArray(fs, x, xb + W, tap, o);
                    gt = v.compare(VectorOperators.GT, best);
                    best = best.blend(v, gt);
                    arg = arg.blend(at.add(W), gt.cast(IS));
                    v = FloatVector.fromArray(fs, x, xb + W + 1, tap, o);
                    gt = v.compare(VectorOperators.GT, best);
                    best = best.blend(v, gt);
                    arg = arg.blend(at.add(W + 1), gt.cast(IS));
                    best.intoArray(y, yb + o);
                    if (argmax != null) arg.intoArray(argmax, yb + o);
                }
                for (; o < oHW; o++) { // the tail, as the scalar loop does it
                    int t = tap[o], best = t;
                    float bv = x[xb + t], v;
                    if ((v = x[xb + t + 1]) > bv) { bv = v; best = t + 1; }
                    if ((v = x[xb + t + W]) > bv) { bv = v; best = t + W; }
                    if ((v = x[xb + t + W + 1]) > bv) { bv = v; best = t + W + 1; }
                    y[yb + o] = bv;
                    if (argmax != null) argmax[yb + o] = best;
                }
            }
        });
    }

    static void maxPoolBackward(float[] dy, int[] argmax, float[] dx, ConvGeometry g, int n) {
        int HW = g.height() * g.width(), oHW = g.outH() * g.outW();
        int planes = n * g.channels();
        // each plane scatters only into its own dx plane: planes split over the pool without races
        Parallel.forRange(planes, grain(HW), (p0, p1) -> {
            Arrays.fill(dx, p0 * HW, p1 * HW, 0f);
            for (int p = p0; p < p1; p++) {
                int xb = p * HW, yb = p * oHW;
                for (int o = 0; o < oHW; o++) {
                    int a = argmax[yb + o];
                    if (a >= 0) dx[xb + a] += dy[yb + o];
                }
            }
        });
    }

    /**
     * The divisor of window (oh, ow): the number of its taps inside the padded input when padding
     * counts (so a ceil-mode window hanging past the padding is not divided by the full kh*kw, as
     * in ONNX Runtime and PyTorch), else the number inside the input itself.
     */
    private static int count(ConvGeometry g, int oh, int ow, boolean includePad) {
        int h0 = oh * g.strideH() - g.padTop(), w0 = ow * g.strideW() - g.padLeft();
        int hLo = includePad ? -g.padTop() : 0, hHi = includePad ? g.height() + g.padBottom() : g.height();
        int wLo = includePad ? -g.padLeft() : 0, wHi = includePad ? g.width() + g.padRight() : g.width();
        int ch = 0, cw = 0;
        for (int ki = 0; ki < g.kernelH(); ki++) { int h = h0 + ki * g.dilationH(); if (h >= hLo && h < hHi) ch++; }
        for (int kj = 0; kj < g.kernelW(); kj++) { int w = w0 + kj * g.dilationW(); if (w >= wLo && w < wHi) cw++; }
        return ch * cw;
    }

    static void avgPool(float[] x, float[] y, ConvGeometry g, int n, boolean includePad) {
        int H = g.height(), W = g.width(), oH = g.outH(), oW = g.outW();
        int planes = n * g.channels();
        Parallel.forRange(planes, grain(H * W), (p0, p1) -> {
            for (int p = p0; p < p1; p++) {
                int xb = p * H * W, yb = p * oH * oW;
                for (int oh = 0; oh < oH; oh++) {
                    int h0 = oh * g.strideH() - g.padTop();
                    for (int ow = 0; ow < oW; ow++) {
                        int w0 = ow * g.strideW() - g.padLeft();
                        float s = 0;
                        for (int ki = 0; ki < g.kernelH(); ki++) {
                            int h = h0 + ki * g.dilationH();
                            if (h < 0 || h >= H) continue;
                            for (int kj = 0; kj < g.kernelW(); kj++) {
                                int w = w0 + kj * g.dilationW();
                                if (w >= 0 && w < W) s += x[xb + h * W + w];
                            }
                        }
                        int cnt = count(g, oh, ow, includePad);
                        y[yb + oh * oW + ow] = cnt == 0 ? 0f : s / cnt;
                    }
                }
            }
        });
    }

    static void avgPoolBackward(float[] dy, float[] dx, ConvGeometry g, int n, boolean includePad) {
        int H = g.height(), W = g.width(), oH = g.outH(), oW = g.outW();
        int planes = n * g.channels();
        Arrays.fill(dx, 0, planes * H * W, 0f);
        Parallel.forRange(planes, grain(H * W), (p0, p1) -> {
            for (int p = p0; p < p1; p++) {
                int xb = p * H * W, yb = p * oH * oW;
                for (int oh = 0; oh < oH; oh++) {
                    int h0 = oh * g.strideH() - g.padTop();
                    for (int ow = 0; ow < oW; ow++) {
                        int w0 = ow * g.strideW() - g.padLeft();
                        int cnt = count(g, oh, ow, includePad);
                        if (cnt == 0) continue;
                        float d = dy[yb + oh * oW + ow] / cnt;
                        for (int ki = 0; ki < g.kernelH(); ki++) {
                            int h = h0 + ki * g.dilationH();
                            if (h < 0 || h >= H) continue;
                            for (int kj = 0; kj < g.kernelW(); kj++) {
                                int w = w0 + kj * g.dilationW();
                                if (w >= 0 && w < W) dx[xb + h * W + w] += d;
                            }
                        }
                    }
                }
            }
        });
    }
}
