package dev.shears.core.data;

import dev.shears.core.tensor.Shape;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Resolves the {@code --data} argument: {@code fashion-mnist} (the installed full set when
 * {@code /usr/share/datasets/fashion-mnist} exists, else the small split bundled with Shears); a
 * folder of IDX files {@code train-images-idx3-ubyte[.gz]}, {@code train-labels-idx1-ubyte[.gz]},
 * {@code t10k-images-idx3-ubyte[.gz]}, {@code t10k-labels-idx1-ubyte[.gz]}, whose pixels become
 * floats in [0, 1] (byte / 255) and images the per-sample shape [1, H, W]; or NumPy arrays
 * {@code x_train}, {@code y_train}, {@code x_test}, {@code y_test}, as a {@code .npz} archive or a
 * folder of those four {@code .npy} files ({@link NumpyData}); or a folder of image files, one
 * subfolder per class under {@code train/} and {@code test/} ({@link ImageFolder}). A folder is read
 * by the files it holds; {@code eval} needs only the test pair (split).
 */
public final class DataSources {
    private DataSources() {}

    public static final String FASHION_MNIST = "fashion-mnist";
    /**
     * Fashion-MNIST's class names in label order 0-9, as Zalando's README for the data set gives
     * them. The built-in set (bundled or installed) carries them, so a model trained on it names its
     * outputs ("Shirt", not "class 6") in eval, the report and predict. "T-shirt/top" cannot be a
     * folder name: an image folder meets these names through {@code ClassNames}' loose match in the
     * cli (a folder "T-shirt_top", "T-shirt" or "t-shirt top" is this class; folders "0".."9" are the indices).
     */
    public static final List<String> FASHION_MNIST_CLASSES = List.of(
            "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");
    /** Where Debian's dataset-fashion-mnist package installs the full set. */
    public static final Path SYSTEM_FASHION_MNIST = Path.of("/usr/share/datasets/fashion-mnist");
    private static final String BUNDLED = "/dev/shears/core/data/fashion-mnist-small/";
    private static final String ACCEPTED = "give '" + FASHION_MNIST + "', a .npz archive of x_train, y_train, x_test, y_test,"
            + " a folder of IDX files (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz],"
            + " t10k-labels-idx1-ubyte[.gz]) or of .npy files (x_train.npy, y_train.npy, x_test.npy, y_test.npy), or " + ImageFolder.LAYOUT;

    /** Loads train and test sets for a {@code --data} value. */
    public static Split load(String spec) {
        return load(spec, ImageFolder.DecodeProgress.NONE);
    }

    /** Loads train and test sets for a {@code --data} value; an image folder's decoding is told to {@code progress}. */
    public static Split load(String spec, ImageFolder.DecodeProgress progress) {
        if (FASHION_MNIST.equals(spec)) {
            if (Files.isDirectory(SYSTEM_FASHION_MNIST)) {
                Split s = loadFolder(SYSTEM_FASHION_MNIST, "fashion-mnist");
                return new Split(fashionNamed(s.train()), fashionNamed(s.test()));
            }
            return bundledFashionMnist();
        }
        Path p = Path.of(spec);
        check(spec);
        if (Files.isRegularFile(p)) return NumpyData.loadNpz(p, System.err);
        return switch (folderKind(p, false)) {
            case IDX -> loadFolder(p, p.toString());
            case NPY -> NumpyData.loadFolder(p, System.err);
            case IMAGES -> ImageFolder.load(p, System.err, progress);
        };
    }

    /** Only the test split of a {@code --data} value (what {@code eval} reads). */
    public static Dataset loadTest(String spec) {
        return loadTest(spec, ImageFolder.DecodeProgress.NONE);
    }

    /** Only the test split of a {@code --data} value; an image folder's decoding is told to {@code progress}. */
    public static Dataset loadTest(String spec, ImageFolder.DecodeProgress progress) {
        if (FASHION_MNIST.equals(spec))
            return Files.isDirectory(SYSTEM_FASHION_MNIST) ? fashionNamed(readPair(SYSTEM_FASHION_MNIST, "t10k", "fashion-mnist (test)"))
                    : bundledFashionMnist().test();
        Path dir = Path.of(spec);
        check(spec);
        if (Files.isRegularFile(dir)) return NumpyData.loadNpzTest(dir, System.err);
        return switch (folderKind(dir, true)) {
            case IDX -> readPair(dir, "t10k", dir + " (test)");
            case NPY -> NumpyData.loadFolderTest(dir, System.err);
            case IMAGES -> ImageFolder.loadTest(dir, System.err, progress);
        };
    }

