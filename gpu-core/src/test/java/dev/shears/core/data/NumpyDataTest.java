package dev.shears.core.data;

import dev.shears.core.tensor.Shape;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

import static dev.shears.core.data.NpzFiles.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code --data} as NumPy arrays, on the bundled Fashion-MNIST split written as numpy would
 * write it ({@link NpzFiles}): it must load to the same bits as the IDX files it came from.
 */
class NumpyDataTest {
    @TempDir Path dir;
    static Split idx;
    static Idx.Array trainX, trainY, testX, testY;

    @BeforeAll
    static void readIdx() throws Exception {
        idx = DataSources.bundledFashionMnist();
        trainX = bundled("train-images-idx3-ubyte.gz");
        trainY = bundled("train-labels-idx1-ubyte.gz");
        testX = bundled("t10k-images-idx3-ubyte.gz");
        testY = bundled("t10k-labels-idx1-ubyte.gz");
    }

    /** The Fashion-MNIST split as Keras' load_data() gives it: x uint8 [N, 28, 28], y uint8 [N]. */
    static Map<String, byte[]> fashion(boolean channelAxis) {
        Map<String, byte[]> m = new LinkedHashMap<>();
        m.put("x_train", u1(images(trainX, channelAxis), trainX.data()));
        m.put("y_train", u1(new int[]{trainY.count()}, trainY.data()));
        m.put("x_test", u1(images(testX, channelAxis), testX.data()));
        m.put("y_test", u1(new int[]{testY.count()}, testY.data()));
        return m;
    }

    private static int[] images(Idx.Array a, boolean channelAxis) {
        int[] d = a.dims();
        return channelAxis ? new int[]{d[0], 1, d[1], d[2]} : d;
    }

    private static void assertSame(Dataset want, Dataset got, Shape sample) {
        assertEquals(sample, got.sampleShape());
        assertEquals(want.classes(), got.classes());
        assertArrayEquals(want.labels(), got.labels());
        assertEquals(want.features().length, got.features().length);
        for (int i = 0; i < want.features().length; i++)
            if (Float.floatToRawIntBits(want.features()[i]) != Float.floatToRawIntBits(got.features()[i]))
                fail("feature " + i + ": " + want.features()[i] + " from IDX, " + got.features()[i] + " from .npz");
    }

    @Test void storedAndDeflatedArchivesLoadToTheIdxBits() throws Exception {
        for (boolean deflate : new boolean[]{false, true}) {
            Path npz = dir.resolve(deflate ? "compressed.npz" : "plain.npz");
            npz(npz, deflate, fashion(true));
            Split s = DataSources.load(npz.toString());
            assertSame(idx.train(), s.train(), Shape.of(1, 28, 28));
            assertSame(idx.test(), s.test(), Shape.of(1, 28, 28));
            assertEquals(npz + " (test)", s.test().name());
            assertSame(idx.test(), DataSources.loadTest(npz.toString()), Shape.of(1, 28, 28));
        }
        // Keras' own shape, [N, 28, 28]: the same values, samples [28, 28]
        Path keras = dir.resolve("keras.npz");
        npz(keras, false, fashion(false));
        assertSame(idx.test(), DataSources.loadTest(keras.toString()), Shape.of(28, 28));
    }

    @Test void aFolderOfNpyFilesLoadsLikeTheArchive() throws Exception {
        for (var e : fashion(true).entrySet()) Files.write(dir.resolve(e.getKey() + ".npy"), e.getValue());
        Split s = DataSources.load(dir.toString());
        assertSame(idx.train(), s.train(), Shape.of(1, 28, 28));
        assertSame(idx.test(), DataSources.loadTest(dir.toString()), Shape.of(1, 28, 28));
        // eval reads only the test pair: a folder of just those is enough for it, not for training
        Files.delete(dir.resolve("x_train.npy"));
        assertSame(idx.test(), DataSources.loadTest(dir.toString()), Shape.of(1, 28, 28));
        DataException e = assertThrows(DataException.class, () -> DataSources.load(dir.toString()));
        assertTrue(e.getMessage().contains("IDX files lack train-images-idx3-ubyte[.gz]") && e.getMessage().contains(".npy files lack x_train.npy")
                && !e.getMessage().contains("y_test.npy"), e.getMessage());
    }

