package dev.shears.core.data;

import dev.shears.core.tensor.Shape;
import dev.shears.core.util.HeapBudget;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.Locale;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * A data set as NumPy arrays: a {@code .npz} archive ({@code np.savez} or
 * {@code np.savez_compressed}: a zip whose entries {@code NAME.npy} are stored or deflated) or a
 * folder of {@code .npy} files, holding {@code x_train}, {@code y_train}, {@code x_test},
 * {@code y_test} (the names of Keras' {@code load_data()}).
 *
 * <p>x: {@code [N, ...]}, any per-sample shape (a 1-D x is one value a sample); uint8 is scaled
 * by 1/255 into [0, 1] (as IDX pixels are, to the same bits), float32 is used as it is, float16
 * and float64 are rounded to float32, other integer types and bool are used as their values.
 * y: class indices {@code [N]} or {@code [N, 1]} of any integer type (or floats holding whole
 * numbers), or one-hot rows {@code [N, C]}, turned into indices. Classes: the largest label + 1
 * (for one-hot, C), over train and test together.
 */
public final class NumpyData {
    private NumpyData() {}

    public static final String X_TRAIN = "x_train", Y_TRAIN = "y_train", X_TEST = "x_test", Y_TEST = "y_test";
    public static final List<String> KEYS = List.of(X_TRAIN, Y_TRAIN, X_TEST, Y_TEST);
    /** More classes than any labelled set has: a larger label is a mistake (regression targets, a corrupt file). */
    static final int MAX_CLASSES = 1 << 20;

    /** The {@code .npy} files of {@code keys} missing from {@code dir}, by file name. */
    static List<String> missing(Path dir, List<String> keys) {
        return keys.stream().map(k -> k + ".npy").filter(f -> !Files.isRegularFile(dir.resolve(f))).toList();
    }

    /** Train and test sets from a {@code .npz} archive; progress and conversions are said on {@code log}. */
    public static Split loadNpz(Path file, PrintStream log) {
        try (Archive a = new Archive(file)) {
            return split(a, file.toString(), log);
        }
    }

    /** Only the test set of a {@code .npz} archive ({@code x_test}, {@code y_test}). */
    public static Dataset loadNpzTest(Path file, PrintStream log) {
        try (Archive a = new Archive(file)) {
            return test(a, file.toString(), log);
        }
    }

    /** Train and test sets from a folder of {@code x_train.npy}, {@code y_train.npy}, {@code x_test.npy}, {@code y_test.npy}. */
    public static Split loadFolder(Path dir, PrintStream log) {
        return split(folder(dir), dir.toString(), log);
    }

    /** Only the test set of a folder of {@code .npy} files. */
    public static Dataset loadFolderTest(Path dir, PrintStream log) {
        return test(folder(dir), dir.toString(), log);
    }

    /** Where the arrays come from: an archive's entries or a folder's files. */
    private interface Source {
        Npy.Array array(String key);
    }

    private static Source folder(Path dir) {
        return key -> Npy.read(dir.resolve(key + ".npy"));
    }

    /** Only the test set: its labels decide the classes. */
    private static Dataset test(Source s, String name, PrintStream log) {
        Labels y = labels(s.array(Y_TEST));
        return dataset(s.array(X_TEST), y, y.classes, name + " (test)", log);
    }

    /** Labels first (small), then each x in turn, so that only one x's file bytes are held at a time beside the floats. */
    private static Split split(Source s, String name, PrintStream log) {
        Labels yTrain = labels(s.array(Y_TRAIN)), yTest = labels(s.array(Y_TEST));
        int classes = Math.max(yTrain.classes, yTest.classes);
        Dataset train = dataset(s.array(X_TRAIN), yTrain, classes, name + " (train)", log);
        Dataset test = dataset(s.array(X_TEST), yTest, classes, name + " (test)", log);
        if (!train.sampleShape().equals(test.sampleShape()))
            throw new DataException(name + ": x_train samples have shape " + train.sampleShape() + " but x_test samples " + test.sampleShape()
                    + "; both must have the same per-sample shape");
        return new Split(train, test);
    }

    /** Class indices and how many classes they imply. */
    private record Labels(int[] values, int classes, String source, String description) {}

    private static Labels labels(Npy.Array y) {
        int[] d = y.shape().dims();
        String src = y.source();
        if (d.length == 1 || (d.length == 2 && d[1] == 1)) {
            int n = d[0];
            int[] out = new int[n];
            int max = -1;
            for (int i = 0; i < n; i++) {
                double v = y.value(i);
                if (!(v >= 0) || v != Math.rint(v))
                    throw new DataException(src + ": label " + (v == Math.rint(v) ? String.valueOf((long) v) : String.valueOf(v)) + " of sample " + i + " is not a class index (a whole number >= 0); "
                            + "y must hold class indices [N] or one-hot rows [N, C]");
                if (v >= MAX_CLASSES)
                    throw new DataException(src + ": label " + (long) v + " of sample " + i + " is above " + (MAX_CLASSES - 1)
                            + "; are these class labels?");
                out[i] = (int) v;
                max = Math.max(max, out[i]);
            }
            return new Labels(out, max + 1, src, y.dtype() + " class indices");
        }
        if (d.length == 2) {
            int n = d[0], c = d[1];
            if (c > MAX_CLASSES) throw new DataException(src + ": one-hot rows of " + c + " columns are more than " + MAX_CLASSES + " classes");
            int[] out = new int[n];
            for (int i = 0; i < n; i++) {
                int hot = -1;
                for (int j = 0; j < c; j++) {
                    double v = y.value(i * c + j);
                    if (v == 1 && hot < 0) hot = j;
                    else if (v != 0) { hot = -2; break; }
                }
                if (hot < 0)
                    throw new DataException(src + ": row " + i + " of y " + y.shape() + " is not one-hot (exactly one 1, the rest 0): "
                            + row(y, i, c) + "; give class indices [N] instead (e.g. y.argmax(1))");
                out[i] = hot;
            }
            return new Labels(out, c, src, y.dtype() + " one-hot rows of " + c + " classes, as indices");
        }
        throw new DataException(src + ": y has shape " + y.shape() + "; give class indices [N] (or [N, 1]) or one-hot rows [N, C]");
    }

    private static String row(Npy.Array y, int i, int c) {
        StringBuilder s = new StringBuilder("[");
        for (int j = 0; j < Math.min(c, 12); j++) s.append(j > 0 ? ", " : "").append(y.value(i * c + j));
        return s.append(c > 12 ? ", ...]" : "]").toString();
    }

    private static Dataset dataset(Npy.Array x, Labels y, int classes, String name, PrintStream log) {
        int[] d = x.shape().dims();
        if (d.length == 0) throw new DataException(x.source() + ": x is a scalar; give samples as [N, ...]");
        if (d[0] != y.values.length)
            throw new DataException(x.source() + " holds " + d[0] + " samples but " + y.source + " holds " + y.values.length
                    + " labels; x and y must hold the same samples in the same order, one label each (the same first dimension)");
        Shape sample = d.length == 1 ? Shape.of(1) : Shape.of(java.util.Arrays.copyOfRange(d, 1, d.length));
        float[] f = x.toFloats();
        String how;
        switch (x.kind()) {
            case "u1" -> {
                // the same division as the IDX reader, so the same images give the same bits
                for (int i = 0; i < f.length; i++) f[i] = f[i] / 255f;
                how = "uint8 scaled by 1/255 into [0, 1]";
            }
            case "f4" -> how = "float32 as it is";
            case "f2", "f8" -> how = x.dtype() + " rounded to float32";
            default -> how = x.dtype() + " used as its values (only uint8 is scaled by 1/255)";
        }
        log.printf(Locale.ROOT, "data: %s: x %s, %s, samples %s; y %s%n", name, x.shape(), how, sample, y.description);
        return new Dataset(name, sample, f, y.values, classes);
    }

    /** A {@code .npz} archive open for reading its {@code NAME.npy} entries. */
    private static final class Archive implements Source, AutoCloseable {
        private final Path file;
        private final ZipFile zip;

        Archive(Path file) {
            this.file = file;
            try {
                this.zip = new ZipFile(file.toFile());
            } catch (ZipException e) {
                throw new DataException(file + ": not a readable .npz (zip) archive (" + e.getMessage() + "); write it with numpy.savez", e);
            } catch (IOException e) {
                throw new DataException(file + ": cannot read (" + e + ")", e);
            }
        }

        @Override public Npy.Array array(String key) {
            ZipEntry e = zip.getEntry(key + ".npy");
            if (e == null) e = zip.getEntry(key); // an archive written by hand, without numpy's .npy suffix
            if (e == null)
                throw new DataException(file + " has no array '" + key + "'; it holds " + keys() + ". A data set archive holds "
                        + String.join(", ", KEYS) + " (np.savez(FILE, x_train=..., y_train=..., x_test=..., y_test=...))");
            String source = file + "[" + e.getName() + "]";
            long size = e.getSize();
            if (size < 0 || size > Integer.MAX_VALUE - 8)
                throw new DataException(source + ": the entry's size " + size + " is unknown or above one Java array (2 GB); "
                        + "split the data set, or give a folder of .npy files");
            HeapBudget.require(size, source + " (" + size + " bytes)", DataException::new);
            try (InputStream in = zip.getInputStream(e)) {
                byte[] b = in.readNBytes((int) size);
                if (b.length < size)
                    throw new DataException(source + ": truncated: the archive says " + size + " bytes, " + b.length + " are there");
                return Npy.parse(b, source);
            } catch (ZipException | java.io.EOFException ex) {
                throw new DataException(source + ": damaged archive entry (" + ex.getMessage() + "); write the archive again", ex);
            } catch (IOException ex) {
                throw new DataException(source + ": cannot read (" + ex + ")", ex);
            }
        }

        private List<String> keys() {
            List<String> names = new ArrayList<>();
            for (Enumeration<? extends ZipEntry> en = zip.entries(); en.hasMoreElements(); ) {
                String n = en.nextElement().getName();
                names.add(n.endsWith(".npy") ? n.substring(0, n.length() - 4) : n);
            }
            return names;
        }

        @Override public void close() {
            try {
                zip.close();
            } catch (IOException ignored) {
                // read-only: nothing was written that closing could lose
            }
        }
    }
}