    /**
     * Checks a {@code --data} value without reading it (the name {@value #FASHION_MNIST}, a
     * {@code .npz} file or a folder), so that a command can refuse a mistyped path before slower
     * work such as opening CUDA; {@link #load} and {@link #loadTest} check it again, and read it.
     */
    public static void check(String spec) {
        if (FASHION_MNIST.equals(spec)) return;
        Path p = Path.of(spec);
        if (Files.isDirectory(p)) return;
        if (Files.isRegularFile(p)) {
            if (spec.toLowerCase(Locale.ROOT).endsWith(".npz")) return;
            throw new DataException("--data " + spec + ": is a file, not a .npz archive or a folder; " + ACCEPTED);
        }
        throw new DataException("--data " + spec + ": no such " + (spec.toLowerCase(Locale.ROOT).endsWith(".npz") ? "file" : "folder") + "; " + ACCEPTED);
    }

    /** Which data set a folder holds. */
    private enum Kind { IDX, NPY, IMAGES }

    /**
     * The kind of the complete set in {@code dir} (the test pair only, where {@code testOnly}):
     * IDX when both file sets are complete (said on stderr), else the complete one; else image
     * split folders ({@link ImageFolder#looksLike}: the files a folder holds come first, so a
     * folder of IDX or .npy files is read as them whatever subfolders it has); none is an error
     * listing every layout and what the files lack.
     */
    private static Kind folderKind(Path dir, boolean testOnly) {
        List<String> prefixes = testOnly ? List.of("t10k") : List.of("train", "t10k");
        List<String> idxMissing = new ArrayList<>();
        for (String prefix : prefixes)
            for (String base : List.of(prefix + "-images-idx3-ubyte", prefix + "-labels-idx1-ubyte"))
                if (!Files.isRegularFile(dir.resolve(base)) && !Files.isRegularFile(dir.resolve(base + ".gz"))) idxMissing.add(base + "[.gz]");
        List<String> npyMissing = NumpyData.missing(dir, testOnly ? List.of(NumpyData.X_TEST, NumpyData.Y_TEST) : NumpyData.KEYS);
        if (idxMissing.isEmpty()) {
            if (npyMissing.isEmpty()) System.err.println("data: " + dir + " holds both IDX and .npy data sets; reading the IDX files");
            return Kind.IDX;
        }
        if (npyMissing.isEmpty()) return Kind.NPY;
        if (ImageFolder.looksLike(dir)) return Kind.IMAGES;
        throw new DataException("--data " + dir + ": the folder holds no data set" + (testOnly ? " (eval reads the test split)" : "")
                + ": IDX files lack " + String.join(", ", idxMissing) + "; .npy files lack " + String.join(", ", npyMissing)
                + "; nor is it " + ImageFolder.LAYOUT + ImageFolder.hint(dir));
    }

    /** The small Fashion-MNIST split that ships inside Shears (12,000 train, 2,000 test), its classes named ({@link #FASHION_MNIST_CLASSES}). */
    public static Split bundledFashionMnist() {
        return new Split(fashionNamed(readBundled("train", "fashion-mnist (bundled 12k train)")),
                fashionNamed(readBundled("t10k", "fashion-mnist (bundled 2k test)")));
    }

    /**
     * A built-in Fashion-MNIST set with its class names. Only the built-in set is named so: a folder
     * of IDX files given by path may hold any 10 classes (MNIST's digits use the same format).
     */
    private static Dataset fashionNamed(Dataset d) {
        if (d.classes() != FASHION_MNIST_CLASSES.size())
            throw new DataException(d.name() + ": Fashion-MNIST has " + FASHION_MNIST_CLASSES.size() + " classes but its labels go up to "
                    + (d.classes() - 1) + "; the files are not Fashion-MNIST's: reinstall them (apt-get install --reinstall dataset-fashion-mnist)");
        return d.withLabels(d.labels(), d.classes(), FASHION_MNIST_CLASSES);
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
