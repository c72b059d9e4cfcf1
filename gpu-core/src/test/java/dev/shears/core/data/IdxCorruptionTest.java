package dev.shears.core.data;

import dev.shears.core.fuzz.Corruption;
import dev.shears.core.fuzz.CorruptionCampaign;
import dev.shears.core.fuzz.Corruptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Seeded corruption campaign over IDX data set files, raw and gzip: damaged images with good
 * labels and the other way round, read through {@link DataSources#loadTest}, as {@code eval
 * --data DIR} does. Each case loads a consistent data set or fails with a {@link DataException}
 * naming the file.
 */
class IdxCorruptionTest {
    private static final int IMAGES = 12, H = 5, W = 7;

    @Test
    void damagedIdxFilesLoadOrFailClearly(@TempDir Path dir) throws Exception {
        SplittableRandom r = new SplittableRandom(11);
        byte[] pixels = new byte[IMAGES * H * W], labels = new byte[IMAGES];
        r.nextBytes(pixels);
        for (int i = 0; i < IMAGES; i++) labels[i] = (byte) r.nextInt(10);
        byte[] images = Idx.encode(new int[]{IMAGES, H, W}, pixels), labelFile = Idx.encode(new int[]{IMAGES}, labels);
        long started = System.nanoTime();
        List<String> summaries = new ArrayList<>();
        for (boolean gzip : new boolean[]{false, true}) {
            String suffix = gzip ? ".gz" : "";
            byte[] img = gzip ? gzip(images) : images, lab = gzip ? gzip(labelFile) : labelFile;
            // header boundaries: magic (4), each dimension (4 bytes each), start of the payload
            int[] imgBounds = gzip ? new int[]{10, img.length - 8} : new int[]{4, 8, 12, 16};
            int[] labBounds = gzip ? new int[]{10, lab.length - 8} : new int[]{4, 8};
            CorruptionCampaign damagedImages = campaign(dir, "t10k-images-idx3-ubyte" + suffix, "t10k-labels-idx1-ubyte" + suffix, lab);
            damagedImages.run("images" + suffix, cases(img, 1, imgBounds));
            damagedImages.run("images-dims" + suffix, dimensionCases(pixels, gzip));
            CorruptionCampaign damagedLabels = campaign(dir, "t10k-labels-idx1-ubyte" + suffix, "t10k-images-idx3-ubyte" + suffix, img);
            damagedLabels.run("labels" + suffix, cases(lab, 2, labBounds));
            summaries.add("images" + suffix + ": " + damagedImages.summary() + "; labels" + suffix + ": " + damagedLabels.summary());
            damagedImages.assertClean();
            damagedLabels.assertClean();
        }
        System.out.println("IDX campaign: " + String.join("; ", summaries) + " in " + (System.nanoTime() - started) / 1_000_000 + " ms");
    }

    /**
     * Well-formed headers declaring dimensions whose product is zero, past int, or past long
     * (2^30 x 2^30 x 16 wraps to 0 in a long), with the real pixels after them.
     */
    private static List<Corruption> dimensionCases(byte[] pixels, boolean gzip) throws Exception {
        int[][] dims = {{IMAGES, 0, W}, {IMAGES, 1 << 16, 1 << 16}, {IMAGES, 1 << 30, 1 << 30}, {16, 1 << 30, 1 << 30},
                {IMAGES, Integer.MAX_VALUE, Integer.MAX_VALUE}, {0, 1 << 16, 1 << 16}, {IMAGES, H * W, 1}, {IMAGES, 1, H * W}};
        List<Corruption> out = new ArrayList<>();
        for (int[] d : dims) {
            byte[] b = Idx.encode(d, pixels);
            out.add(new Corruption("dims=" + d[0] + "x" + d[1] + "x" + d[2], gzip ? gzip(b) : b));
        }
        return out;
    }

    private static List<Corruption> cases(byte[] seed, long rngSeed, int... bounds) {
        List<Corruption> all = new ArrayList<>(Corruptions.truncations(seed, rngSeed, 40, bounds));
        all.addAll(Corruptions.mutations(seed, rngSeed + 100, 60));
        return all;
    }

    /**
     * Each case's damaged file goes into a folder of its own (named after the case) beside the
     * intact partner file, and the folder is loaded as a {@code --data} folder.
     */
    private static CorruptionCampaign campaign(Path dir, String damagedName, String partnerName, byte[] partner) {
        return new CorruptionCampaign(dir, "", file -> {
            Path folder = Files.createDirectory(file.resolveSibling(file.getFileName() + ".d"));
            Files.copy(file, folder.resolve(damagedName));
            Files.write(folder.resolve(partnerName), partner);
            return DataSources.loadTest(folder.toString());
        }, loaded -> {
            Dataset d = (Dataset) loaded;
            assertEquals((long) d.count() * d.sampleShape().size(), d.features().length, "features match count x sample shape");
            for (int y : d.labels()) assertTrue(y >= 0 && y < d.classes(), "label " + y + " within " + d.classes() + " classes");
        }, Duration.ofSeconds(3), List.of(DataException.class));
    }

    private static byte[] gzip(byte[] b) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(out)) {
            z.write(b);
        }
        return out.toByteArray();
    }
}
