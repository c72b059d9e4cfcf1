package dev.shears.core.data;

import dev.shears.core.tensor.Shape;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Image-folder data sets ({@link ImageFolder}, {@link ImageFit}) on real images: slices of the
 * bundled Fashion-MNIST split written as PNG (and JPEG) files into class folders, read back and
 * compared with what the IDX reader gives for the same images.
 */
class ImageFolderTest {
    static final String[] ITEMS = {"T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};
    static Dataset idxTrain, idxTest;

    @BeforeAll
    static void bundled() {
        Split s = DataSources.bundledFashionMnist();
        idxTrain = s.train().head(200);
        idxTest = s.test().head(300);
    }

    /** Sample i of d as an 8-bit gray image (the IDX bytes: the floats times 255, exact for v / 255f). */
    static BufferedImage gray(Dataset d, int i) {
        BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < 28; y++)
            for (int x = 0; x < 28; x++) img.getRaster().setSample(x, y, 0, Math.round(d.features()[i * 784 + y * 28 + x] * 255));
        return img;
    }

    /** Writes d's images as SPLIT/CLASS/NNNNN.png, CLASS from {@code names} by label; the file names keep the samples' order within a class. */
    static void writeSplit(Path split, Dataset d, String[] names, String format) throws Exception {
        for (int i = 0; i < d.count(); i++) {
            Path dir = Files.createDirectories(split.resolve(names[d.labels()[i]]));
            Path f = dir.resolve(String.format("%05d.%s", i, format.equals("jpeg") ? "jpg" : format));
            if (format.equals("jpeg")) writeJpeg(gray(d, i), f, 0.95f);
            else assertTrue(ImageIO.write(gray(d, i), format, f.toFile()), "no " + format + " writer");
        }
    }

    static void writeJpeg(BufferedImage img, Path f, float quality) throws Exception {
        ImageWriter w = ImageIO.getImageWritersByFormatName("jpeg").next();
        ImageWriteParam p = w.getDefaultWriteParam();
        p.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
        p.setCompressionQuality(quality);
        try (ImageOutputStream out = ImageIO.createImageOutputStream(f.toFile())) {
            w.setOutput(out);
            w.write(null, new IIOImage(img, null, null), p);
        } finally {
            w.dispose();
        }
    }

    /** The samples of d in the order an image folder lists them: by class index (of {@code names} sorted), then by sample index. */
    static Dataset folderOrder(Dataset d, String[] names) {
        List<String> sorted = new ArrayList<>(List.of(names));
        sorted.sort(ImageFolder.CODE_POINT_ORDER);
        Integer[] order = new Integer[d.count()];
        for (int i = 0; i < order.length; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> Integer.compare(sorted.indexOf(names[d.labels()[a]]) * 100_000 + a, sorted.indexOf(names[d.labels()[b]]) * 100_000 + b));
        float[] x = new float[d.features().length];
        int[] y = new int[d.count()];
        for (int k = 0; k < order.length; k++) {
            System.arraycopy(d.features(), order[k] * 784, x, k * 784, 784);
            y[k] = sorted.indexOf(names[d.labels()[order[k]]]);
        }
        return new Dataset(d.name(), d.sampleShape(), x, y, 10);
    }

