package dev.shears.pruning.train;

import dev.shears.core.data.DataSources;
import dev.shears.core.data.Dataset;
import dev.shears.core.tensor.Shape;
import dev.shears.pruning.recipe.Augmentation;
import dev.shears.pruning.recipe.ImageGeometry;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The flip and the padded crop of {@link ImageAugmenter} on real images: the Fashion-MNIST split
 * bundled with Shears ([1, 28, 28] samples in [0, 1]).
 */
class ImageAugmenterTest {
    private static Dataset images;
    private static final ImageGeometry G = new ImageGeometry(1, 28, 28, false);
    private static final int PER = 28 * 28;

    @BeforeAll static void load() {
        images = DataSources.bundledFashionMnist().test().head(200);
        assertEquals(Shape.of(1, 28, 28), images.sampleShape());
    }

    private static float[] sample(int i) { return Arrays.copyOfRange(images.features(), i * PER, (i + 1) * PER); }

    private static float[] transform(float[] src, ImageGeometry g, boolean flip, int dy, int dx, int pad) {
        float[] out = new float[src.length];
        ImageAugmenter.transform(src, 0, out, 0, g, flip, dy, dx, pad);
        return out;
    }

    @Test
    void flippingTwiceGivesTheImageBackAndOnceMirrorsEveryRow() {
        for (int i = 0; i < 20; i++) {
            float[] x = sample(i);
            float[] once = transform(x, G, true, 0, 0, 0);
            assertFalse(Arrays.equals(x, once), "a Fashion-MNIST image is not symmetric to the bit (sample " + i + ")");
            for (int y = 0; y < 28; y++)
                for (int c = 0; c < 28; c++) assertEquals(x[y * 28 + c], once[y * 28 + 27 - c], "sample " + i + " pixel (" + y + ", " + c + ")");
            assertArrayEquals(x, transform(once, G, true, 0, 0, 0), "sample " + i + " flipped twice");
            // the same through the padded crop's path: the centred window of any padding is the image
            assertArrayEquals(x, transform(transform(x, G, true, 3, 3, 3), G, true, 3, 3, 3));
        }
    }

    @Test
    void theCentredCropIsTheImage() {
        for (int pad = 1; pad <= 14; pad++)
            for (int i = 0; i < 5; i++) assertArrayEquals(sample(i), transform(sample(i), G, false, pad, pad, pad), "P = " + pad + ", sample " + i);
    }

    @Test
    void theCropShiftsTheImageAndFillsThePaddingWithZeros() {
        int pad = 4;
        for (int i = 0; i < 10; i++) {
            float[] x = sample(i);
            // offset (0, 0): the window's top-left is the padding's corner, the image moves 4 down and 4 right
            float[] tl = transform(x, G, false, 0, 0, pad);
            // offset (8, 1): the image moves 4 up and 3 right
            float[] other = transform(x, G, false, 8, 1, pad);
            for (int y = 0; y < 28; y++)
                for (int c = 0; c < 28; c++) {
                    float want = y < pad || c < pad ? 0f : x[(y - pad) * 28 + c - pad];
                    assertEquals(want, tl[y * 28 + c], "offset (0, 0), pixel (" + y + ", " + c + ")");
                    int sy = y + 4, sc = c - 3;
                    assertEquals(sy < 28 && sc >= 0 ? x[sy * 28 + sc] : 0f, other[y * 28 + c], "offset (8, 1), pixel (" + y + ", " + c + ")");
                }
            // the border really is padding (Fashion-MNIST's own border is mostly 0 too: the shifted rows must be exactly 0)
            for (int y = 0; y < pad; y++) for (int c = 0; c < 28; c++) assertEquals(0f, tl[y * 28 + c]);
        }
        // an image whose every pixel is 1: the zero fill is exactly the padding the window takes in
        float[] ones = new float[PER];
        Arrays.fill(ones, 1f);
        float[] shifted = transform(ones, G, true, 2, 7, pad);
        int zeros = 0;
        for (float v : shifted) if (v == 0f) zeros++;
        // rows: 2 of padding at the top (dy = 2 takes 2 padding rows); columns: 3 of padding (dx = 7 runs 3 past the right edge)
        assertEquals(28 * 28 - (28 - 2) * (28 - 3), zeros);
    }

