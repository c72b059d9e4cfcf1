package dev.shears.core.sparse;

import dev.shears.core.backend.Activation;
import dev.shears.core.backend.ConvGeometry;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.layers.ActivationLayer;
import dev.shears.core.nn.layers.Conv2D;
import dev.shears.core.nn.layers.Dense;
import dev.shears.core.nn.layers.Flatten;
import dev.shears.core.nn.layers.MaxPool2D;
import dev.shears.core.tensor.DType;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * 2:4 convolutions larger than 1x1 run NmMatrix on tap-major columns ({@link ConvTaps}): a small
 * CNN on 8-channel 9x9 inputs (conv 3x3 8->8 pad 1, conv 3x3 8->12 stride 2 pad 1, conv 1x1 12->8,
 * conv 3x3 8->8 pruned unstructured, pool, dense) whose first three kernels are pruned 2:4 along
 * input channels at each (out, ki, kj), as pruning's NmLayout does.
 *
 * <p>Tolerance on the logits against the dense model: {@code 1e-5 * (1 + |dense|)}. Both paths sum
 * the same float products (k = 72 to 108 per output) in another order, each order's error
 * bounded by about k * 2^-24 of the sum of |terms| (~6e-6 relative for k = 108, far less in
 * practice since errors of random sign cancel); observed worst below 1e-6. A wrongly ordered im2col
 * row (a tap or channel off by one) moves logits by their own size.
 */
public class NmConvolutionTest {
    public static final int C = 8, H = 9, W = 9, CLASSES = 5, BATCH = 3;

    public static Model cnn() {
        return Model.builder().input("x", Shape.of(C, H, W))
                .then(Conv2D.of("conv1", C, 8, 3, 1, 1, true)).then(new ActivationLayer("relu1", Activation.RELU))
                .then(Conv2D.of("conv2", 8, 12, 3, 2, 1, true)).then(new ActivationLayer("relu2", Activation.RELU))
                .then(Conv2D.of("conv3", 12, 8, 1, 1, 0, true)).then(new ActivationLayer("relu3", Activation.RELU))
                .then(Conv2D.of("conv4", 8, 8, 3, 1, 1, false)).then(new ActivationLayer("relu4", Activation.RELU))
                .then(new MaxPool2D("pool", 2, 2, 2, 2, 0, 0, 0, 0, false))
                .then(new Flatten("flatten"))
                .then(new Dense("fc", 8 * 2 * 2, CLASSES, true))
                .build();
    }

    /**
     * Keeps the two largest-magnitude weights of every group of four input channels at each
     * (out, ki, kj) of an OIHW kernel (a short last group too): pruning's NmLayout for a Conv2D.
     */
    public static float[] prune24AlongChannels(float[] k, int out, int in, int kh, int kw) {
        float[] w = k.clone();
        int taps = kh * kw;
        for (int o = 0; o < out; o++)
            for (int t = 0; t < taps; t++)
                for (int c0 = 0; c0 < in; c0 += 4) {
                    int end = Math.min(in, c0 + 4), oo = o, tt = t;
                    Integer[] idx = new Integer[end - c0];
                    for (int c = c0; c < end; c++) idx[c - c0] = c;
                    Arrays.sort(idx, (a, b) -> Float.compare(Math.abs(w[(oo * in + b) * taps + tt]), Math.abs(w[(oo * in + a) * taps + tt])));
                    for (int r = 2; r < idx.length; r++) w[(o * in + idx[r]) * taps + t] = 0f;
                }
        return w;
    }

    /** Zeroes every weight below the median magnitude (unstructured 50%). */
    public static float[] pruneHalf(float[] k) {
        float[] m = new float[k.length];
        for (int i = 0; i < k.length; i++) m[i] = Math.abs(k[i]);
        Arrays.sort(m);
        float cut = m[k.length / 2];
        float[] w = k.clone();
        for (int i = 0; i < w.length; i++) if (Math.abs(w[i]) < cut) w[i] = 0f;
        return w;
    }

