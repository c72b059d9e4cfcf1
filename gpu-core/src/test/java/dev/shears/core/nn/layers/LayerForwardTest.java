package dev.shears.core.nn.layers;

import dev.shears.core.backend.Activation;
import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Layer;
import dev.shears.core.nn.Parameter;
import dev.shears.core.tensor.DType;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Layer forward passes against direct computations written from each layer's definition (the
 * gradient checks prove backward matches forward; these prove forward is the right function),
 * plus buffer reuse and mode handling. Tolerance 1e-5 absolute + 1e-5 relative: float32 sums of
 * at most ~100 terms of size ~1 against a double reference.
 */
class LayerForwardTest {
    private final Backend be = new CpuBackend(1);
    private final ExecContext train = new ExecContext(be, true, 99), infer = ExecContext.inference(be);

    private static float[] rand(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (r.nextDouble() * 2 - 1);
        return v;
    }

    private float[] setParam(Parameter p, long seed) {
        float[] v = rand(p.shape().intSize(), seed);
        if (p.role() == Parameter.Role.RUNNING_VAR || p.role() == Parameter.Role.GAMMA) for (int i = 0; i < v.length; i++) v[i] = 0.5f + Math.abs(v[i]);
        p.setValue(be.upload(v, p.shape()));
        p.setGrad(p.trainable() ? be.allocate(p.shape(), DType.FLOAT32) : null);
        return v;
    }

    private static void close(double[] e, float[] a) {
        assertEquals(e.length, a.length, "length");
        for (int i = 0; i < e.length; i++)
            assertTrue(Math.abs(e[i] - a[i]) <= 1e-5 + 1e-5 * Math.abs(e[i]), "element " + i + ": expected " + e[i] + " got " + a[i]);
    }

    private Tensor run(Layer l, ExecContext ctx, float[] x, int... dims) {
        return l.forward(ctx, List.of(be.upload(x, Shape.of(dims))));
    }

    @Test
    void conv2dMatchesDirectConvolution() {
        conv2dCase();
        int saved = Conv2D.colsBudgetFloats;
        Conv2D.colsBudgetFloats = 1; // one image per chunk
        try {
            conv2dCase();
        } finally {
            Conv2D.colsBudgetFloats = saved;
        }
    }

    private void conv2dCase() {
        // groups, stride, dilation, asymmetric padding, rectangular kernel all at once
        int n = 2, cin = 4, cout = 6, h = 9, w = 8, kh = 3, kw = 2, sh = 2, sw = 1, pt = 1, pl = 0, pb = 2, pr = 1, dh = 1, dw = 2, groups = 2;
        Conv2D conv = new Conv2D("conv", cin, cout, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, groups, true);
        float[] k = setParam(conv.kernel(), 1), b = setParam(conv.bias(), 2);
        float[] x = rand(n * cin * h * w, 3);
        float[] y = be.download(run(conv, infer, x, n, cin, h, w));
        int oh = (h + pt + pb - dh * (kh - 1) - 1) / sh + 1, ow = (w + pl + pr - dw * (kw - 1) - 1) / sw + 1;
        assertEquals(Shape.of(cout, oh, ow), conv.outputShape(List.of(Shape.of(cin, h, w))));
        int cg = cin / groups, og = cout / groups;
        double[] e = new double[n * cout * oh * ow];
        for (int i = 0; i < n; i++) for (int o = 0; o < cout; o++) for (int r = 0; r < oh; r++) for (int c = 0; c < ow; c++) {
            double s = b[o];
            int g = o / og;
            for (int ci = 0; ci < cg; ci++) for (int a = 0; a < kh; a++) for (int d = 0; d < kw; d++) {
                int hi = r * sh - pt + a * dh, wi = c * sw - pl + d * dw;
                if (hi < 0 || hi >= h || wi < 0 || wi >= w) continue;
                s += k[((o * cg + ci) * kh + a) * kw + d] * (double) x[((i * cin + g * cg + ci) * h + hi) * w + wi];
            }
            e[((i * cout + o) * oh + r) * ow + c] = s;
        }
        close(e, y);
    }

