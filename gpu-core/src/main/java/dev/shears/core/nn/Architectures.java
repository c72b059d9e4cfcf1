package dev.shears.core.nn;

import dev.shears.core.backend.Activation;
import dev.shears.core.nn.layers.ActivationLayer;
import dev.shears.core.nn.layers.Conv2D;
import dev.shears.core.nn.layers.Dense;
import dev.shears.core.nn.layers.Dropout;
import dev.shears.core.nn.layers.Flatten;
import dev.shears.core.nn.layers.MaxPool2D;
import dev.shears.core.tensor.Shape;

import java.util.List;

/** Built-in architectures for {@code shears train --model ARCH}. All end in logits. */
public final class Architectures {
    private Architectures() {}

    public static final List<String> NAMES = List.of("lenet-300-100", "lenet-5", "mnist-cnn");

    /**
     * @param input  per-sample input shape, e.g. [1, 28, 28]
     * @param classes number of output classes
     */
    public static Model create(String name, Shape input, int classes) {
        return switch (name) {
            case "lenet-300-100" -> mlp(input, classes, 300, 100);
            case "lenet-5" -> lenet5(input, classes);
            case "mnist-cnn" -> mnistCnn(input, classes);
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

    private static void requireImage(Shape s) {
        if (s.rank() != 3) throw new IllegalArgumentException("this architecture needs image inputs [C, H, W], got " + s);
    }
}
