package dev.shears.core.nn;

import dev.shears.core.backend.Activation;
import dev.shears.core.nn.layers.ActivationLayer;
import dev.shears.core.nn.layers.Add;
import dev.shears.core.nn.layers.BatchNorm;
import dev.shears.core.nn.layers.Conv2D;
import dev.shears.core.nn.layers.Dense;
import dev.shears.core.nn.layers.Dropout;
import dev.shears.core.nn.layers.Flatten;
import dev.shears.core.nn.layers.GlobalAvgPool2D;
import dev.shears.core.nn.layers.MaxPool2D;
import dev.shears.core.tensor.Shape;

import java.util.List;

/** Built-in architectures for {@code shears train --model ARCH}. All end in logits. */
public final class Architectures {
    private Architectures() {}

    public static final List<String> NAMES = List.of("lenet-300-100", "lenet-5", "mnist-cnn", "mobilenet-v2-mini");

    /**
     * @param input  per-sample input shape, e.g. [1, 28, 28]
     * @param classes number of output classes
     */
    public static Model create(String name, Shape input, int classes) {
        return switch (name) {
            case "lenet-300-100" -> mlp(input, classes, 300, 100);
            case "lenet-5" -> lenet5(input, classes);
            case "mnist-cnn" -> mnistCnn(input, classes);
            case "mobilenet-v2-mini" -> mobileNetV2Mini(input, classes);
            default -> throw new IllegalArgumentException("unknown architecture '" + name + "'; built-in: " + String.join(", ", NAMES)
                    + " (or pass a model file: .h5, .keras, .onnx, .shears)");
        };
    }

    /** LeNet-300-100 (LeCun et al. 1998): 784-300-100-10, ReLU. */
    static Model mlp(Shape input, int classes, int h1, int h2) {
        int in = (int) input.size();
        return Model.builder().input("input", input)
                .then(new Flatten("flatten"))
                .then(new Dense("fc1", in, h1, true)).then(new ActivationLayer("fc1_relu", Activation.RELU))
                .then(new Dense("fc2", h1, h2, true)).then(new ActivationLayer("fc2_relu", Activation.RELU))
                .then(new Dense("fc3", h2, classes, true))
                .build();
    }

    /** LeNet-5-like CNN for 28x28 inputs: conv5x5x6 (pad 2), pool, conv5x5x16, pool, 120-84-classes. */
    static Model lenet5(Shape input, int classes) {
        requireImage(input);
        int c = input.dim(0), h = input.dim(1), w = input.dim(2);
        int h2 = (h / 2 - 4) / 2, w2 = (w / 2 - 4) / 2;
        return Model.builder().input("input", input)
                .then(Conv2D.of("conv1", c, 6, 5, 1, 2, true)).then(new ActivationLayer("conv1_relu", Activation.RELU))
                .then(new MaxPool2D("pool1", 2, 2, 2, 2, 0, 0, 0, 0, false))
                .then(Conv2D.of("conv2", 6, 16, 5, 1, 0, true)).then(new ActivationLayer("conv2_relu", Activation.RELU))
                .then(new MaxPool2D("pool2", 2, 2, 2, 2, 0, 0, 0, 0, false))
                .then(new Flatten("flatten"))
                .then(new Dense("fc1", 16 * h2 * w2, 120, true)).then(new ActivationLayer("fc1_relu", Activation.RELU))
                .then(new Dense("fc2", 120, 84, true)).then(new ActivationLayer("fc2_relu", Activation.RELU))
                .then(new Dense("fc3", 84, classes, true))
                .build();
    }

    /** The Keras MNIST CNN example's architecture: conv3x3x32, conv3x3x64, pool 2, dropout, 128, dropout, classes. */
    static Model mnistCnn(Shape input, int classes) {
        requireImage(input);
        int c = input.dim(0), h = input.dim(1), w = input.dim(2);
        int ph = (h - 4) / 2, pw = (w - 4) / 2;
        return Model.builder().input("input", input)
                .then(Conv2D.of("conv1", c, 32, 3, 1, 0, true)).then(new ActivationLayer("conv1_relu", Activation.RELU))
                .then(Conv2D.of("conv2", 32, 64, 3, 1, 0, true)).then(new ActivationLayer("conv2_relu", Activation.RELU))
                .then(new MaxPool2D("pool", 2, 2, 2, 2, 0, 0, 0, 0, false))
                .then(new Dropout("dropout1", 0.25f))
                .then(new Flatten("flatten"))
                .then(new Dense("fc1", 64 * ph * pw, 128, true)).then(new ActivationLayer("fc1_relu", Activation.RELU))
                .then(new Dropout("dropout2", 0.5f))
                .then(new Dense("fc2", 128, classes, true))
                .build();
    }

    /**
     * The inverted residual blocks of {@link #mobileNetV2Mini}: expansion ratio t, output channels c,
     * stride s (MobileNetV2's table 2 columns, one block per row here).
     */
    private record Block(int expansion, int out, int stride) {}