    @Test void float32AndFloat64FeaturesOneHotAndIntegerLabels() throws Exception {
        float[] x = {0.5f, -1.25f, 3e-8f, 7f, 1f / 3, -0f}; // 3 samples of [2]
        Map<String, byte[]> m = new LinkedHashMap<>();
        m.put("x_train", f4(new int[]{3, 2}, x));
        m.put("y_train", f4(new int[]{3, 4}, new float[]{0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 1})); // one-hot: 2, 0, 3
        m.put("x_test", f8(new int[]{2, 2}, new double[]{0.1, 1e300, -2.5, 4}));
        m.put("y_test", i8(new int[]{2, 1}, new int[]{1, 2}, '>')); // [N, 1] (CIFAR's load_data), big-endian int64
        Path npz = dir.resolve("f.npz");
        npz(npz, true, m);
        Split s = DataSources.load(npz.toString());
        assertArrayEquals(x, s.train().features());
        assertArrayEquals(new int[]{2, 0, 3}, s.train().labels());
        assertEquals(4, s.train().classes(), "one-hot width");
        assertEquals(4, s.test().classes(), "train and test share the class count");
        assertArrayEquals(new float[]{0.1f, Float.POSITIVE_INFINITY, -2.5f, 4f}, s.test().features());
        assertArrayEquals(new int[]{1, 2}, s.test().labels());
        assertEquals(Shape.of(2), s.test().sampleShape());
    }

    @Test void errorsNameTheArchiveTheArrayAndWhatToDo() throws Exception {
        Map<String, byte[]> m = fashion(false);
        m.remove("y_test");
        m.put("labels_test", u1(new int[]{1}, new byte[1]));
        Path npz = dir.resolve("missing.npz");
        npz(npz, false, m);
        DataException e = assertThrows(DataException.class, () -> DataSources.loadTest(npz.toString()));
        assertTrue(e.getMessage().startsWith(npz + " has no array 'y_test'; it holds [x_train, y_train, x_test, labels_test]"), e.getMessage());

        // a truncated entry: header promises more data than is there
        byte[] full = u1(new int[]{4, 3}, new byte[12]);
        Map<String, byte[]> cut = new LinkedHashMap<>(fashion(false));
        cut.put("x_test", Arrays.copyOf(full, full.length - 5));
        Path cutNpz = dir.resolve("cut.npz");
        npz(cutNpz, true, cut);
        e = assertThrows(DataException.class, () -> DataSources.loadTest(cutNpz.toString()));
        assertTrue(e.getMessage().contains(cutNpz + "[x_test.npy]: truncated: shape [4, 3] of uint8 needs 12 data bytes, the file has 7"), e.getMessage());

        // Fortran order, in a folder of .npy files
        Files.write(dir.resolve("x_test.npy"), npy("<f4", new int[]{2, 2}, new byte[16], true));
        Files.write(dir.resolve("y_test.npy"), u1(new int[]{2}, new byte[2]));
        e = assertThrows(DataException.class, () -> DataSources.loadTest(dir.toString()));
        assertTrue(e.getMessage().contains("x_test.npy: Fortran-ordered") && e.getMessage().contains("np.ascontiguousarray"), e.getMessage());

        // labels: negative, fractional, a row that is not one-hot, counts that differ
        String[][] cases = {
                {"neg", "label -1 of sample 1 is not a class index"},
                {"frac", "label 0.5 of sample 0 is not a class index"},
                {"twoHot", "row 1 of y [2, 3] is not one-hot (exactly one 1, the rest 0): [1.0, 1.0, 0.0]"},
                {"count", "holds 2 samples but", "holds 3 labels; x and y must hold the same samples in the same order, one label each"}};
        for (String[] c : cases) {
            Files.write(dir.resolve("x_test.npy"), f4(new int[]{2, 1}, new float[2]));
            byte[] y = switch (c[0]) {
                case "neg" -> i8(new int[]{2}, new int[]{0, -1}, '<');
                case "frac" -> f4(new int[]{2}, new float[]{0.5f, 1});
                case "twoHot" -> f4(new int[]{2, 3}, new float[]{0, 1, 0, 1, 1, 0});
                default -> u1(new int[]{3}, new byte[3]);
            };
            Files.write(dir.resolve("y_test.npy"), y);
            e = assertThrows(DataException.class, () -> DataSources.loadTest(dir.toString()), c[0]);
            assertTrue(e.getMessage().contains(c[1]) && e.getMessage().contains("y_test.npy"), c[0] + ": " + e.getMessage());
            if (c.length > 2) assertTrue(e.getMessage().contains(c[2]), c[0] + ": " + e.getMessage());
        }

        // not an archive at all; a file that is neither
        Path junk = Files.writeString(dir.resolve("junk.npz"), "not a zip");
        e = assertThrows(DataException.class, () -> DataSources.load(junk.toString()));
        assertTrue(e.getMessage().startsWith(junk + ": not a readable .npz (zip) archive"), e.getMessage());
        Path other = Files.writeString(dir.resolve("data.csv"), "1,2");
        e = assertThrows(DataException.class, () -> DataSources.load(other.toString()));
        assertTrue(e.getMessage().startsWith("--data " + other + ": is a file, not a .npz archive or a folder"), e.getMessage());
    }

