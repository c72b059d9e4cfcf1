package dev.shears.pruning;

import dev.shears.core.backend.Activation;
import dev.shears.core.backend.Backend;
import dev.shears.core.data.Dataset;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.Parameter;
import dev.shears.core.nn.layers.ActivationLayer;
import dev.shears.core.nn.layers.Dense;
import dev.shears.core.nn.layers.Softmax;
import dev.shears.core.tensor.Shape;

import java.util.SplittableRandom;

/** Small models and synthetic data sets for pruning tests. */
public final class TestModels {
    private TestModels() {}

    /** A trainable KERNEL parameter of {@code shape} on {@code be}, filled with N(0, 1) draws from {@code seed}. */
    public static Parameter kernel(Backend be, String name, Shape shape, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[(int) shape.size()];
        for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
        Parameter p = new Parameter(name, Parameter.Role.KERNEL, shape, true);
        p.setValue(be.upload(v, shape));
        return p;
    }

    /** in -> hidden (ReLU) -> hidden2 (ReLU) -> classes logits, optionally with a final Softmax. */
    public static Model mlp(int in, int hidden, int hidden2, int classes, boolean softmax) {
        Model.Builder b = Model.builder().input("x", Shape.of(in))
                .then(new Dense("dense_1", in, hidden, true))
                .then(new ActivationLayer("relu_1", Activation.RELU))
                .then(new Dense("dense_2", hidden, hidden2, true))
                .then(new ActivationLayer("relu_2", Activation.RELU))
                .then(new Dense("dense_3", hidden2, classes, true));
        if (softmax) b.then(new Softmax("softmax", false));
        return b.build();
    }

    /**
     * Fashion-MNIST-like synthetic data: each class has a random prototype "image" of
     * {@code features} pixels in [0, 1]; a sample is its class prototype with per-pixel noise
     * (clipped to [0, 1]) and a random brightness, so the classes overlap a little and a small
     * MLP needs a few epochs to separate them.
     */
    public static Dataset blobs(String name, int count, int features, int classes, double noise, long seed) {
        SplittableRandom protoRng = new SplittableRandom(42);
        float[][] proto = new float[classes][features];
        for (float[] p : proto) for (int j = 0; j < features; j++) p[j] = protoRng.nextDouble() < 0.5 ? 0f : (float) protoRng.nextDouble();
        SplittableRandom rng = new SplittableRandom(seed);
        float[] x = new float[count * features];
        int[] y = new int[count];
        for (int i = 0; i < count; i++) {
            int c = rng.nextInt(classes);
            y[i] = c;
            double brightness = 0.7 + 0.6 * rng.nextDouble();
            for (int j = 0; j < features; j++) {
                double v = proto[c][j] * brightness + noise * (rng.nextDouble() * 2 - 1);
                x[i * features + j] = (float) Math.min(1, Math.max(0, v));
            }
        }
        return new Dataset(name, Shape.of(features), x, y, classes);
    }
}
