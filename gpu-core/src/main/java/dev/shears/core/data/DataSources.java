package dev.shears.core.data;

import dev.shears.core.tensor.Shape;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Resolves the {@code --data} argument: {@code fashion-mnist} (the installed full set when
 * {@code /usr/share/datasets/fashion-mnist} exists, else the small split bundled with Shears), or
 * a folder of IDX files {@code train-images-idx3-ubyte[.gz]}, {@code train-labels-idx1-ubyte[.gz]},
 * {@code t10k-images-idx3-ubyte[.gz]}, {@code t10k-labels-idx1-ubyte[.gz]}. Pixels become floats
 * in [0, 1] (byte / 255); images get the per-sample shape [1, H, W].
 */
public final class DataSources {
    private DataSources() {}

    public static final String FASHION_MNIST = "fashion-mnist";
    /** Where Debian's dataset-fashion-mnist package installs the full set. */
    public static final Path SYSTEM_FASHION_MNIST = Path.of("/usr/share/datasets/fashion-mnist");
    private static final String BUNDLED = "/dev/shears/core/data/fashion-mnist-small/";

    /** Loads train and test sets for a {@code --data} value. */
    public static Split load(String spec) {
        if (FASHION_MNIST.equals(spec)) {
            if (Files.isDirectory(SYSTEM_FASHION_MNIST)) return loadFolder(SYSTEM_FASHION_MNIST, "fashion-mnist");
            return bundledFashionMnist();
        }
        Path dir = Path.of(spec);
        requireFolder(spec, dir);
        return loadFolder(dir, dir.toString());
    }

    /** Only the test split of a {@code --data} value (what {@code eval} reads). */
    public static Dataset loadTest(String spec) {
        if (FASHION_MNIST.equals(spec) && !Files.isDirectory(SYSTEM_FASHION_MNIST)) return bundledFashionMnist().test();
        Path dir = FASHION_MNIST.equals(spec) ? SYSTEM_FASHION_MNIST : Path.of(spec);
        requireFolder(spec, dir);
        return readPair(dir, "t10k", dir + " (test)");
    }

    /**
     * Checks a {@code --data} value without reading it (the name {@value #FASHION_MNIST} or a
     * folder), so that a command can refuse a mistyped path before slower work such as opening
     * CUDA; {@link #load} and {@link #loadTest} check it again, and read it.
     */
    public static void check(String spec) {
        if (!FASHION_MNIST.equals(spec)) requireFolder(spec, Path.of(spec));
    }

    /** A {@code --data} that is not a folder: says whether it is missing or a file, and what is accepted. */
    private static void requireFolder(String spec, Path dir) {
        if (Files.isDirectory(dir)) return;
        String what = Files.exists(dir) ? "is a file, not a folder" : "no such folder";
        throw new DataException("--data " + spec + ": " + what + "; give '" + FASHION_MNIST + "' or a folder of IDX files"
                + " (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz])");
    }

    /** The small Fashion-MNIST split that ships inside Shears (12,000 train, 2,000 test). */
    public static Split bundledFashionMnist() {
        return new Split(readBundled("train", "fashion-mnist (bundled 12k train)"),
                readBundled("t10k", "fashion-mnist (bundled 2k test)"));
    }

    public static Split loadFolder(Path dir, String name) {
        return new Split(readPair(dir, "train", name + " (train)"), readPair(dir, "t10k", name + " (test)"));
    }

    private static Dataset readPair(Path dir, String prefix, String name) {
        Path images = find(dir, prefix + "-images-idx3-ubyte");
        Path labels = find(dir, prefix + "-labels-idx1-ubyte");
        try (InputStream ii = Files.newInputStream(images); InputStream li = Files.newInputStream(labels)) {
            return toDataset(Idx.read(ii, images.toString(), 3), Idx.read(li, labels.toString(), 1), name, images, labels);
        } catch (IOException e) {
            throw new DataException("cannot read " + images + " / " + labels + ": " + e.getMessage(), e);
        }
    }

    private static Dataset readBundled(String prefix, String name) {
        String img = BUNDLED + prefix + "-images-idx3-ubyte.gz", lab = BUNDLED + prefix + "-labels-idx1-ubyte.gz";
        try (InputStream ii = DataSources.class.getResourceAsStream(img); InputStream li = DataSources.class.getResourceAsStream(lab)) {
            if (ii == null || li == null) throw new DataException("the bundled Fashion-MNIST split is missing from the classpath (" + img + "); rebuild Shears");
            return toDataset(Idx.read(ii, img, 3), Idx.read(li, lab, 1), name, Path.of(img), Path.of(lab));
        } catch (IOException e) {
            throw new DataException("cannot read the bundled Fashion-MNIST split: " + e.getMessage(), e);
        }
    }

    private static Path find(Path dir, String base) {
        Path raw = dir.resolve(base), gz = dir.resolve(base + ".gz");
        if (Files.isRegularFile(raw)) return raw;
        if (Files.isRegularFile(gz)) return gz;
        throw new DataException("missing data file: neither " + raw + " nor " + gz + " exists");
    }

    private static Dataset toDataset(Idx.Array images, Idx.Array labels, String name, Path imageFile, Path labelFile) {
        if (images.count() != labels.count())
            throw new DataException(imageFile + " holds " + images.count() + " images but " + labelFile + " holds " + labels.count() + " labels");
        int n = images.count(), per = images.itemSize();
        float[] x = new float[n * per];
        byte[] px = images.data();
        for (int i = 0; i < x.length; i++) x[i] = (px[i] & 0xff) / 255f;
        int[] y = new int[n];
        int classes = 0;
        for (int i = 0; i < n; i++) {
            y[i] = labels.data()[i] & 0xff;
            classes = Math.max(classes, y[i] + 1);
        }
        classes = Math.max(classes, 10);
        return new Dataset(name, Shape.of(1, images.dims()[1], images.dims()[2]), x, y, classes);
    }
}