    @Test
    void conv2dPointwiseMatchesDirect() {
        Conv2D conv = new Conv2D("pw", 4, 2, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 2, false);
        float[] k = setParam(conv.kernel(), 4);
        float[] x = rand(3 * 4 * 5, 5);
        float[] y = be.download(run(conv, infer, x, 3, 4, 1, 5));
        double[] e = new double[3 * 2 * 5];
        for (int i = 0; i < 3; i++) for (int o = 0; o < 2; o++) for (int p = 0; p < 5; p++) {
            double s = 0;
            for (int ci = 0; ci < 2; ci++) s += k[o * 2 + ci] * (double) x[(i * 4 + o * 2 + ci) * 5 + p];
            e[(i * 2 + o) * 5 + p] = s;
        }
        close(e, y);
    }

    @Test
    void denseMatchesDirect() {
        Dense d = new Dense("d", 5, 3, true);
        float[] k = setParam(d.kernel(), 6), b = setParam(d.bias(), 7);
        float[] x = rand(4 * 5, 8);
        double[] e = new double[12];
        for (int i = 0; i < 4; i++) for (int o = 0; o < 3; o++) {
            double s = b[o];
            for (int j = 0; j < 5; j++) s += x[i * 5 + j] * (double) k[j * 3 + o];
            e[i * 3 + o] = s;
        }
        close(e, be.download(run(d, infer, x, 4, 5)));
    }

    @Test
    void batchNormUsesBatchStatisticsInTrainingAndRunningOnesAtInference() {
        int c = 2, n = 5, hw = 3;
        BatchNorm bn = new BatchNorm("bn", c, 1e-3f, 0.8f);
        float[] g = setParam(bn.gamma(), 9), bt = setParam(bn.beta(), 10), rm = setParam(bn.movingMean(), 11), rv = setParam(bn.movingVariance(), 12);
        float[] x = rand(n * c * hw, 13);
        float[] yt = be.download(run(bn, train, x, n, c, 1, hw));
        double[] e = new double[x.length], newRm = new double[c], newRv = new double[c];
        for (int ch = 0; ch < c; ch++) {
            double s = 0, q = 0;
            for (int i = 0; i < n; i++) for (int p = 0; p < hw; p++) s += x[(i * c + ch) * hw + p];
            double mean = s / (n * hw);
            for (int i = 0; i < n; i++) for (int p = 0; p < hw; p++) q += Math.pow(x[(i * c + ch) * hw + p] - mean, 2);
            double var = q / (n * hw);
            for (int i = 0; i < n; i++) for (int p = 0; p < hw; p++) {
                int at = (i * c + ch) * hw + p;
                e[at] = g[ch] * (x[at] - mean) / Math.sqrt(var + 1e-3) + bt[ch];
            }
            newRm[ch] = 0.8 * rm[ch] + 0.2 * mean;
            newRv[ch] = 0.8 * rv[ch] + 0.2 * q / (n * hw - 1);
        }
        close(e, yt);
        close(newRm, be.download(bn.movingMean().value()));
        close(newRv, be.download(bn.movingVariance().value()));

        float[] yi = be.download(run(bn, infer, x, n, c, 1, hw));
        for (int i = 0; i < x.length; i++) {
            int ch = (i / hw) % c;
            e[i] = g[ch] * (x[i] - newRm[ch]) / Math.sqrt(newRv[ch] + 1e-3) + bt[ch];
        }
        close(e, yi);
        assertThrows(IllegalStateException.class, () -> bn.backward(infer, be.allocate(Shape.of(n, c, 1, hw), DType.FLOAT32), true),
                "backward after an inference forward must say it is unsupported");
    }

