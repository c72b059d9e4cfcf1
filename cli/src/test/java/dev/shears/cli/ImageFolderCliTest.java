package dev.shears.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.core.data.DataSources;
import dev.shears.core.data.Dataset;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;

import static dev.shears.cli.CliRun.shears;
import static dev.shears.cli.CliRun.shearsCapturingSystemErr;
import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code --data DIR} of class folders through the commands, on real images: slices of the bundled
 * Fashion-MNIST split written as IDX files and as PNG files (gray; RGB with R = G = B; twice the
 * size, each pixel a 2x2 block), which must score as the IDX files do.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ImageFolderCliTest {
    @TempDir static Path dir;
    static Path idx, png, rgb, big, cnn;
    static Dataset test;
    static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll
    static void writeData() throws Exception {
        var split = DataSources.bundledFashionMnist();
        Dataset train = split.train().head(1000);
        test = split.test().head(300);
        idx = Files.createDirectories(dir.resolve("idx"));
        CliTest.writeIdx(idx, "train", train);
        CliTest.writeIdx(idx, "t10k", test);
        png = dir.resolve("png");
        rgb = dir.resolve("rgb");
        big = dir.resolve("big");
        write(png.resolve("train"), train, 1, BufferedImage.TYPE_BYTE_GRAY);
        for (Path p : new Path[]{png, rgb, big}) write(p.resolve("test"), test, p == big ? 2 : 1, p == rgb ? BufferedImage.TYPE_INT_RGB : BufferedImage.TYPE_BYTE_GRAY);
    }

    /** d's images as SPLIT/LABEL/NNNNN.png, each pixel a {@code scale x scale} block, gray or with R = G = B. */
    static void write(Path split, Dataset d, int scale, int type) throws Exception {
        for (int i = 0; i < d.count(); i++) {
            BufferedImage img = new BufferedImage(28 * scale, 28 * scale, type);
            for (int y = 0; y < 28 * scale; y++)
                for (int x = 0; x < 28 * scale; x++) {
                    int v = Math.round(d.features()[i * 784 + (y / scale) * 28 + x / scale] * 255);
                    if (type == BufferedImage.TYPE_BYTE_GRAY) img.getRaster().setSample(x, y, 0, v);
                    else img.setRGB(x, y, (v << 16) | (v << 8) | v);
                }
            Path f = Files.createDirectories(split.resolve(Integer.toString(d.labels()[i]))).resolve(String.format("%05d.png", i));
            assertTrue(ImageIO.write(img, "png", f.toFile()));
        }
    }

    static JsonNode eval(Path data, String... expectInLog) throws Exception {
        CliRun r = shearsCapturingSystemErr("eval", "--model", cnn.toString(), "--data", data.toString(), "--json", "--backend", "cpu");
        assertEquals(0, r.code(), r.err());
        for (String s : expectInLog) assertTrue(r.err().contains(s), r.err());
        return JSON.readTree(r.out());
    }

    @Test @Order(1)
    void evalOnPngFoldersScoresAsOnTheIdxFiles() throws Exception {
        Path t = dir.resolve("cnn");
        CliRun train = shears("train", "--model", "lenet-5", "--data", idx.toString(), "--epochs", "1", "--out", t.toString(), "--backend", "cpu", "--quiet");
        assertEquals(0, train.code(), train.err());
        cnn = t.resolve("model.shears");
        JsonNode fromIdx = eval(idx);
        JsonNode fromPng = eval(png, "300 images of 10 classes", "samples [1, 28, 28] gray in [0, 1]");
        assertEquals(300, fromPng.get("samples").asInt());
        assertEquals(png + " (test)", fromPng.get("data").asText());
        assertTrue(fromIdx.get("accuracy").asDouble() > 0.3, "one epoch on 1,000 images learns something: " + fromIdx);
        // the same floats in another order (by class folder): the same correct count, the mean loss summed in another order
        assertEquals(fromIdx.get("accuracy").asDouble(), fromPng.get("accuracy").asDouble(), 0.0);
        assertEquals(fromIdx.get("loss").asDouble(), fromPng.get("loss").asDouble(), 1e-6);

        // R = G = B images, made gray for the 1-channel model: 0.299 v + 0.587 v + 0.114 v is v to a float's rounding
        JsonNode fromRgb = eval(rgb, "samples [3, 28, 28] RGB", "colour images made gray (ITU-R BT.601 luma");
        assertEquals(fromIdx.get("loss").asDouble(), fromRgb.get("loss").asDouble(), 1e-5);
        // 56x56 images of 2x2 blocks, resized to the model's 28x28: each output is the mean of one block, the pixel itself
        JsonNode fromBig = eval(big, "images resized from 56x56 to the model's 28x28");
        assertEquals(fromIdx.get("accuracy").asDouble(), fromBig.get("accuracy").asDouble(), 0.0);
        assertEquals(fromIdx.get("loss").asDouble(), fromBig.get("loss").asDouble(), 1e-6);
    }

    @Test @Order(2)
    void trainTakesAPngTreeAndBuildsTheModelForItsImages() throws Exception {
        Path t = dir.resolve("mlp");
        CliRun train = shearsCapturingSystemErr("train", "--model", "lenet-300-100", "--data", png.toString(), "--epochs", "1", "--out", t.toString(),
                "--backend", "cpu");
        assertEquals(0, train.code(), train.err());
        assertTrue(train.err().contains(png + " (train): 1000 images of 10 classes"), train.err());
        assertTrue(train.err().contains("training lenet-300-100 (built for input [1, 28, 28], 10 classes) on " + png + " (train)"), train.err());
        CliRun e = shears("eval", "--model", t.resolve("model.shears").toString(), "--data", idx.toString(), "--json", "--backend", "cpu");
        assertEquals(0, e.code(), e.err());
        assertTrue(JSON.readTree(e.out()).get("accuracy").asDouble() > 0.3, e.out());
    }

    @Test @Order(3)
    void aDamagedImageIsAUsageErrorNamingTheFile() throws Exception {
        Path bad = dir.resolve("bad");
        write(bad.resolve("test"), test.head(12), 1, BufferedImage.TYPE_BYTE_GRAY);
        Path f;
        try (var s = Files.list(bad.resolve("test/" + test.labels()[0]))) { f = s.sorted().findFirst().orElseThrow(); }
        Files.write(f, java.util.Arrays.copyOf(Files.readAllBytes(f), 60));
        CliRun r = shears("eval", "--model", cnn.toString(), "--data", bad.toString(), "--backend", "cpu");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains(f + ": cannot decode the image"), r.err());
    }

    @Test @Order(4)
    void everyDataOptionsHelpNamesImageFolders() {
        for (String command : new String[] {"train", "prune", "demo", "eval", "sensitivity"}) {
            CliRun r = shears(command, "--help");
            assertEquals(0, r.code(), r.err());
            String help = (r.out() + r.err()).replaceAll("\\s+", " ");
            assertTrue(help.contains("or a folder of image class folders (DIR/"), command + ": " + help);
        }
        String eval = shears("eval", "--help").out().replaceAll("\\s+", " ");
        assertFalse(eval.contains("(t10k files)"), eval);
    }

    /** A model scored on a subset of its classes' folders gets labels 0..2 for outputs it knows by other numbers: said, as nothing can check it. */
    @Test @Order(5)
    void fewerClassFoldersThanOutputsIsNoted() throws Exception {
        Path three = dir.resolve("three");
        try (var s = Files.list(png.resolve("test"))) {
            for (Path c : s.sorted().limit(3).toList())
                try (var f = Files.list(c)) {
                    for (Path img : f.toList()) Files.copy(img, Files.createDirectories(three.resolve("test").resolve(c.getFileName().toString())).resolve(img.getFileName()));
                }
        }
        CliRun r = shearsCapturingSystemErr("eval", "--model", cnn.toString(), "--data", three.toString(), "--backend", "cpu");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("data: note: " + three + " (test) has 3 class folders but the model has 10 outputs;"), r.err());
        CliRun all = shearsCapturingSystemErr("eval", "--model", cnn.toString(), "--data", png.toString(), "--backend", "cpu");
        assertEquals(0, all.code(), all.err());
        assertFalse(all.err().contains("data: note:"), all.err());
    }
    /** --resume with another --augment is refused before the images decode: here one is damaged, and the refusal still names the flag. */
    @Test @Order(6)
    void aResumeWithAnotherAugmentationIsRefusedBeforeTheImagesDecode() throws Exception {
        Path tree = dir.resolve("resume-tree"), out = dir.resolve("resume-run");
        write(tree.resolve("train"), DataSources.bundledFashionMnist().train().head(300), 1, BufferedImage.TYPE_BYTE_GRAY);
        write(tree.resolve("test"), test.head(100), 1, BufferedImage.TYPE_BYTE_GRAY);
        String[] run = {"train", "--model", "lenet-300-100", "--data", tree.toString(), "--epochs", "2", "--backend", "cpu", "--out", out.toString()};
        CliRun first = shearsCapturingSystemErr(concat(run, "--augment", "flip", "--stop-after-epoch", "1"));
        assertEquals(0, first.code(), first.err());
        Path damaged;
        try (var classes = Files.list(tree.resolve("train")); var files = Files.list(classes.sorted().findFirst().orElseThrow())) {
            damaged = files.sorted().findFirst().orElseThrow();
        }
        Files.write(damaged, new byte[] {1, 2, 3});
        CliRun other = shearsCapturingSystemErr(concat(run, "--resume", "--augment", "crop:2"));
        assertEquals(2, other.code(), other.err());
        assertTrue(other.err().contains("--resume: this command line's augmentation (crop:2) differs from the run's (flip, saved in"), other.err());
        assertFalse(other.err().contains(damaged.getFileName().toString()), other.err());
        // the same resume with the run's flag reads the images, and meets the damaged one
        CliRun same = shearsCapturingSystemErr(concat(run, "--resume", "--augment", "flip"));
        assertEquals(2, same.code(), same.err());
        assertTrue(same.err().contains(damaged.getFileName().toString()), same.err());
    }

    private static String[] concat(String[] a, String... b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
