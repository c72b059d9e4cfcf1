package dev.shears.core.data;

import dev.shears.core.tensor.Shape;

/**
 * A labelled data set in host memory: {@code features} holds {@code count} samples of
 * {@code sampleShape} each, row-major, back to back; {@code labels[i]} is sample i's class.
 *
 * @param name        where it came from, for logs and reports
 * @param sampleShape per-sample shape, e.g. [1, 28, 28] for Fashion-MNIST images (NCHW)
 * @param features    count * sampleShape.size() floats
 * @param labels      count class indices in [0, classes)
 */
public record Dataset(String name, Shape sampleShape, float[] features, int[] labels, int classes) {

    public Dataset {
        long per = sampleShape.size();
        if (features.length != per * labels.length)
            throw new IllegalArgumentException(name + ": " + features.length + " feature values for " + labels.length + " samples of " + sampleShape);
        for (int i = 0; i < labels.length; i++)
            if (labels[i] < 0 || labels[i] >= classes)
                throw new IllegalArgumentException(name + ": label " + labels[i] + " of sample " + i + " outside [0, " + classes + ")");
    }

    public int count() { return labels.length; }

    public int sampleSize() { return (int) sampleShape.size(); }

    /** The first {@code n} samples (a copy). */
    public Dataset head(int n) {
        n = Math.min(n, count());
        int per = sampleSize();
        return new Dataset(name, sampleShape, java.util.Arrays.copyOf(features, n * per), java.util.Arrays.copyOf(labels, n), classes);
    }

    /** The same samples viewed with another per-sample shape of the same size. */
    public Dataset withSampleShape(Shape s) {
        return new Dataset(name, s, features, labels, classes);
    }
}