    /** The CNN bound to {@code be}, conv1..conv3 pruned 2:4 along input channels and conv4 50% unstructured. */
    public static Model prunedCnn(dev.shears.core.backend.Backend be) {
        Model m = cnn().bind(be, 3);
        for (String name : List.of("conv1", "conv2", "conv3", "conv4")) {
            Conv2D conv = (Conv2D) m.layer(name);
            Shape s = conv.kernel().shape();
            float[] k = be.download(conv.kernel().value());
            float[] p = name.equals("conv4") ? pruneHalf(k) : prune24AlongChannels(k, s.dim(0), s.dim(1), s.dim(2), s.dim(3));
            be.write(p, 0, conv.kernel().value(), 0, p.length);
        }
        return m;
    }

    public static float[] input(int batch) {
        SplittableRandom rng = new SplittableRandom(5);
        float[] xs = new float[batch * C * H * W];
        for (int i = 0; i < xs.length; i++) xs[i] = (float) rng.nextDouble(-1, 1);
        return xs;
    }

    public static int[] argmax(float[] logits, int classes) {
        int[] p = new int[logits.length / classes];
        for (int s = 0; s < p.length; s++)
            for (int c = 1; c < classes; c++) if (logits[s * classes + c] > logits[s * classes + p[s]]) p[s] = c;
        return p;
    }

    @Test void tapMajorIm2colHoldsTheSameRowsReordered() {
        CpuBackend be = CpuBackend.create();
        int c = 6;
        // stride 2, dilation 2, uneven padding: every tap has its own valid window
        ConvGeometry g = new ConvGeometry(c, 7, 8, 3, 2, 2, 1, 1, 0, 2, 1, 2, 1, false);
        SplittableRandom rng = new SplittableRandom(1);
        float[] xs = new float[2 * c * 7 * 8];
        for (int i = 0; i < xs.length; i++) xs[i] = (float) rng.nextDouble();
        int k = g.colRows(), hw = g.colCols(), taps = 3 * 2;
        try (Tensor x = be.upload(xs, Shape.of(2, c, 7, 8)); Tensor std = be.allocate(Shape.of(k * hw), DType.FLOAT32);
             Tensor tap = be.allocate(Shape.of(k * hw + 5), DType.FLOAT32)) {
            be.write(new float[] {-7f}, 0, tap, 0, 1);
            be.im2col(x, c * 7 * 8, g, std, 0);
            be.im2colTapMajor(x, c * 7 * 8, g, tap, 5); // the second image, at an offset
            float[] s = be.download(std), t = be.download(tap);
            assertEquals(-7f, t[0], "nothing written before the offset");
            for (int ch = 0; ch < c; ch++)
                for (int tp = 0; tp < taps; tp++)
                    assertArrayEquals(Arrays.copyOfRange(s, (ch * taps + tp) * hw, (ch * taps + tp + 1) * hw),
                            Arrays.copyOfRange(t, 5 + (tp * c + ch) * hw, 5 + (tp * c + ch + 1) * hw), "channel " + ch + ", tap " + tp);
        }
    }

    @Test void tapMajorOrderMakesChannelGroupsConsecutive() {
        float[] k = new float[2 * 8 * 3 * 3];
        for (int i = 0; i < k.length; i++) k[i] = i + 1;
        float[] a = ConvTaps.tapMajor(k, 2, 8, 3, 3);
        assertEquals(k[((1 * 8 + 5) * 3 + 2) * 3 + 1], a[1 * 72 + (2 * 3 + 1) * 8 + 5], "out 1, channel 5, tap (2, 1)");
        float[] p = prune24AlongChannels(k, 2, 8, 3, 3);
        assertFalse(NmMatrix.follows(p, 2, 72, 2, 4), "in the im2col order the groups stride 9 columns");
        assertTrue(ConvTaps.onlyTapMajorIsTwoOfFour(p, 2, 8, 3, 3));
        assertFalse(ConvTaps.onlyTapMajorIsTwoOfFour(pruneHalf(k), 2, 8, 3, 3), "unstructured");
        // 6 channels: tap runs of 6 abut, so a group of four columns straddles two taps (2 + 2 kept of each run's edge)
        float[] six = prune24AlongChannels(Arrays.copyOf(k, 2 * 6 * 9), 2, 6, 3, 3);
        assertFalse(ConvTaps.onlyTapMajorIsTwoOfFour(six, 2, 6, 3, 3), "groups straddle taps when 4 does not divide in");
        // a 1x1 kernel needs no reordering: its own A is 2:4
        assertFalse(ConvTaps.onlyTapMajorIsTwoOfFour(prune24AlongChannels(Arrays.copyOf(k, 16), 2, 8, 1, 1), 2, 8, 1, 1));
    }