    static final String[] DIGITS = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};

    record Loaded<T>(T value, String log) {}

    static Loaded<Split> load(Path dir) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        Split s = ImageFolder.load(dir, new PrintStream(b, true, StandardCharsets.UTF_8), ImageFolder.DecodeProgress.NONE);
        return new Loaded<>(s, b.toString(StandardCharsets.UTF_8));
    }

    static Loaded<Dataset> loadTest(Path dir) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        Dataset s = ImageFolder.loadTest(dir, new PrintStream(b, true, StandardCharsets.UTF_8), ImageFolder.DecodeProgress.NONE);
        return new Loaded<>(s, b.toString(StandardCharsets.UTF_8));
    }

    @Test void pngFoldersGiveTheIdxFloatsAndLabelsExactly(@TempDir Path dir) throws Exception {
        writeSplit(dir.resolve("train"), idxTrain, DIGITS, "png");
        writeSplit(dir.resolve("test"), idxTest, DIGITS, "png");
        Split s = DataSources.load(dir.toString());
        for (Dataset[] pair : new Dataset[][]{{s.train(), idxTrain}, {s.test(), idxTest}}) {
            Dataset got = pair[0], want = folderOrder(pair[1], DIGITS);
            assertEquals(Shape.of(1, 28, 28), got.sampleShape());
            assertTrue(got.images());
            assertEquals(10, got.classes());
            assertArrayEquals(want.labels(), got.labels());
            assertArrayEquals(want.features(), got.features()); // bit for bit: v / 255f both ways
        }
        Dataset test = DataSources.loadTest(dir.toString()); // eval's path: the test split alone
        assertArrayEquals(s.test().features(), test.features());
        assertArrayEquals(s.test().labels(), test.labels());
    }

    @Test void classIndicesAreTheFolderNamesSortedByCodePoint(@TempDir Path dir) throws Exception {
        writeSplit(dir.resolve("train"), idxTrain, ITEMS, "png");
        writeSplit(dir.resolve("test"), idxTest, ITEMS, "png");
        Loaded<Split> l = load(dir);
        // Ankle boot, Bag, Coat, Dress, Pullover, Sandal, Shirt, Sneaker, T-shirt, Trouser: Fashion-MNIST's label 9 is index 0
        Dataset want = folderOrder(idxTest, ITEMS);
        assertArrayEquals(want.labels(), l.value().test().labels());
        assertArrayEquals(want.features(), l.value().test().features());
        assertTrue(l.log().contains("0=Ankle boot, 1=Bag, 2=Coat"), l.log());
        // the names travel with both splits, index i named by the i-th sorted folder, through head() and the model-fitting steps
        List<String> sortedItems = List.of("Ankle boot", "Bag", "Coat", "Dress", "Pullover", "Sandal", "Shirt", "Sneaker", "T-shirt", "Trouser");
        assertEquals(sortedItems, l.value().train().classNames());
        assertEquals(sortedItems, l.value().test().classNames());
        assertEquals(sortedItems, l.value().test().head(5).classNames());
        assertEquals(sortedItems, SampleLayout.arrange(l.value().test().head(5), Shape.of(1, 14, 14), System.err).classNames());
        assertEquals(sortedItems, SampleLayout.arrange(l.value().test().head(5), Shape.of(28, 28, 1), System.err).classNames());
        // the built-in set names its classes in label order, not sorted (an IDX folder given by path names none: IdxTest)
        assertEquals(DataSources.FASHION_MNIST_CLASSES, idxTest.classNames());
        List<String> names = new ArrayList<>(List.of("2", "10", "1", "b", "B", "a", "\uD83D\uDE00", "\uFF21"));
        names.sort(ImageFolder.CODE_POINT_ORDER);
        // Python: sorted(["2", "10", "1", "b", "B", "a", "😀", "Ａ"]) == ['1', '10', '2', 'B', 'a', 'b', 'Ａ', '😀']
        assertEquals(List.of("1", "10", "2", "B", "a", "b", "\uFF21", "\uD83D\uDE00"), names);
    }

    @Test void jpegRoundTripStaysCloseToThePixels(@TempDir Path dir) throws Exception {
        writeSplit(dir.resolve("test"), idxTest, DIGITS, "jpeg");
        Dataset got = loadTest(dir).value(), want = folderOrder(idxTest, DIGITS);
        assertEquals(Shape.of(1, 28, 28), got.sampleShape()); // a gray JPEG stays one channel
        assertArrayEquals(want.labels(), got.labels());
        double sum = 0, max = 0;
        for (int i = 0; i < got.features().length; i++) {
            double e = Math.abs(got.features()[i] - want.features()[i]);
            sum += e;
            max = Math.max(max, e);
        }
        double mean = sum / got.features().length;
        // quality 0.95 on these 300 images measured a mean error of 0.0036 and a max of 0.035 (9/255); lossy, so a tolerance, with margin
        assertTrue(mean < 0.01 && max < 0.1, "mean " + mean + " max " + max);
        assertTrue(mean > 0, "JPEG is lossy: identical floats mean the test did not go through JPEG");
    }

    /** Six known colours: pixel (x, y) of the 6x2 test image has colour x (a size no axis of which reads as a channel axis). */
    static final int[][] RGB = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {10, 200, 77}, {255, 255, 255}, {128, 64, 32}};

    static void writeRgb(Path f, String format) throws Exception {
        BufferedImage img = new BufferedImage(6, 2, BufferedImage.TYPE_INT_ARGB);
        for (int p = 0; p < 12; p++) img.setRGB(p % 6, p / 6, (0x80 << 24) | (RGB[p % 6][0] << 16) | (RGB[p % 6][1] << 8) | RGB[p % 6][2]); // half transparent
        Files.createDirectories(f.getParent());
        assertTrue(ImageIO.write(img, format, f.toFile()));
    }

    @Test void colourImagesAreThreePlanesAndMadeGrayByBt601ForAGrayModel(@TempDir Path dir) throws Exception {
        writeRgb(dir.resolve("test/a/x.png"), "png");
        writeRgb(dir.resolve("test/b/y.png"), "png");
        Dataset d = loadTest(dir).value();
        assertEquals(Shape.of(3, 2, 6), d.sampleShape());
        for (int p = 0; p < 12; p++)
            for (int c = 0; c < 3; c++) assertEquals(RGB[p % 6][c] / 255f, d.features()[c * 12 + p], "pixel " + p + " channel " + c + " (alpha dropped)");
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Dataset g = SampleLayout.arrange(d, Shape.of(1, 2, 6), new PrintStream(log, true, StandardCharsets.UTF_8));
        assertEquals(Shape.of(1, 2, 6), g.sampleShape());
        for (int p = 0; p < 12; p++) {
            float want = 0.299f * (RGB[p % 6][0] / 255f) + 0.587f * (RGB[p % 6][1] / 255f) + 0.114f * (RGB[p % 6][2] / 255f);
            assertEquals(want, g.features()[p], "pixel " + p);
            assertEquals(want, g.features()[12 + p], "second image, pixel " + p);
        }
        assertEquals(0.299f, g.features()[0], 1e-6f); // pure red: its coefficient
        assertEquals(1, g.features()[4], 1e-6f); // white stays 1
        assertTrue(log.toString(StandardCharsets.UTF_8).contains("colour images made gray (ITU-R BT.601 luma"), log.toString(StandardCharsets.UTF_8));
        // a Keras channels_last model taking [H, W, 1]: the same gray plane ([1, H, W] and [H, W, 1] are one layout)
        Dataset k = SampleLayout.arrange(loadTest(dir).value(), Shape.of(2, 6, 1), new PrintStream(new ByteArrayOutputStream()));
        assertArrayEquals(g.features(), k.features());
    }

    @Test void grayImagesAreRepeatedForAColourModelAndChannelsLastMoved(@TempDir Path dir) throws Exception {
        writeSplit(dir.resolve("test"), idxTest.head(20), DIGITS, "png");
        Dataset d = loadTest(dir).value(), want = folderOrder(idxTest.head(20), DIGITS);
        Dataset rgb = SampleLayout.arrange(d, Shape.of(3, 28, 28), new PrintStream(new ByteArrayOutputStream()));
        assertEquals(Shape.of(3, 28, 28), rgb.sampleShape());
        for (int s = 0; s < 20; s++)
            for (int c = 0; c < 3; c++)
                assertArrayEquals(Arrays.copyOfRange(want.features(), s * 784, (s + 1) * 784),
                        Arrays.copyOfRange(rgb.features(), s * 2352 + c * 784, s * 2352 + (c + 1) * 784), "sample " + s + " channel " + c);
        Dataset nhwc = SampleLayout.arrange(loadTest(dir).value(), Shape.of(28, 28, 3), new PrintStream(new ByteArrayOutputStream()));
        assertEquals(Shape.of(28, 28, 3), nhwc.sampleShape());
        for (int p = 0; p < 784; p++)
            for (int c = 0; c < 3; c++) assertEquals(want.features()[p], nhwc.features()[p * 3 + c]);
    }

    @Test void aTreeOfMixedGrayAndColourIsColour(@TempDir Path dir) throws Exception {
        writeRgb(dir.resolve("test/a/x.png"), "png");
        BufferedImage g = new BufferedImage(6, 2, BufferedImage.TYPE_BYTE_GRAY);
        for (int p = 0; p < 12; p++) g.getRaster().setSample(p % 6, p / 6, 0, 20 * p);
        assertTrue(ImageIO.write(g, "png", Files.createDirectories(dir.resolve("test/b")).resolve("g.png").toFile()));
        Loaded<Dataset> l = loadTest(dir);
        assertEquals(Shape.of(3, 2, 6), l.value().sampleShape());
        for (int p = 0; p < 12; p++)
            for (int c = 0; c < 3; c++) assertEquals(20 * p / 255f, l.value().features()[36 + c * 12 + p]);
        assertTrue(l.log().contains("gray images repeated into R, G, B"), l.log());
    }

    @Test void sixteenBitGrayKeepsItsPrecision(@TempDir Path dir) throws Exception {
        BufferedImage img = new BufferedImage(4, 1, BufferedImage.TYPE_USHORT_GRAY);
        int[] v = {0, 1, 40000, 65535};
        for (int x = 0; x < 4; x++) img.getRaster().setSample(x, 0, 0, v[x]);
        assertTrue(ImageIO.write(img, "png", Files.createDirectories(dir.resolve("test/a")).resolve("w.png").toFile()));
        Dataset d = loadTest(dir).value();
        assertEquals(Shape.of(1, 1, 4), d.sampleShape());
        for (int x = 0; x < 4; x++) assertEquals(v[x] / 65535f, d.features()[x]);
    }

    @Test void aTruncatedPngIsRefusedNamingTheFile(@TempDir Path dir) throws Exception {
        writeSplit(dir.resolve("test"), idxTest.head(30), DIGITS, "png");
        Path victim;
        try (var s = Files.list(dir.resolve("test/3"))) { victim = s.sorted().findFirst().orElseThrow(); }
        byte[] b = Files.readAllBytes(victim);
        Files.write(victim, Arrays.copyOf(b, b.length / 2));
        DataException e = assertThrows(DataException.class, () -> loadTest(dir));
        assertTrue(e.getMessage().startsWith(victim + ": cannot decode the image ("), e.getMessage());
        assertTrue(e.getMessage().contains("damaged or truncated: replace it, or move it out of the data folder"), e.getMessage());
        Files.writeString(victim, "not a picture at all");
        e = assertThrows(DataException.class, () -> loadTest(dir));
        assertTrue(e.getMessage().startsWith(victim + ": not a PNG, JPEG, BMP or GIF image"), e.getMessage());
    }

    @Test void aTruncatedJpegIsRefusedNotPaddedGray(@TempDir Path dir) throws Exception {
        Path f = Files.createDirectories(dir.resolve("test/a")).resolve("x.jpg");
        writeJpeg(gray(idxTest, 0), f, 0.95f);
        byte[] b = Files.readAllBytes(f);
        Files.write(f, Arrays.copyOf(b, b.length * 2 / 3));
        DataException e = assertThrows(DataException.class, () -> loadTest(dir));
        assertTrue(e.getMessage().startsWith(f + ": "), e.getMessage());
        assertTrue(e.getMessage().contains("damaged"), e.getMessage());
    }

    @Test void splitsWithDifferentClassFoldersAreRefusedNamingTheDifference(@TempDir Path dir) throws Exception {
        writeSplit(dir.resolve("train"), idxTrain, DIGITS, "png");
        writeSplit(dir.resolve("test"), idxTest, new String[]{"0", "1", "2", "3", "4", "5", "6", "7", "8", "x9"}, "png");
        for (var call : List.<org.junit.jupiter.api.function.Executable>of(() -> load(dir), () -> loadTest(dir))) {
            DataException e = assertThrows(DataException.class, call);
            assertTrue(e.getMessage().contains("the splits hold different class folders (only in train/: 9; only in test/: x9)"), e.getMessage());
        }
    }

    @Test void hiddenAndNonImageFilesAreSkippedAndCounted(@TempDir Path dir) throws Exception {
        writeSplit(dir.resolve("test"), idxTest.head(40), DIGITS, "png");
        Files.writeString(dir.resolve("test/3/.DS_Store"), "junk");
        Files.write(dir.resolve("test/4/._00001.png"), new byte[]{0, 5, 22, 7}); // macOS resource fork: a .png name, not a PNG
        Files.writeString(dir.resolve("test/4/notes.txt"), "labels checked");
        Files.writeString(dir.resolve("test/.DS_Store"), "junk");
        Files.createDirectories(dir.resolve("test/.ipynb_checkpoints"));
        Loaded<Dataset> l = loadTest(dir);
        assertEquals(40, l.value().count());
        assertEquals(10, l.value().classes());
        assertTrue(l.log().contains("skipped 4 hidden files, 1 not an image file"), l.log());
    }

    @Test void imagesOfTwoSizesAreRefusedNamingAFileOfEach(@TempDir Path dir) throws Exception {
        writeSplit(dir.resolve("test"), idxTest.head(10), DIGITS, "png");
        Path big = dir.resolve("test/5/big.png");
        assertTrue(ImageIO.write(new BufferedImage(32, 30, BufferedImage.TYPE_BYTE_GRAY), "png", big.toFile()));
        DataException e = assertThrows(DataException.class, () -> loadTest(dir));
        assertTrue(e.getMessage().contains("the images have 2 sizes (width x height): 28x28 (10 files, e.g. "), e.getMessage());
        assertTrue(e.getMessage().contains("32x30 (1 file: " + big + ")"), e.getMessage());
        assertTrue(e.getMessage().contains("mogrify -resize 28x28! */*.png"), e.getMessage());
        // the suggested resize is to the size most files have
        for (int i = 0; i < 10; i++)
            assertTrue(ImageIO.write(new BufferedImage(32, 30, BufferedImage.TYPE_BYTE_GRAY), "png", dir.resolve("test/5/big" + i + ".png").toFile()));
        e = assertThrows(DataException.class, () -> loadTest(dir));
        assertTrue(e.getMessage().contains("2 sizes (width x height): 32x30 (11 files, e.g. "), e.getMessage());
        assertTrue(e.getMessage().contains("mogrify -resize 32x30! */*.png"), e.getMessage());
    }

    @Test void aSetOfAnotherSizeIsResizedBilinearToTheModelInput(@TempDir Path dir) throws Exception {
        writeSplit(dir.resolve("test"), idxTest.head(10), DIGITS, "png");
        Dataset d = loadTest(dir).value();
        float[] src = d.features().clone();
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Dataset half = SampleLayout.arrange(d, Shape.of(1, 14, 14), new PrintStream(log, true, StandardCharsets.UTF_8));
        assertEquals(Shape.of(1, 14, 14), half.sampleShape());
        // halving with half-pixel centres: output (y, x) reads source (2y + 0.5, 2x + 0.5), the mean of a 2x2 block
        for (int s = 0; s < 10; s++)
            for (int y = 0; y < 14; y++)
                for (int x = 0; x < 14; x++) {
                    int b = s * 784 + 2 * y * 28 + 2 * x;
                    float mean = (src[b] + src[b + 1] + src[b + 28] + src[b + 29]) / 4;
                    assertEquals(mean, half.features()[s * 196 + y * 14 + x], 1e-6f, "sample " + s + " (" + y + ", " + x + ")");
                }
        assertTrue(log.toString(StandardCharsets.UTF_8).contains("images resized from 28x28 to the model's 14x14"), log.toString(StandardCharsets.UTF_8));
        // doubling: even outputs read (y - 0.25): 3/4 of pixel y, 1/4 of y - 1 (clamped at the edge)
        Dataset twice = SampleLayout.arrange(loadTest(dir).value(), Shape.of(1, 56, 56), new PrintStream(new ByteArrayOutputStream()));
        assertEquals(src[0], twice.features()[0], 0f); // the corner clamps onto pixel (0, 0)
        float want = 0.75f * (0.75f * src[5 * 28 + 7] + 0.25f * src[5 * 28 + 6]) + 0.25f * (0.75f * src[4 * 28 + 7] + 0.25f * src[4 * 28 + 6]);
        assertEquals(want, twice.features()[10 * 56 + 14], 1e-6f);
        // arrays are never resized: the same shapes from IDX are refused as before
        DataException e = assertThrows(DataException.class, () -> SampleLayout.arrange(idxTest, Shape.of(1, 14, 14), System.err));
        assertTrue(e.getMessage().contains("the data's samples have shape [1, 28, 28]"), e.getMessage());
    }

    @Test void theTestSplitMayBeCalledValAndEvalNeedsNoTrainSplit(@TempDir Path dir) throws Exception {
        writeSplit(dir.resolve("val"), idxTest.head(50), DIGITS, "png");
        Dataset d = DataSources.loadTest(dir.toString());
        assertArrayEquals(folderOrder(idxTest.head(50), DIGITS).features(), d.features());
        DataException e = assertThrows(DataException.class, () -> DataSources.load(dir.toString()));
        assertTrue(e.getMessage().contains("there is no " + dir.resolve("train") + " folder beside val/"), e.getMessage());
        writeSplit(dir.resolve("test"), idxTest.head(20), DIGITS, "png");
        Loaded<Dataset> l = loadTest(dir);
        assertEquals(20, l.value().count());
        assertTrue(l.log().contains("reading test/ as the test split; val/ is not read"), l.log());
    }

    @Test void emptyClassFoldersAndEmptySplitsAreRefusedNamingThem(@TempDir Path dir) throws Exception {
        writeSplit(dir.resolve("test"), idxTest.head(30), DIGITS, "png");
        Path empty = Files.createDirectories(dir.resolve("test/7b"));
        Files.writeString(empty.resolve("readme.md"), "todo");
        DataException e = assertThrows(DataException.class, () -> loadTest(dir));
        assertTrue(e.getMessage().startsWith(empty + ": the class folder holds no images"), e.getMessage());
        Path bare = Files.createDirectories(dir.resolve("bare/test"));
        e = assertThrows(DataException.class, () -> DataSources.loadTest(dir.resolve("bare").toString()));
        assertTrue(e.getMessage().startsWith(bare + " holds no class folders"), e.getMessage());
    }

    @Test void idxAndNpyFoldersAreNotTakenForImageFolders(@TempDir Path dir) throws Exception {
        Path idx = Files.createDirectories(dir.resolve("idx"));
        writeSplit(idx.resolve("test"), idxTest.head(10), DIGITS, "png"); // a test/ image folder beside the IDX files
        byte[] px = new byte[idxTest.features().length];
        for (int i = 0; i < px.length; i++) px[i] = (byte) Math.round(idxTest.features()[i] * 255);
        byte[] lab = new byte[idxTest.count()];
        for (int i = 0; i < lab.length; i++) lab[i] = (byte) idxTest.labels()[i];
        Files.write(idx.resolve("t10k-images-idx3-ubyte"), Idx.encode(new int[]{idxTest.count(), 28, 28}, px));
        Files.write(idx.resolve("t10k-labels-idx1-ubyte"), Idx.encode(new int[]{idxTest.count()}, lab));
        Dataset d = DataSources.loadTest(idx.toString());
        assertEquals(300, d.count());
        assertFalse(d.images());
        assertArrayEquals(idxTest.features(), d.features());

        Path npy = Files.createDirectories(dir.resolve("npy"));
        writeSplit(npy.resolve("test"), idxTest.head(10), DIGITS, "png");
        Files.write(npy.resolve("x_test.npy"), NpzFiles.u1(new int[]{idxTest.count(), 28, 28}, px));
        Files.write(npy.resolve("y_test.npy"), NpzFiles.i8(new int[]{idxTest.count()}, idxTest.labels(), '<'));
        d = DataSources.loadTest(npy.toString());
        assertEquals(300, d.count());
        assertFalse(d.images());

        Path none = Files.createDirectories(dir.resolve("none/pictures"));
        DataException e = assertThrows(DataException.class, () -> DataSources.load(none.getParent().toString()));
        for (String layout : new String[]{"train-images-idx3-ubyte[.gz]", "x_train.npy", "train/ and test/ (or val/, validation/)", "one subfolder per class"})
            assertTrue(e.getMessage().contains(layout), e.getMessage());
    }

    @Test void bmpAndGifReadAsThePngDoes(@TempDir Path dir) throws Exception {
        Map<String, Dataset> got = new LinkedHashMap<>();
        for (String f : new String[]{"png", "bmp", "gif"}) {
            writeSplit(dir.resolve(f).resolve("test"), idxTest.head(20), DIGITS, f);
            got.put(f, DataSources.loadTest(dir.resolve(f).toString()));
        }
        for (String f : new String[]{"bmp", "gif"}) {
            assertEquals(Shape.of(1, 28, 28), got.get(f).sampleShape(), f + ": a gray palette is gray");
            assertArrayEquals(got.get("png").features(), got.get(f).features(), f);
        }
    }

    @Test void aSplitFolderAClassFolderOrAnUnsplitSetIsRefusedSayingWhatToGive(@TempDir Path dir) throws Exception {
        writeSplit(dir.resolve("set/train"), idxTest.head(20), DIGITS, "png");
        writeSplit(dir.resolve("set/test"), idxTest.head(20), DIGITS, "png");
        Path set = dir.resolve("set");
        // the train split given instead of the set
        String e = assertThrows(DataException.class, () -> DataSources.load(set.resolve("train").toString())).getMessage();
        assertTrue(e.contains("; " + set.resolve("train") + " holds class folders of images (0, 1, 2, ...), as a split folder does: give --data " + set
                + " (with both "), e);
        e = assertThrows(DataException.class, () -> DataSources.loadTest(set.resolve("test").toString(), ImageFolder.DecodeProgress.NONE)).getMessage();
        assertTrue(e.contains("as a split folder does: give --data " + set), e);
        // one class's folder
        e = assertThrows(DataException.class, () -> DataSources.loadTest(set.resolve("test/3").toString(), ImageFolder.DecodeProgress.NONE)).getMessage();
        assertTrue(e.endsWith(set.resolve("test/3") + " holds images itself, as one class's folder does: give --data " + set), e);
        // class folders with no splits (a set for Keras' validation_split)
        Path flat = dir.resolve("flat");
        writeSplit(flat, idxTest.head(20), new String[] {"cat", "dog", "c", "d", "e", "f", "g", "h", "i", "j"}, "png");
        e = assertThrows(DataException.class, () -> DataSources.load(flat.toString())).getMessage();
        assertTrue(e.contains(flat + " holds class folders of images (c, cat, d, ...) but no train/ and test/ splits: move them into "
                + flat.resolve("train") + "/ and put held-out images of every class in " + flat.resolve("test") + "/CLASS/"), e);
        // a folder without images says nothing more
        e = assertThrows(DataException.class, () -> DataSources.load(Files.createDirectories(dir.resolve("empty/sub")).getParent().toString())).getMessage();
        assertTrue(e.endsWith("(DIR/train/CLASS/IMAGE.png)"), e);
    }

    /** predict's images: one file or a folder (subfolders too, sorted, hidden skipped), decoded as a data set's, no class names. */
    @Test void loadImagesReadsOneFileOrAFolderWithoutClasses(@TempDir Path dir) throws Exception {
        writeRgb(dir.resolve("in/b.png"), "png");
        writeRgb(dir.resolve("in/a/z.png"), "png");
        writeRgb(dir.resolve("in/.hidden.png"), "png");
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        ImageFolder.Images one = ImageFolder.loadImages(dir.resolve("in/b.png"), new PrintStream(log, true, StandardCharsets.UTF_8));
        assertEquals(List.of(dir.resolve("in/b.png")), one.files());
        assertEquals(Shape.of(3, 2, 6), one.data().sampleShape());
        assertEquals(List.of(), one.data().classNames());
        assertTrue(log.toString(StandardCharsets.UTF_8).contains(dir.resolve("in/b.png") + ": 1 image, samples [3, 2, 6] RGB"), log.toString(StandardCharsets.UTF_8));
        log.reset();
        ImageFolder.Images all = ImageFolder.loadImages(dir.resolve("in"), new PrintStream(log, true, StandardCharsets.UTF_8));
        assertEquals(List.of(dir.resolve("in/a/z.png"), dir.resolve("in/b.png")), all.files());
        assertArrayEquals(one.data().features(), Arrays.copyOfRange(all.data().features(), 36, 72));
        String l = log.toString(StandardCharsets.UTF_8);
        assertTrue(l.contains(dir.resolve("in") + ": 2 images, samples [3, 2, 6] RGB") && l.contains("skipped 1 hidden"), l);
    }
}
