package dev.shears.core.data;

import dev.shears.core.tensor.Shape;

import java.util.List;

/**
 * A labelled data set in host memory: {@code features} holds {@code count} samples of
 * {@code sampleShape} each, row-major, back to back; {@code labels[i]} is sample i's class.
 *
 * @param name        where it came from, for logs and reports
 * @param sampleShape per-sample shape, e.g. [1, 28, 28] for Fashion-MNIST images (NCHW)
 * @param features    count * sampleShape.size() floats
 * @param labels      count class indices in [0, classes)
 * @param images      whether the samples are images [C, H, W] (C 1 or 3, values in [0, 1]) decoded from image files
 *                    ({@link ImageFolder}), which {@link SampleLayout#arrange} may convert to the model's channels and
 *                    resize to its height and width ({@link ImageFit}); false for arrays (IDX, NumPy), used as they are
 * @param classNames  the name of each class index, {@code classNames.get(label)}: an image folder's sorted class
 *                    folder names, the built-in Fashion-MNIST's ({@link DataSources#FASHION_MNIST_CLASSES}); empty
 *                    when the data does not name its classes (IDX and NumPy files given by path)
 */
public record Dataset(String name, Shape sampleShape, float[] features, int[] labels, int classes, boolean images,
                      List<String> classNames) {

    /** A data set whose classes have no names. */
    public Dataset(String name, Shape sampleShape, float[] features, int[] labels, int classes, boolean images) {
        this(name, sampleShape, features, labels, classes, images, List.of());
    }

    /** Samples that are arrays (IDX, NumPy, a model's inputs), not decoded image files. */
    public Dataset(String name, Shape sampleShape, float[] features, int[] labels, int classes) {
        this(name, sampleShape, features, labels, classes, false);
    }

    public Dataset {
        classNames = classNames == null ? List.of() : List.copyOf(classNames);
        if (!classNames.isEmpty() && classNames.size() != classes)
            throw new IllegalArgumentException(name + ": " + classNames.size() + " class names for " + classes + " classes");
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
        return new Dataset(name, sampleShape, java.util.Arrays.copyOf(features, n * per), java.util.Arrays.copyOf(labels, n), classes, images, classNames);
    }

    /** The same samples viewed with another per-sample shape of the same size: arrays from then on, no longer images [C, H, W]. */
    public Dataset withSampleShape(Shape s) {
        return new Dataset(name, s, features, labels, classes, false, classNames);
    }

    /** The same samples with other labels: {@code labels} in [0, {@code classes}), named by {@code classNames} (or empty). */
    public Dataset withLabels(int[] labels, int classes, List<String> classNames) {
        return new Dataset(name, sampleShape, features, labels, classes, images, classNames);
    }
}