    @Test
    void channelsLastImagesAreTransformedAsTheirChannelPlanes() {
        // three channels: the image, its negative, its square; laid out [3, 28, 28] and [28, 28, 3]
        ImageGeometry chw = ImageGeometry.of(Shape.of(3, 28, 28)), hwc = ImageGeometry.of(Shape.of(28, 28, 3));
        assertEquals(new ImageGeometry(3, 28, 28, false), chw);
        assertEquals(new ImageGeometry(3, 28, 28, true), hwc);
        assertEquals(new ImageGeometry(1, 28, 28, false), ImageGeometry.of(Shape.of(28, 28)));
        assertNull(ImageGeometry.of(Shape.of(784)));
        float[] x = sample(3), planes = new float[3 * PER], last = new float[3 * PER];
        for (int p = 0; p < PER; p++) {
            float[] v = {x[p], -x[p], x[p] * x[p]};
            for (int c = 0; c < 3; c++) {
                planes[c * PER + p] = v[c];
                last[p * 3 + c] = v[c];
            }
        }
        float[] a = transform(planes, chw, true, 1, 6, 3), b = transform(last, hwc, true, 1, 6, 3);
        for (int p = 0; p < PER; p++) for (int c = 0; c < 3; c++) assertEquals(a[c * PER + p], b[p * 3 + c]);
    }

    @Test
    void aSamplesDrawsDependOnSeedEpochAndSampleNotOnCallOrder() {
        ImageAugmenter a = new ImageAugmenter(new Augmentation(true, 4), G, 42);
        ImageAugmenter b = new ImageAugmenter(new Augmentation(true, 4), G, 42);
        ImageAugmenter.Draw[] forward = new ImageAugmenter.Draw[200];
        for (int i = 0; i < 200; i++) forward[i] = a.draw(3, i);
        for (int i = 199; i >= 0; i--) assertEquals(forward[i], b.draw(3, i), "sample " + i + " drawn in the other order, by another augmenter");
        int otherEpoch = 0, otherSeed = 0;
        for (int i = 0; i < 200; i++) {
            if (!forward[i].equals(a.draw(4, i))) otherEpoch++;
            if (!forward[i].equals(new ImageAugmenter(new Augmentation(true, 4), G, 43).draw(3, i))) otherSeed++;
        }
        // 162 outcomes: two draws agree by chance about 1 time in 160
        assertTrue(otherEpoch > 190, "draws that change with the epoch: " + otherEpoch);
        assertTrue(otherSeed > 190, "draws that change with the seed: " + otherSeed);
        // apply() writes exactly the transform of its draw
        for (int i = 0; i < 10; i++) {
            float[] out = new float[PER];
            a.apply(images.features(), i * PER, out, 0, 3, i);
            ImageAugmenter.Draw d = a.draw(3, i);
            assertArrayEquals(transform(sample(i), G, d.flip(), d.dy(), d.dx(), 4), out);
        }
    }

    @Test
    void aboutHalfTheSamplesAreFlippedAndEveryCropOffsetIsTaken() {
        ImageAugmenter a = new ImageAugmenter(new Augmentation(true, 2), G, 7);
        int n = 60_000, flipped = 0;
        int[] dy = new int[5], dx = new int[5];
        for (int i = 0; i < n; i++) {
            ImageAugmenter.Draw d = a.draw(1, i);
            if (d.flip()) flipped++;
            dy[d.dy()]++;
            dx[d.dx()]++;
        }
        // binomial: standard deviation sqrt(n / 4) ~ 122; 5 of them either side
        assertEquals(n / 2.0, flipped, 5 * Math.sqrt(n / 4.0), "flipped samples of " + n);
        for (int k = 0; k < 5; k++) {
            assertEquals(n / 5.0, dy[k], 5 * Math.sqrt(n * 0.2 * 0.8), "vertical offset " + k);
            assertEquals(n / 5.0, dx[k], 5 * Math.sqrt(n * 0.2 * 0.8), "horizontal offset " + k);
        }
        // flip off: never flipped, whatever the draw; crop off: always the centre (offset 0 of padding 0)
        ImageAugmenter cropOnly = new ImageAugmenter(new Augmentation(false, 3), G, 7), flipOnly = new ImageAugmenter(new Augmentation(true, 0), G, 7);
        for (int i = 0; i < 1000; i++) {
            assertFalse(cropOnly.draw(0, i).flip());
            assertEquals(0, flipOnly.draw(0, i).dy());
            assertEquals(0, flipOnly.draw(0, i).dx());
        }
    }
}