    @Test void forcedTwoOfFourConvolutionsPredictLikeDense() {
        CpuBackend be = CpuBackend.create();
        Model m = prunedCnn(be);
        float[] xs = input(BATCH);
        try (Tensor x = be.upload(xs, Shape.of(BATCH, C, H, W))) {
            float[] dense = be.download(m.forward(ExecContext.inference(be), x));
            SparseModel sm = SparseModel.plan(m, BATCH, new SparsePlanner(SparsePlanner.Options.quick().forcing("2:4")));
            String plans = sm.plans().toString();
            for (String conv : List.of("conv1", "conv2", "conv3")) {
                SparseModel.LayerPlan p = sm.plans().stream().filter(lp -> lp.layer().equals(conv)).findFirst().orElseThrow();
                assertEquals("2:4", p.format(), plans);
                assertInstanceOf(NmMatrix.class, sm.weights(conv), conv);
                assertEquals(!conv.equals("conv3"), sm.tapMajor(conv), conv + ": tap-major for 3x3, own order for 1x1");
            }
            // the unstructured conv is never offered 2:4, forced or not
            SparseModel.LayerPlan conv4 = sm.plans().stream().filter(lp -> lp.layer().equals("conv4")).findFirst().orElseThrow();
            assertTrue(conv4.timings().stream().noneMatch(t -> t.format().equals("2:4")), conv4.toString());
            assertNotEquals("2:4", conv4.format());
            assertFalse(sm.tapMajor("conv4"));
            float[] got = be.download(sm.forward(x));
            double worst = 0;
            for (int i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - dense[i]) / (1 + Math.abs(dense[i])));
            System.err.printf("2:4 convolutions on the CPU: worst |logit - dense| / (1 + |dense|) = %.3g%n", worst);
            for (int i = 0; i < got.length; i++)
                assertEquals(dense[i], got[i], 1e-5 * (1 + Math.abs(dense[i])), "logit " + i + " (plans " + plans + ")");
            assertArrayEquals(argmax(dense, CLASSES), argmax(got, CLASSES), "predictions");
            // one image through the same plan
            try (Tensor x1 = be.upload(Arrays.copyOf(xs, C * H * W), Shape.of(1, C, H, W))) {
                float[] one = be.download(sm.forward(x1));
                for (int i = 0; i < CLASSES; i++) assertEquals(dense[i], one[i], 1e-5 * (1 + Math.abs(dense[i])), "first image alone, logit " + i);
            }
        }
    }

    @Test void timedPlansOfferTwoOfFourForEveryTwoOfFourConvolution() {
        CpuBackend be = CpuBackend.create();
        Model m = prunedCnn(be);
        SparseModel sm = SparseModel.plan(m, BATCH, new SparsePlanner(SparsePlanner.Options.quick()));
        for (SparseModel.LayerPlan p : sm.plans()) {
            boolean twoOfFour = List.of("conv1", "conv2", "conv3").contains(p.layer()); // fc is not pruned: no sparse candidate
            assertEquals(twoOfFour, p.timings().stream().anyMatch(t -> t.format().equals("2:4")), p.toString());
            assertEquals(p.format().equals("2:4") && !p.layer().equals("conv3"), sm.tapMajor(p.layer()), p.toString());
        }
        float[] xs = input(BATCH);
        try (Tensor x = be.upload(xs, Shape.of(BATCH, C, H, W))) {
            float[] dense = be.download(m.forward(ExecContext.inference(be), x));
            float[] got = be.download(sm.forward(x));
            for (int i = 0; i < got.length; i++) assertEquals(dense[i], got[i], 1e-5 * (1 + Math.abs(dense[i])), "logit " + i + " " + sm.plans());
        }
    }
}
