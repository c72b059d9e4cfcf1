package dev.shears.io.keras;

/**
 * A deliberately naive reference of Keras' layer semantics on channels_last (NHWC) arrays,
 * written from the Keras/TensorFlow definitions and independent of the importer and of the
 * engine: plain loops, double accumulation, Keras weight layouts ((kh, kw, in, out) kernels,
 * (in, out) dense kernels). Tests compare the imported NCHW model against it.
 */
final class NhwcReference {
    private NhwcReference() {}

    /** An NHWC batch: n x h x w x c, row-major. */
    record Img(float[] d, int n, int h, int w, int c) {
        float at(int b, int y, int x, int ch) { return d[((b * h + y) * w + x) * c + ch]; }
    }

    /** Convolution (cross-correlation, as TensorFlow), explicit pads, kernel (kh, kw, cin, cout). */
    static Img conv(Img x, float[] k, float[] bias, int kh, int kw, int cout, int sh, int sw, int padTop, int padLeft, int oh, int ow, int dh, int dw) {
        float[] out = new float[x.n * oh * ow * cout];
        for (int b = 0; b < x.n; b++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++)
                    for (int co = 0; co < cout; co++) {
                        double s = bias == null ? 0 : bias[co];
                        for (int ky = 0; ky < kh; ky++)
                            for (int kx = 0; kx < kw; kx++) {
                                int iy = oy * sh - padTop + ky * dh, ix = ox * sw - padLeft + kx * dw;
                                if (iy < 0 || iy >= x.h || ix < 0 || ix >= x.w) continue;
                                for (int ci = 0; ci < x.c; ci++)
                                    s += (double) x.at(b, iy, ix, ci) * k[((ky * kw + kx) * x.c + ci) * cout + co];
                            }
                        out[((b * oh + oy) * ow + ox) * cout + co] = (float) s;
                    }
        return new Img(out, x.n, oh, ow, cout);
    }

    /** Σ|terms| of each convolution output (|x| conv |k| + |bias|): the scale of its float32 rounding error. */
    static Img convMagnitude(Img x, float[] k, float[] bias, int kh, int kw, int cout, int sh, int sw, int padTop, int padLeft, int oh, int ow, int dh, int dw) {
        float[] ax = new float[x.d().length], ak = new float[k.length], ab = bias == null ? null : new float[bias.length];
        for (int i = 0; i < ax.length; i++) ax[i] = Math.abs(x.d()[i]);
        for (int i = 0; i < ak.length; i++) ak[i] = Math.abs(k[i]);
        if (ab != null) for (int i = 0; i < ab.length; i++) ab[i] = Math.abs(bias[i]);
        return conv(new Img(ax, x.n(), x.h(), x.w(), x.c()), ak, ab, kh, kw, cout, sh, sw, padTop, padLeft, oh, ow, dh, dw);
    }

    /** Max (padding never wins) or average (over in-bounds pixels only, Keras 'same') pooling. */
    static Img pool(Img x, boolean max, int ph, int pw, int sh, int sw, int padTop, int padLeft, int oh, int ow) {
        float[] out = new float[x.n * oh * ow * x.c];
        for (int b = 0; b < x.n; b++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++)
                    for (int ch = 0; ch < x.c; ch++) {
                        double acc = max ? Double.NEGATIVE_INFINITY : 0;
                        int count = 0;
                        for (int ky = 0; ky < ph; ky++)
                            for (int kx = 0; kx < pw; kx++) {
                                int iy = oy * sh - padTop + ky, ix = ox * sw - padLeft + kx;
                                if (iy < 0 || iy >= x.h || ix < 0 || ix >= x.w) continue;
                                float v = x.at(b, iy, ix, ch);
                                acc = max ? Math.max(acc, v) : acc + v;
                                count++;
                            }
                        out[((b * oh + oy) * ow + ox) * x.c + ch] = (float) (max ? acc : acc / count);
                    }
        return new Img(out, x.n, oh, ow, x.c);
    }