    private static final List<Block> MOBILENET_V2_MINI = List.of(
            new Block(1, 16, 1), new Block(6, 24, 2), new Block(6, 24, 1), new Block(6, 32, 2), new Block(6, 32, 1));
    private static final int MOBILENET_V2_MINI_STEM = 16, MOBILENET_V2_MINI_HEAD = 128;
    /** BatchNorm as Keras' MobileNetV2 builds it, but with momentum 0.99 (Keras' default) rather than 0.999, since runs here are a few epochs */
    private static final float BN_EPSILON = 1e-3f, BN_MOMENTUM = 0.99f;

    /**
     * A small MobileNetV2 (Sandler et al. 2018) for small images such as 28x28: a 3x3 stride-2 stem
     * convolution to 16 channels (BatchNorm, ReLU6), five inverted residual blocks, a 1x1 convolution
     * to 128 channels (BatchNorm, ReLU6), global average pooling and a Dense classifier. Each block
     * is a 1x1 expansion by t (BatchNorm, ReLU6; none where t = 1), a 3x3 depthwise convolution of
     * stride s (one group per channel; BatchNorm, ReLU6), a linear 1x1 projection (BatchNorm, no
     * activation) and, where s = 1 and the channels are unchanged, an Add of the block's input.
     * Convolutions have no bias (the BatchNorm after each has one). Blocks (t, c, s): (1, 16, 1),
     * (6, 24, 2), (6, 24, 1), (6, 32, 2), (6, 32, 1); a 1x28x28 input goes 14x14 (stem, first
     * block), 7x7, 7x7, 4x4, 4x4.
     *
     * <p>For [1, 28, 28] and 10 classes: 45,098 trainable parameters (42,208 convolution and Dense
     * kernel weights, 2,880 BatchNorm scales and shifts, 10 Dense biases) plus 2,880 BatchNorm
     * moving statistics (47,978 in all); about 1.52 M multiply-adds per image forward (stem 28 K,
     * blocks 78 K, 456 K, 402 K, 264 K, 224 K, head 66 K, classifier 1.3 K), 182 K of them in the
     * depthwise convolutions. Names follow Keras'
     * MobileNetV2 ({@code Conv1}, {@code block_2_expand}, {@code block_2_depthwise_BN}, ...).
     */
    static Model mobileNetV2Mini(Shape input, int classes) {
        requireImage(input);
        int c = input.dim(0);
        Model.Builder b = Model.builder().input("input", input);
        String last = convBnRelu6(b, "Conv1", "input", c, MOBILENET_V2_MINI_STEM, 3, 2, 1);
        int channels = MOBILENET_V2_MINI_STEM;
        for (int i = 0; i < MOBILENET_V2_MINI.size(); i++) {
            Block blk = MOBILENET_V2_MINI.get(i);
            String p = "block_" + (i + 1) + "_";
            int hidden = channels * blk.expansion();
            String blockInput = last;
            String h = blk.expansion() == 1 ? last : convBnRelu6(b, p + "expand", last, channels, hidden, 1, 1, 1);
            h = convBnRelu6(b, p + "depthwise", h, hidden, hidden, 3, blk.stride(), hidden);
            b.add(Conv2D.of(p + "project", hidden, blk.out(), 1, 1, 0, false), h);
            b.add(new BatchNorm(p + "project_BN", blk.out(), BN_EPSILON, BN_MOMENTUM), p + "project");
            last = p + "project_BN";
            if (blk.stride() == 1 && blk.out() == channels) {
                b.add(new Add(p + "add"), List.of(blockInput, last));
                last = p + "add";
            }
            channels = blk.out();
        }
        last = convBnRelu6(b, "Conv_1", last, channels, MOBILENET_V2_MINI_HEAD, 1, 1, 1);
        b.add(new GlobalAvgPool2D("global_average_pooling2d", false), last);
        b.then(new Dense("predictions", MOBILENET_V2_MINI_HEAD, classes, true));
        return b.build();
    }

    /**
     * A k x k convolution (padding k/2, no bias, {@code groups} groups) from {@code from}, BatchNorm
     * and ReLU6; returns the ReLU6's name.
     */
    private static String convBnRelu6(Model.Builder b, String name, String from, int in, int out, int k, int stride, int groups) {
        int pad = k / 2;
        b.add(new Conv2D(name, in, out, k, k, stride, stride, pad, pad, pad, pad, 1, 1, groups, false), from);
        b.add(new BatchNorm(name + "_BN", out, BN_EPSILON, BN_MOMENTUM), name);
        b.add(new ActivationLayer(name + "_relu", Activation.RELU_CAPPED, 6f), name + "_BN");
        return name + "_relu";
    }

    private static void requireImage(Shape s) {
        if (s.rank() != 3) throw new IllegalArgumentException("this architecture needs image inputs [C, H, W], got " + s);
    }
}
