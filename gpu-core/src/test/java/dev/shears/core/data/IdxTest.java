package dev.shears.core.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.*;

class IdxTest {

    @Test
    void bundledFashionMnistIsRealAndScaled() {
        Split s = DataSources.bundledFashionMnist();
        assertEquals(12000, s.train().count());
        assertEquals(2000, s.test().count());
        assertEquals(784, s.train().sampleSize());
        assertEquals(10, s.train().classes());
        // Fashion-MNIST's first training label is 9 (ankle boot) and its first test label 9 too.
        assertEquals(9, s.train().labels()[0]);
        assertEquals(9, s.test().labels()[0]);
        float min = 1, max = 0;
        for (float v : s.train().features()) { min = Math.min(min, v); max = Math.max(max, v); }
        assertEquals(0f, min);
        assertEquals(1f, max);
        int[] perClass = new int[10];
        for (int y : s.train().labels()) perClass[y]++;
        for (int c : perClass) assertTrue(c > 1000 && c < 1400, "classes roughly balanced: " + Arrays.toString(perClass));
    }

    /** The built-in set names its classes in label order (Zalando's README), so label 9 is "Ankle boot"; a path to IDX files names none. */
    @Test
    void theBuiltInFashionMnistNamesItsClasses(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.util.List<String> names = java.util.List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");
        Split s = DataSources.bundledFashionMnist();
        assertEquals(names, s.train().classNames());
        assertEquals(names, s.test().classNames());
        assertEquals("Ankle boot", s.test().classNames().get(s.test().labels()[0]));
        assertEquals(names, DataSources.loadTest(DataSources.FASHION_MNIST).classNames());
        assertEquals(names, DataSources.load(DataSources.FASHION_MNIST).train().classNames());
        assertEquals(names, s.test().head(5).classNames(), "a slice keeps them");
        // the same files given as a folder of IDX files may be any 10 classes (MNIST's digits use the format): no names
        for (String f : new String[] {"t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"})
            try (var in = DataSources.class.getResourceAsStream("/dev/shears/core/data/fashion-mnist-small/" + f)) {
                java.nio.file.Files.copy(in, dir.resolve(f));
            }
        assertTrue(DataSources.loadTest(dir.toString()).classNames().isEmpty());
    }

    @Test
    void wrongMagicIsNamed() {
        byte[] bad = {0x50, 0x4b, 3, 4, 0, 0, 0, 0};
        var e = assertThrows(DataException.class, () -> Idx.read(new ByteArrayInputStream(bad), "x.idx", 3));
        assertTrue(e.getMessage().contains("x.idx") && e.getMessage().contains("not an IDX file"), e.getMessage());
    }

    /**
     * Found by IdxCorruptionTest: 12 x 2^30 x 2^30 wrapped the unchecked long product past the size
     * check, and the reader returned 12 items and no bytes (Dataset then threw a bare
     * IllegalArgumentException). Dimensions whose product wraps, and items larger than an array
     * even when there are none, are refused by name.
     */
    @Test
    void dimensionsWhoseProductWrapsAreRefused() {
        for (int[] dims : new int[][]{{12, 1 << 30, 1 << 30}, {16, 1 << 30, 1 << 30}, {0, 1 << 16, 1 << 16}}) {
            byte[] b = Idx.encode(dims, new byte[8]);
            var e = assertThrows(DataException.class, () -> Idx.read(new ByteArrayInputStream(b), "x.idx", 3), Arrays.toString(dims));
            assertTrue(e.getMessage().contains("x.idx") && e.getMessage().contains("corrupt"), e.getMessage());
        }
    }

    @Test
    void truncatedRawFileIsNamed() {
        byte[] ok = Idx.encode(new int[]{2, 2, 2}, new byte[8]);
        byte[] cut = Arrays.copyOf(ok, ok.length - 3);
        var e = assertThrows(DataException.class, () -> Idx.read(new ByteArrayInputStream(cut), "cut.idx", 3));
        assertTrue(e.getMessage().contains("cut.idx") && e.getMessage().contains("truncated"), e.getMessage());
        assertTrue(e.getMessage().contains("8 bytes, found 5"), e.getMessage());
    }

    @Test
    void truncatedGzipIsNamed() throws IOException {
        byte[] ok = gzip(Idx.encode(new int[]{100, 28, 28}, new byte[100 * 784]));
        byte[] cut = Arrays.copyOf(ok, ok.length / 2);
        var e = assertThrows(DataException.class, () -> Idx.read(new ByteArrayInputStream(cut), "cut.gz", 3));
        assertTrue(e.getMessage().contains("cut.gz"), e.getMessage());
    }

    @Test
    void swappedFilesAreCaught() {
        byte[] labels = Idx.encode(new int[]{4}, new byte[]{1, 2, 3, 4});
        var e = assertThrows(DataException.class, () -> Idx.read(new ByteArrayInputStream(labels), "labels", 3));
        assertTrue(e.getMessage().contains("swapped"), e.getMessage());
    }

    @Test
    void folderRoundTripAndMissingFile(@TempDir Path dir) throws IOException {
        byte[] px = new byte[3 * 4];
        for (int i = 0; i < px.length; i++) px[i] = (byte) (i * 20);
        for (String p : new String[]{"train", "t10k"}) {
            Files.write(dir.resolve(p + "-images-idx3-ubyte"), Idx.encode(new int[]{3, 2, 2}, px));
            Files.write(dir.resolve(p + "-labels-idx1-ubyte.gz"), gzip(Idx.encode(new int[]{3}, new byte[]{0, 1, 2})));
        }
        Split s = DataSources.load(dir.toString());
        assertEquals(3, s.train().count());
        assertArrayEquals(new int[]{0, 1, 2}, s.test().labels());
        assertEquals(220 / 255f, s.train().features()[11], 1e-7);
        Files.delete(dir.resolve("t10k-labels-idx1-ubyte.gz"));
        var e = assertThrows(DataException.class, () -> DataSources.load(dir.toString()));
        assertTrue(e.getMessage().contains("t10k-labels-idx1-ubyte"), e.getMessage());
    }

    @Test
    void mismatchedCountsAreCaught(@TempDir Path dir) throws IOException {
        for (String p : new String[]{"train", "t10k"}) {
            Files.write(dir.resolve(p + "-images-idx3-ubyte"), Idx.encode(new int[]{3, 1, 1}, new byte[3]));
            Files.write(dir.resolve(p + "-labels-idx1-ubyte"), Idx.encode(new int[]{2}, new byte[2]));
        }
        var e = assertThrows(DataException.class, () -> DataSources.load(dir.toString()));
        assertTrue(e.getMessage().contains("3 images") && e.getMessage().contains("2 labels"), e.getMessage());
    }

    private static byte[] gzip(byte[] b) throws IOException {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        try (GZIPOutputStream g = new GZIPOutputStream(o)) { g.write(b); }
        return o.toByteArray();
    }
}
