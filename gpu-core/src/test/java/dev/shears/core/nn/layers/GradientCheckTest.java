package dev.shears.core.nn.layers;

import dev.shears.core.backend.Activation;
import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.GradientChecker;
import dev.shears.core.nn.Layer;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.List;
import java.util.SplittableRandom;


/**
 * Every layer with a backward pass: input and parameter gradients against central finite
 * differences (see {@link GradientChecker} for the tolerance and why). Piecewise-linear layers get
 * inputs kept clear of their kinks so the finite difference never straddles one.
 */
class GradientCheckTest {
    private final Backend be = new CpuBackend(1);

    private GradientChecker checker(long seed) { return new GradientChecker(be, seed); }

    private void check(GradientChecker gc, Layer layer, List<Tensor> inputs) {
        gc.bindParameters(layer);
        gc.check(layer, inputs);
    }

    /** Distinct values on a grid of spacing {@code gap}, shuffled: max pooling never sees a near-tie. */
    private Tensor distinct(Shape s, double gap, long seed) {
        int n = s.intSize();
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) ((i - n / 2) * gap);
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            float t = v[i]; v[i] = v[j]; v[j] = t;
        }
        return be.upload(v, s);
    }

    @Test void dense() {
        GradientChecker gc = checker(1);
        check(gc, new Dense("dense", 7, 5, true), gc.inputs(gc.uniform(), Shape.of(4, 7)));
    }

    @Test void denseWithoutBias() {
        GradientChecker gc = checker(2);
        check(gc, new Dense("dense", 3, 6, false), gc.inputs(gc.uniform(), Shape.of(2, 3)));
    }

    @Test void conv2dSamePadding() {
        GradientChecker gc = checker(3);
        check(gc, Conv2D.of("conv", 2, 3, 3, 1, 1, true), gc.inputs(gc.uniform(), Shape.of(2, 2, 5, 5)));
    }

    @Test void conv2dStrideAndAsymmetricPadding() {
        GradientChecker gc = checker(4);
        Conv2D c = new Conv2D("conv", 2, 4, 3, 2, 2, 3, 0, 1, 2, 0, 1, 1, 1, true);
        check(gc, c, gc.inputs(gc.uniform(), Shape.of(2, 2, 7, 6)));
    }

    @Test void conv2dGroupsAndDilation() {
        GradientChecker gc = checker(5);
        Conv2D c = new Conv2D("conv", 4, 6, 3, 3, 1, 2, 2, 1, 1, 2, 2, 2, 2, true);
        check(gc, c, gc.inputs(gc.uniform(), Shape.of(2, 4, 7, 8)));
    }

    @Test void conv2dDepthwiseWithoutBias() {
        GradientChecker gc = checker(6);
        Conv2D c = new Conv2D("conv", 3, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 3, false);
        check(gc, c, gc.inputs(gc.uniform(), Shape.of(2, 3, 6, 6)));
    }

    @Test void conv2dPointwiseGrouped() {
        // the 1x1 path multiplies the image directly, without im2col
        GradientChecker gc = checker(7);
        Conv2D c = new Conv2D("conv", 4, 6, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 2, true);
        check(gc, c, gc.inputs(gc.uniform(), Shape.of(3, 4, 3, 4)));
    }

    @Test void conv2dUnfoldedInChunks() {
        // a budget of two images' columns: 5 images go as chunks of 2, 2, 1, and backward re-unfolds
        int saved = Conv2D.colsBudgetFloats;
        Conv2D.colsBudgetFloats = 2 * 2 * (2 * 9) * 16;
        try {
            GradientChecker gc = checker(42);
            Conv2D c = new Conv2D("conv", 4, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2, true);
            check(gc, c, gc.inputs(gc.uniform(), Shape.of(5, 4, 4, 4)));
        } finally {
            Conv2D.colsBudgetFloats = saved;
        }
    }

    @Test void maxPoolWithPaddingAndCeilMode() {
        GradientChecker gc = checker(8).step(5e-3);
        MaxPool2D p = new MaxPool2D("pool", 3, 2, 2, 2, 1, 0, 1, 1, true);
        check(gc, p, List.of(distinct(Shape.of(2, 2, 7, 6), 0.02, 8)));
    }

    @Test void maxPoolPlain() {
        GradientChecker gc = checker(9).step(5e-3);
        check(gc, new MaxPool2D("pool", 2, 2, 2, 2, 0, 0, 0, 0, false), List.of(distinct(Shape.of(2, 3, 4, 6), 0.02, 9)));
    }

    @Test void globalMaxPool() {
        // distinct values a step apart: the finite difference never moves the arg-max
        GradientChecker gc = checker(22).step(5e-3);
        check(gc, new GlobalMaxPool2D("gmp", false), List.of(distinct(Shape.of(3, 4, 3, 5), 0.02, 22)));
        check(gc, new GlobalMaxPool2D("gmp", true), List.of(distinct(Shape.of(2, 2, 4, 4), 0.02, 23)));
    }

    @Test void avgPoolCountIncludePad() {
        GradientChecker gc = checker(10);
        AvgPool2D p = new AvgPool2D("pool", 3, 3, 2, 2, 1, 1, 1, 1, true, true);
        check(gc, p, gc.inputs(gc.uniform(), Shape.of(2, 2, 6, 7)));
    }

    @Test void avgPoolExcludePad() {
        GradientChecker gc = checker(11);
        AvgPool2D p = new AvgPool2D("pool", 2, 3, 1, 2, 1, 0, 0, 1, false, false);
        check(gc, p, gc.inputs(gc.uniform(), Shape.of(2, 2, 5, 6)));
    }

    @Test void globalAvgPool() {
        GradientChecker gc = checker(12);
        check(gc, new GlobalAvgPool2D("gap", false), gc.inputs(gc.uniform(), Shape.of(3, 4, 3, 5)));
        check(gc, new GlobalAvgPool2D("gap", true), gc.inputs(gc.uniform(), Shape.of(2, 2, 4, 4)));
    }

    @Test void batchNormTrainingImages() {
        GradientChecker gc = checker(13);
        check(gc, new BatchNorm("bn", 3, 1e-3f, 0.99f), gc.inputs(gc.uniform(), Shape.of(4, 3, 3, 2)));
    }

    @Test void batchNormTrainingFeatures() {
        GradientChecker gc = checker(14);
        check(gc, new BatchNorm("bn", 5, 1e-3f, 0.9f), gc.inputs(gc.uniform(), Shape.of(6, 5)));
    }

    @ParameterizedTest
    @EnumSource(Activation.class)
    void activation(Activation f) {
        GradientChecker gc = checker(15 + f.ordinal());
        // kinks at 0 (ReLU family), +-2.5 (hard sigmoid), +-3 (hard swish) and at the cap 1.5 given to
        // RELU_CAPPED (so both its pieces are checked): inputs in [-3, 3], >= 0.05 from each
        var gen = gc.awayFromZero(0.05);
        var spread = (java.util.function.DoubleSupplier) () -> {
            double v;
            do { v = 3 * gen.getAsDouble(); }
            while (Math.abs(Math.abs(v) - 2.5) < 0.05 || Math.abs(v) < 0.05 || Math.abs(Math.abs(v) - 3) < 0.05 || Math.abs(v - 1.5) < 0.05);
            return v;
        };
        Layer layer = f == Activation.RELU_CAPPED ? new ActivationLayer("act", f, 1.5f) : new ActivationLayer("act", f);
        check(gc, layer, gc.inputs(spread, Shape.of(4, 9)));
    }

    /**
     * HARD_SIGMOID with other slopes and offsets: Keras 3's 1/6, 0.5 (kinks +-3), slope 0.5 offset
     * 0.25 (kinks -0.5 and 1.5) and a negative slope -0.4 offset 0.3 (kinks 0.75 and -1.75). Inputs
     * in [-4, 4], kept 0.05 from each kink, cover both flat sides and the slope.
     */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource({"0.16666667, 0.5, -3, 3", "0.5, 0.25, -0.5, 1.5", "-0.4, 0.3, 0.75, -1.75"})
    void hardSigmoidWithSlopeAndOffset(float alpha, float beta, double kink0, double kink1) {
        GradientChecker gc = checker(40);
        var gen = gc.uniform();
        var spread = (java.util.function.DoubleSupplier) () -> {
            double v;
            do { v = 4 * gen.getAsDouble(); }
            while (Math.abs(v - kink0) < 0.05 || Math.abs(v - kink1) < 0.05);
            return v;
        };
        check(gc, new ActivationLayer("hs", Activation.HARD_SIGMOID, alpha, beta), gc.inputs(spread, Shape.of(4, 9)));
    }

    @Test void preluPerChannel() {
        GradientChecker gc = checker(30);
        check(gc, new PReLU("prelu", Shape.of(3)), gc.inputs(gc.awayFromZero(0.05), Shape.of(2, 3, 2, 2)));
    }

    @Test void preluPerElement() {
        GradientChecker gc = checker(31);
        check(gc, new PReLU("prelu", Shape.of(2, 3)), gc.inputs(gc.awayFromZero(0.05), Shape.of(3, 2, 3)));
    }

    @Test void softmax() {
        GradientChecker gc = checker(32);
        check(gc, new Softmax("softmax", false), gc.inputs(gc.uniform(), Shape.of(3, 6)));
    }

    @Test void logSoftmax() {
        GradientChecker gc = checker(33);
        check(gc, new Softmax("logsoftmax", true), gc.inputs(gc.uniform(), Shape.of(3, 2, 3)));
    }

    @Test void flattenReshapeIdentity() {
        GradientChecker gc = checker(34);
        check(gc, new Flatten("flatten"), gc.inputs(gc.uniform(), Shape.of(2, 2, 3, 2)));
        check(gc, new Reshape("reshape", Shape.of(3, 4)), gc.inputs(gc.uniform(), Shape.of(2, 2, 6)));
        check(gc, new Identity("id"), gc.inputs(gc.uniform(), Shape.of(2, 5)));
    }

    @Test void permute() {
        GradientChecker gc = checker(35);
        check(gc, new Permute("perm", 2, 0, 1), gc.inputs(gc.uniform(), Shape.of(2, 3, 4, 2)));
    }

    @Test void zeroPad() {
        GradientChecker gc = checker(36);
        check(gc, new ZeroPad2D("pad", 1, 2, 0, 1), gc.inputs(gc.uniform(), Shape.of(2, 2, 3, 3)));
    }

    @Test void rescale() {
        GradientChecker gc = checker(47);
        check(gc, new Rescale("rescale", -0.75f, 0.25f), gc.inputs(gc.uniform(), Shape.of(2, 3, 2, 2)));
    }

    @Test void dropoutTraining() {
        // a fixed seed fixes the mask, so the layer is linear in x
        GradientChecker gc = checker(37);
        check(gc, new Dropout("drop", 0.4f), gc.inputs(gc.uniform(), Shape.of(4, 10)));
    }

    @Test void add() {
        GradientChecker gc = checker(38);
        check(gc, new Add("add"), gc.inputs(gc.uniform(), Shape.of(2, 3, 2), Shape.of(2, 3, 2), Shape.of(2, 3, 2)));
    }

    @Test void concatChannels() {
        GradientChecker gc = checker(39);
        check(gc, new Concat("cat", 0), gc.inputs(gc.uniform(), Shape.of(2, 1, 2, 2), Shape.of(2, 3, 2, 2)));
    }

    @Test void concatInnerAxis() {
        GradientChecker gc = checker(40);
        check(gc, new Concat("cat", 1), gc.inputs(gc.uniform(), Shape.of(2, 3, 2), Shape.of(2, 3, 1), Shape.of(2, 3, 3)));
    }

    /** Alpha large enough that the normalisation term matters (AlexNet's 1e-4 would leave LRN nearly the identity). */
    @Test void lrnOddWindow() {
        GradientChecker gc = checker(41);
        check(gc, new LRN("norm1", 3, 0.5f, 0.75f, 1f), gc.inputs(gc.uniform(), Shape.of(2, 5, 2, 3)));
    }

    /** An even size: the window is uneven (one more channel after c than before), so the backward's reversed window is tested. */
    @Test void lrnEvenWindowWiderThanTheChannels() {
        GradientChecker gc = checker(42);
        check(gc, new LRN("norm2", 4, 0.9f, 0.6f, 2f), gc.inputs(gc.uniform(), Shape.of(2, 3, 2, 2)));
    }
}
