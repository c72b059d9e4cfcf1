package dev.shears.core.nn;

import dev.shears.core.backend.Activation;
import dev.shears.core.backend.Backend;
import dev.shears.core.nn.layers.ActivationLayer;
import dev.shears.core.nn.layers.BatchNorm;
import dev.shears.core.nn.layers.Conv2D;
import dev.shears.core.nn.layers.Dense;
import dev.shears.core.nn.layers.GlobalMaxPool2D;
import dev.shears.core.tensor.DType;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;

import java.util.SplittableRandom;

/**
 * A MobileNet-shaped model for tests: a 3x3 convolution, a depthwise 3x3 convolution (one group per
 * channel, stride 2), a pointwise 1x1 convolution, global max pooling and a Dense classifier, on
 * 3x12x12 images; and one training step (softmax cross-entropy) on a fixed seeded batch.
 */
public final class TinyMobileNet {
    private TinyMobileNet() {}

    public static final Shape INPUT = Shape.of(3, 12, 12);
    public static final int CLASSES = 4;

    public static Model create() {
        return Model.builder().input("input", INPUT)
                .then(new Conv2D("conv", 3, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, false))
                .then(new BatchNorm("conv_bn", 8, 1e-3f, 0.9f))
                .then(new ActivationLayer("conv_relu", Activation.RELU))
                .then(new Conv2D("dw", 8, 8, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 8, false))
                .then(new BatchNorm("dw_bn", 8, 1e-3f, 0.9f))
                .then(new ActivationLayer("dw_relu", Activation.RELU))
                .then(new Conv2D("pw", 8, 16, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, true))
                .then(new ActivationLayer("pw_relu", Activation.RELU))
                .then(new GlobalMaxPool2D("pool", false))
                .then(new Dense("fc", 16, CLASSES, true))
                .build();
    }

    /** Forward and backward on the fixed batch of {@code batch} images (seed {@code seed}); returns the mean loss. */
    public static double step(Backend be, Model m, int batch, long seed, long stepSeed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[batch * INPUT.intSize()];
        int[] labels = new int[batch];
        for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextDouble() * 2 - 1);
        for (int i = 0; i < batch; i++) labels[i] = r.nextInt(CLASSES);
        try (Tensor xs = be.upload(x, INPUT.withBatch(batch)); Tensor ls = be.uploadInts(labels, Shape.of(batch));
             Tensor dLogits = be.allocate(Shape.of(batch, CLASSES), DType.FLOAT32)) {
            ExecContext ctx = new ExecContext(be, true, stepSeed);
            m.zeroGrad();
            double loss = be.softmaxCrossEntropy(m.forward(ctx, xs), ls, dLogits, 1f / batch, batch, CLASSES);
            m.backward(ctx, dLogits);
            return loss / batch;
        }
    }
}