    @Test
    void dropoutIsIdentityAtInferenceAndScalesInTraining() {
        Dropout d = new Dropout("drop", 0.5f);
        float[] x = rand(1000, 14);
        Tensor xt = be.upload(x, Shape.of(10, 100));
        assertSame(xt, d.forward(infer, List.of(xt)), "inference passes the input through");
        float[] y = be.download(d.forward(train, List.of(xt)));
        int kept = 0;
        for (int i = 0; i < x.length; i++) {
            if (y[i] != 0) {
                kept++;
                assertEquals(x[i] * 2f, y[i], 0f);
            }
        }
        assertTrue(kept > 400 && kept < 600, "about half kept, got " + kept);
        float[] y2 = be.download(d.forward(new ExecContext(be, true, 100), List.of(xt)));
        assertTrue(!java.util.Arrays.equals(y, y2), "another step seed draws another mask");
        Dropout other = new Dropout("drop_2", 0.5f);
        float[] y3 = be.download(other.forward(train, List.of(xt)));
        assertTrue(!java.util.Arrays.equals(y, y3), "two dropout layers in one step draw different masks");
    }

    @Test
    void poolsMatchDirectComputation() {
        float[] x = rand(2 * 3 * 4 * 4, 15);
        float[] ym = be.download(run(new MaxPool2D("mp", 2, 2, 2, 2, 0, 0, 0, 0, false), infer, x, 2, 3, 4, 4));
        float[] ya = be.download(run(new AvgPool2D("ap", 2, 2, 2, 2, 0, 0, 0, 0, false, true), infer, x, 2, 3, 4, 4));
        float[] yg = be.download(run(new GlobalAvgPool2D("gap", false), infer, x, 2, 3, 4, 4));
        double[] em = new double[24], ea = new double[24], eg = new double[6];
        for (int p = 0; p < 6; p++) {
            double s = 0;
            for (int i = 0; i < 16; i++) s += x[p * 16 + i];
            eg[p] = s / 16;
            for (int r = 0; r < 2; r++) for (int c = 0; c < 2; c++) {
                double m = Double.NEGATIVE_INFINITY, a = 0;
                for (int dr = 0; dr < 2; dr++) for (int dc = 0; dc < 2; dc++) {
                    float v = x[p * 16 + (2 * r + dr) * 4 + 2 * c + dc];
                    m = Math.max(m, v);
                    a += v;
                }
                em[p * 4 + r * 2 + c] = m;
                ea[p * 4 + r * 2 + c] = a / 4;
            }
        }
        close(em, ym);
        close(ea, ya);
        close(eg, yg);
        // global max: the largest of each plane, [N, C] or [N, C, 1, 1]
        double[] egm = new double[6];
        for (int p = 0; p < 6; p++) {
            double m = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < 16; i++) m = Math.max(m, x[p * 16 + i]);
            egm[p] = m;
        }
        close(egm, be.download(run(new GlobalMaxPool2D("gmp", false), infer, x, 2, 3, 4, 4)));
        Tensor kept = run(new GlobalMaxPool2D("gmp_keep", true), infer, x, 2, 3, 4, 4);
        assertEquals(Shape.of(2, 3, 1, 1), kept.shape());
        close(egm, be.download(kept));
    }

    @Test
    void reshapingLayersMoveDataCorrectly() {
        float[] x = rand(2 * 2 * 3, 16);
        // Permute (C, H, W) -> (W, C, H)
        float[] yp = be.download(run(new Permute("p", 2, 0, 1), infer, x, 2, 2, 1, 3));
        double[] ep = new double[12];
        for (int n = 0; n < 2; n++) for (int c = 0; c < 2; c++) for (int w = 0; w < 3; w++)
            ep[((n * 3 + w) * 2 + c)] = x[(n * 2 + c) * 3 + w];
        close(ep, yp);
        // ZeroPad2D
        float[] yz = be.download(run(new ZeroPad2D("z", 1, 0, 0, 2), infer, x, 2, 2, 1, 3));
        double[] ez = new double[2 * 2 * 2 * 5];
        for (int p = 0; p < 4; p++) for (int w = 0; w < 3; w++) ez[p * 10 + 5 + w] = x[p * 3 + w];
        close(ez, yz);
        // Concat on channels
        float[] x2 = rand(2 * 1 * 3, 17);
        Concat cat = new Concat("cat", 0);
        float[] yc = be.download(cat.forward(infer, List.of(be.upload(x, Shape.of(2, 2, 1, 3)), be.upload(x2, Shape.of(2, 1, 1, 3)))));
        double[] ec = new double[18];
        for (int n = 0; n < 2; n++) {
            for (int i = 0; i < 6; i++) ec[n * 9 + i] = x[n * 6 + i];
            for (int i = 0; i < 3; i++) ec[n * 9 + 6 + i] = x2[n * 3 + i];
        }
        close(ec, yc);
        // Flatten keeps the data and gives [N, C*H*W]
        Tensor f = run(new Flatten("f"), infer, x, 2, 2, 1, 3);
        assertEquals(Shape.of(2, 6), f.shape());
        assertArrayEquals(x, be.download(f));
        // Add of three
        Add add = new Add("add");
        float[] ya = be.download(add.forward(infer, List.of(be.upload(x, Shape.of(12)), be.upload(x, Shape.of(12)), be.upload(x, Shape.of(12)))));
        double[] ea = new double[12];
        for (int i = 0; i < 12; i++) ea[i] = 3.0 * x[i];
        close(ea, ya);
    }

    @Test
    void activationSoftmaxAndPreluForward() {
        float[] x = rand(12, 18);
        float[] yr = be.download(run(new ActivationLayer("r", Activation.RELU), infer, x, 3, 4));
        float[] ys = be.download(run(new Softmax("s", false), infer, x, 3, 4));
        PReLU pr = new PReLU("pr", Shape.of(2));
        float[] a = setParam(pr.slope(), 19);
        float[] yp = be.download(run(pr, infer, x, 3, 2, 2));
        double[] er = new double[12], es = new double[12], ep = new double[12];
        for (int r = 0; r < 3; r++) {
            double s = 0;
            for (int j = 0; j < 4; j++) s += Math.exp(x[r * 4 + j]);
            for (int j = 0; j < 4; j++) es[r * 4 + j] = Math.exp(x[r * 4 + j]) / s;
        }
        for (int i = 0; i < 12; i++) {
            er[i] = Math.max(0, x[i]);
            ep[i] = x[i] > 0 ? x[i] : a[(i / 2) % 2] * x[i];
        }
        close(er, yr);
        close(es, ys);
        close(ep, yp);
    }

    @Test
    void lrnForwardMatchesOnnxDefinition() {
        LRN lrn = new LRN("lrn", 3, 0.1f, 0.75f, 1f);
        float[] x = rand(1 * 4 * 2, 20);
        float[] y = be.download(run(lrn, infer, x, 1, 4, 1, 2));
        double[] e = new double[8];
        for (int c = 0; c < 4; c++) for (int p = 0; p < 2; p++) {
            double sq = 0;
            for (int cc = Math.max(0, c - 1); cc <= Math.min(3, c + 1); cc++) sq += x[cc * 2 + p] * (double) x[cc * 2 + p];
            e[c * 2 + p] = x[c * 2 + p] / Math.pow(1 + 0.1 / 3 * sq, 0.75);
        }
        close(e, y);
    }

    @Test
    void buffersAreReusedWhileTheBatchShapeHolds() {
        Dense d = new Dense("d", 3, 2, true);
        setParam(d.kernel(), 21);
        setParam(d.bias(), 22);
        Tensor a = run(d, train, rand(12, 23), 4, 3);
        Tensor dy = be.upload(rand(8, 24), Shape.of(4, 2));
        Tensor dx = d.backward(train, dy, true).get(0);
        assertSame(a, run(d, train, rand(12, 25), 4, 3), "same batch shape: same output buffer");
        assertSame(dx, d.backward(train, dy, true).get(0), "same batch shape: same input-gradient buffer");
        Tensor c = run(d, train, rand(6, 26), 2, 3);
        assertNotSame(a, c, "a new batch size gets a new buffer");
        assertEquals(Shape.of(2, 2), c.shape());
        assertEquals(null, d.backward(train, be.upload(rand(4, 27), Shape.of(2, 2)), false).get(0), "no input gradient when not needed");

        Conv2D conv = Conv2D.of("c", 1, 2, 3, 1, 1, true);
        setParam(conv.kernel(), 28);
        setParam(conv.bias(), 29);
        Tensor y1 = run(conv, train, rand(2 * 25, 30), 2, 1, 5, 5);
        assertSame(y1, run(conv, train, rand(2 * 25, 31), 2, 1, 5, 5));
    }

    @Test
    void badInputsFailWithTheLayerName() {
        Dense d = new Dense("dense_7", 3, 2, true);
        setParam(d.kernel(), 32);
        setParam(d.bias(), 33);
        var e = assertThrows(IllegalArgumentException.class, () -> run(d, infer, rand(10, 34), 2, 5));
        assertTrue(e.getMessage().contains("dense_7"), e.getMessage());
        var e2 = assertThrows(IllegalStateException.class, () -> new MaxPool2D("pool_3", 2, 2, 2, 2, 0, 0, 0, 0, false)
                .backward(infer, be.allocate(Shape.of(1, 1, 1, 1), DType.FLOAT32), true));
        assertTrue(e2.getMessage().contains("pool_3"), e2.getMessage());
    }

    /**
     * Rescale is one fused multiply-add per element (exactly Math.fma(x, scale, offset), on every
     * backend), its input gradient is scale * dy, it leaves its input alone, and it refuses a scale or
     * offset that is not finite, naming the layer.
     */
    @Test
    void rescaleIsOneFmaPerElementAndScalesTheGradient() {
        float scale = 1f / 127.5f, offset = -1f;
        Rescale r = new Rescale("rescaling", scale, offset);
        float[] x = rand(2 * 3 * 4 * 5, 51);
        for (int i = 0; i < x.length; i++) x[i] = (x[i] + 1) * 127.5f; // pixel values in [0, 255]
        Tensor in = be.upload(x, Shape.of(2, 3, 4, 5));
        float[] y = be.download(r.forward(infer, List.of(in)));
        for (int i = 0; i < x.length; i++) assertEquals(Math.fma(x[i], scale, offset), y[i], 0f, "element " + i);
        assertArrayEquals(x, be.download(in), "the input is not overwritten");
        assertEquals(Shape.of(3, 4, 5), r.outputShape(List.of(Shape.of(3, 4, 5))));
        float[] dy = rand(x.length, 52);
        float[] dx = be.download(r.backward(infer, be.upload(dy, Shape.of(2, 3, 4, 5)), true).get(0));
        for (int i = 0; i < dy.length; i++) assertEquals(dy[i] * scale, dx[i], 0f, "gradient element " + i);
        assertNull(r.backward(infer, be.upload(dy, Shape.of(2, 3, 4, 5)), false).get(0));
        var e = assertThrows(IllegalStateException.class, () -> new Rescale("r2", 2f, 0f).backward(infer, be.upload(dy, Shape.of(2, 3, 4, 5)), true));
        assertTrue(e.getMessage().contains("r2"), e.getMessage());
        var bad = assertThrows(IllegalArgumentException.class, () -> new Rescale("rescaling_9", Float.NaN, 0f));
        assertTrue(bad.getMessage().contains("rescaling_9") && bad.getMessage().contains("NaN"), bad.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Rescale("r3", 1f, Float.POSITIVE_INFINITY));
    }
}
