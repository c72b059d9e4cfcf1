package dev.shears.bench.gpu;

import dev.shears.core.data.Dataset;
import dev.shears.core.data.Split;
import dev.shears.core.tensor.Shape;

import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * Synthetic data with Fashion-MNIST's shape (28x28 single-channel images in [0, 1], 10 classes,
 * 60000 training and 10000 test samples by default), for throughput runs on a machine that has
 * no copy of the real set (the GPU machine has no network and {@code ../shared} does not travel).
 * Each class has a fixed random prototype image; a sample is half its class's prototype and half
 * uniform noise, so a model learns it (accuracy rises above chance) and the loss stays finite.
 * Throughput does not depend on the pixel values: the same work is done as on the real set.
 */
public final class SyntheticImages {
    private SyntheticImages() {}

    public static final Shape SAMPLE = Shape.of(1, 28, 28);
    public static final int CLASSES = 10;

    /** {@code train} and {@code test} samples drawn from the same prototypes (seeded). */
    public static Split split(int train, int test, long seed) {
        float[][] prototypes = new float[CLASSES][(int) SAMPLE.size()];
        SplittableRandom r = new SplittableRandom(seed);
        for (float[] p : prototypes) for (int i = 0; i < p.length; i++) p[i] = (float) r.nextDouble();
        return new Split(make("synthetic-fashion-mnist-shape train", train, prototypes, seed + 1),
                make("synthetic-fashion-mnist-shape test", test, prototypes, seed + 2));
    }

    private static Dataset make(String name, int count, float[][] prototypes, long seed) {
        if (count < 1) throw new IllegalArgumentException(name + ": needs at least one sample, got " + count);
        int per = (int) SAMPLE.size();
        float[] x = new float[count * per];
        int[] y = new int[count];
        int chunks = Math.min(count, 64);
        IntStream.range(0, chunks).parallel().forEach(c -> {
            SplittableRandom r = new SplittableRandom(seed * 1_000_003 + c);
            for (int s = (int) ((long) count * c / chunks), end = (int) ((long) count * (c + 1) / chunks); s < end; s++) {
                int label = r.nextInt(CLASSES);
                y[s] = label;
                float[] p = prototypes[label];
                for (int i = 0; i < per; i++) x[s * per + i] = 0.5f * p[i] + 0.5f * (float) r.nextDouble();
            }
        });
        return new Dataset(name, SAMPLE, x, y, CLASSES);
    }
}
