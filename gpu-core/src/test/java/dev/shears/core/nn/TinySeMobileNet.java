package dev.shears.core.nn;

import dev.shears.core.backend.Activation;
import dev.shears.core.backend.Backend;
import dev.shears.core.nn.layers.ActivationLayer;
import dev.shears.core.nn.layers.BatchNorm;
import dev.shears.core.nn.layers.Conv2D;
import dev.shears.core.nn.layers.Dense;
import dev.shears.core.nn.layers.GlobalAvgPool2D;
import dev.shears.core.nn.layers.Multiply;
import dev.shears.core.tensor.Shape;

/**
 * A MobileNetV3-shaped block for tests: a 3x3 convolution with hard swish, a depthwise 3x3
 * convolution (stride 2), a squeeze-and-excitation gate (global average pooling kept as [C, 1, 1],
 * 1x1 convolution down to 4 channels, ReLU, 1x1 convolution back to 8, hard sigmoid) multiplied
 * with the depthwise output, a pointwise 1x1 convolution, global average pooling and a Dense
 * classifier, on 3x12x12 images. {@link #step} is {@link TinyMobileNet#step}'s, with this input.
 */
public final class TinySeMobileNet {
    private TinySeMobileNet() {}

    public static final Shape INPUT = TinyMobileNet.INPUT;
    public static final int CLASSES = TinyMobileNet.CLASSES;

    public static Model create() {
        return Model.builder().input("input", INPUT)
                .then(new Conv2D("conv", 3, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, false))
                .then(new BatchNorm("conv_bn", 8, 1e-3f, 0.9f))
                .then(new ActivationLayer("conv_hswish", Activation.HARD_SWISH))
                .then(new Conv2D("dw", 8, 8, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 8, false))
                .then(new BatchNorm("dw_bn", 8, 1e-3f, 0.9f))
                .then(new ActivationLayer("dw_relu", Activation.RELU))
                .then(new GlobalAvgPool2D("se_squeeze", true))
                .then(new Conv2D("se_reduce", 8, 4, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, true))
                .then(new ActivationLayer("se_relu", Activation.RELU))
                .then(new Conv2D("se_expand", 4, 8, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, true))
                .then(new ActivationLayer("se_gate", Activation.HARD_SIGMOID))
                .add(new Multiply("se_excite"), "dw_relu", "se_gate")
                .then(new Conv2D("pw", 8, 16, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, true))
                .then(new ActivationLayer("pw_relu", Activation.RELU))
                .then(new GlobalAvgPool2D("pool", false))
                .then(new Dense("fc", 16, CLASSES, true))
                .build();
    }

    /** Forward and backward on the fixed batch of {@code batch} images (seed {@code seed}); returns the mean loss. */
    public static double step(Backend be, Model m, int batch, long seed, long stepSeed) {
        return TinyMobileNet.step(be, m, batch, seed, stepSeed);
    }
}