    /**
     * Archives NumPy itself wrote (src/test/resources/npz/README.md): stored and deflated, uint8,
     * float32 in both byte orders, int64 and [N, 1] uint8 labels, one-hot float64 rows; samples
     * [6, 5, 3] channels-last, moved for a [3, 6, 5] model.
     */
    @Test void archivesWrittenByNumpyLoad() throws Exception {
        for (String name : new String[]{"numpy-savez.npz", "numpy-savez-compressed.npz"}) {
            Path file = Path.of(NumpyDataTest.class.getResource("/npz/" + name).toURI());
            Split s = DataSources.load(file.toString());
            assertEquals(Shape.of(6, 5, 3), s.train().sampleShape(), name);
            for (int i = 0; i < 4 * 90; i++) assertEquals((i % 251) / 255f, s.train().features()[i], name + " x_train " + i);
            assertArrayEquals(new int[]{0, 1, 2, 1}, s.train().labels(), name);
            for (int i = 0; i < 2 * 90; i++) assertEquals(i * 0.5f - 7, s.test().features()[i], name + " x_test " + i);
            assertArrayEquals(new int[]{2, 0}, s.test().labels(), name);
            assertEquals(3, s.test().classes(), name);
            // channels-last [6, 5, 3] for a [3, 6, 5] model: element (h, w, c) of sample 1 lands at (c, h, w)
            Dataset chw = SampleLayout.arrange(s.test(), Shape.of(3, 6, 5), new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
            for (int c = 0; c < 3; c++)
                for (int h = 0; h < 6; h++)
                    for (int w = 0; w < 5; w++)
                        assertEquals((90 + (h * 5 + w) * 3 + c) * 0.5f - 7, chw.features()[90 + c * 30 + h * 5 + w], name);
        }
    }

    @Test void unsupportedDtypesAreNamedWithTheConversion() throws Exception {
        Files.write(dir.resolve("x_test.npy"), npy("<c8", new int[]{1, 1}, new byte[8], false));
        Files.write(dir.resolve("y_test.npy"), u1(new int[]{1}, new byte[1]));
        DataException e = assertThrows(DataException.class, () -> DataSources.loadTest(dir.toString()));
        assertTrue(e.getMessage().contains("dtype '<c8' is not supported") && e.getMessage().contains("astype(np.float32)"), e.getMessage());
    }
}