    /** Batch norm at inference over the last axis of rows x channels. */
    static float[] batchNorm(float[] x, int channels, float[] gamma, float[] beta, float[] mean, float[] var, double eps) {
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            int c = i % channels;
            out[i] = (float) (gamma[c] * (x[i] - mean[c]) / Math.sqrt(var[c] + eps) + beta[c]);
        }
        return out;
    }

    /** x (n, in) times kernel (in, out) plus bias. */
    static float[] dense(float[] x, int n, int in, float[] k, float[] bias, int out) {
        float[] y = new float[n * out];
        for (int b = 0; b < n; b++)
            for (int o = 0; o < out; o++) {
                double s = bias == null ? 0 : bias[o];
                for (int i = 0; i < in; i++) s += (double) x[b * in + i] * k[i * out + o];
                y[b * out + o] = (float) s;
            }
        return y;
    }

    static float[] relu(float[] x) {
        float[] y = new float[x.length];
        for (int i = 0; i < x.length; i++) y[i] = Math.max(0, x[i]);
        return y;
    }

    static float[] leakyRelu(float[] x, float alpha) {
        float[] y = new float[x.length];
        for (int i = 0; i < x.length; i++) y[i] = x[i] > 0 ? x[i] : alpha * x[i];
        return y;
    }

    /** PReLU with one slope per channel (last axis). */
    static float[] prelu(float[] x, int channels, float[] alpha) {
        float[] y = new float[x.length];
        for (int i = 0; i < x.length; i++) y[i] = x[i] > 0 ? x[i] : alpha[i % channels] * x[i];
        return y;
    }

    static float[] tanh(float[] x) {
        float[] y = new float[x.length];
        for (int i = 0; i < x.length; i++) y[i] = (float) Math.tanh(x[i]);
        return y;
    }

    static float[] elu(float[] x) {
        float[] y = new float[x.length];
        for (int i = 0; i < x.length; i++) y[i] = x[i] > 0 ? x[i] : (float) Math.expm1(x[i]);
        return y;
    }

    static float[] softmaxRows(float[] x, int cols) {
        float[] y = new float[x.length];
        for (int r = 0; r < x.length / cols; r++) {
            double m = Double.NEGATIVE_INFINITY, s = 0;
            for (int j = 0; j < cols; j++) m = Math.max(m, x[r * cols + j]);
            for (int j = 0; j < cols; j++) s += Math.exp(x[r * cols + j] - m);
            for (int j = 0; j < cols; j++) y[r * cols + j] = (float) (Math.exp(x[r * cols + j] - m) / s);
        }
        return y;
    }

    static float[] add(float[] a, float[] b) {
        float[] y = new float[a.length];
        for (int i = 0; i < a.length; i++) y[i] = a[i] + b[i];
        return y;
    }

    /** Concatenation along the last axis. */
    static Img concatChannels(Img a, Img b) {
        int c = a.c + b.c;
        float[] out = new float[a.n * a.h * a.w * c];
        for (int p = 0; p < a.n * a.h * a.w; p++) {
            System.arraycopy(a.d, p * a.c, out, p * c, a.c);
            System.arraycopy(b.d, p * b.c, out, p * c + a.c, b.c);
        }
        return new Img(out, a.n, a.h, a.w, c);
    }

    static Img zeroPad(Img x, int top, int bottom, int left, int right) {
        int h = x.h + top + bottom, w = x.w + left + right;
        float[] out = new float[x.n * h * w * x.c];
        for (int b = 0; b < x.n; b++)
            for (int y = 0; y < x.h; y++)
                for (int xx = 0; xx < x.w; xx++)
                    for (int ch = 0; ch < x.c; ch++)
                        out[((b * h + y + top) * w + xx + left) * x.c + ch] = x.at(b, y, xx, ch);
        return new Img(out, x.n, h, w, x.c);
    }

    /** Mean over H and W: (n, c). */
    static float[] globalAvg(Img x) {
        float[] out = new float[x.n * x.c];
        for (int b = 0; b < x.n; b++)
            for (int ch = 0; ch < x.c; ch++) {
                double s = 0;
                for (int y = 0; y < x.h; y++) for (int xx = 0; xx < x.w; xx++) s += x.at(b, y, xx, ch);
                out[b * x.c + ch] = (float) (s / (x.h * x.w));
            }
        return out;
    }

    /** Keras Permute((2, 1, 3)) on (h, w, c): swaps H and W. */
    static Img swapHW(Img x) {
        float[] out = new float[x.d.length];
        for (int b = 0; b < x.n; b++)
            for (int y = 0; y < x.h; y++)
                for (int xx = 0; xx < x.w; xx++)
                    for (int ch = 0; ch < x.c; ch++)
                        out[((b * x.w + xx) * x.h + y) * x.c + ch] = x.at(b, y, xx, ch);
        return new Img(out, x.n, x.w, x.h, x.c);
    }

    /** NCHW batch to NHWC. */
    static float[] nchwToNhwc(float[] x, int n, int c, int h, int w) {
        float[] out = new float[x.length];
        for (int b = 0; b < n; b++)
            for (int ch = 0; ch < c; ch++)
                for (int y = 0; y < h; y++)
                    for (int xx = 0; xx < w; xx++)
                        out[((b * h + y) * w + xx) * c + ch] = x[((b * c + ch) * h + y) * w + xx];
        return out;
    }
}
