package dev.shears.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.data.DataSources;
import dev.shears.core.data.Dataset;
import dev.shears.pruning.checkpoint.Checkpoint;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.function.IntFunction;

import static dev.shears.cli.CliRun.shears;
import static dev.shears.cli.CliRun.shearsCapturingSystemErr;
import static org.junit.jupiter.api.Assertions.*;

/**
 * A model trained on the built-in Fashion-MNIST names its outputs as the data set does ("Shirt",
 * not "class 6") in the checkpoint, the report, eval and predict, and is still evaluated right on
 * image folders of the same items: folders named by output index ("0".."9", as the set is often
 * exported; a subset too, which by position would be scored against the wrong outputs) or by the
 * class names as a folder can hold them ("T-shirt_top" for "T-shirt/top").
 */
class FashionNamesCliTest {
    @TempDir static Path dir;
    static Path trained;
    static final List<String> FASHION = DataSources.FASHION_MNIST_CLASSES;
    static final ObjectMapper JSON = new ObjectMapper();
    static final Dataset TEST = DataSources.bundledFashionMnist().test().head(300);

    @BeforeAll
    static void train() throws Exception {
        Path out = dir.resolve("train");
        CliRun r = shears("train", "--model", "lenet-300-100", "--data", "fashion-mnist", "--epochs", "1", "--out", out.toString(),
                "--backend", "cpu", "--quiet");
        assertEquals(0, r.code(), r.err());
        trained = out.resolve("model.shears");
    }

    /** TEST's images of the labels in {@code keep} as DIR/test/FOLDER/NNNNN.png, FOLDER = {@code folder} of the label. */
    static Path folders(String name, IntFunction<String> folder, Set<Integer> keep) throws Exception {
        Path root = dir.resolve(name);
        for (int i = 0; i < TEST.count(); i++) {
            if (!keep.contains(TEST.labels()[i])) continue;
            BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
            for (int y = 0; y < 28; y++)
                for (int x = 0; x < 28; x++) img.getRaster().setSample(x, y, 0, Math.round(TEST.features()[i * 784 + y * 28 + x] * 255));
            Path f = Files.createDirectories(root.resolve("test").resolve(folder.apply(TEST.labels()[i]))).resolve(String.format("%05d.png", i));
            assertTrue(ImageIO.write(img, "png", f.toFile()));
        }
        return root;
    }

    static final Set<Integer> ALL = Set.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9);

    static JsonNode evalJson(Path data) throws Exception {
        CliRun r = shearsCapturingSystemErr("eval", "--model", trained.toString(), "--data", data.toString(), "--json", "--backend", "cpu");
        assertEquals(0, r.code(), r.err());
        return JSON.readTree(r.out());
    }

    static double correct(JsonNode eval) { return eval.get("accuracy").asDouble() * eval.get("samples").asInt(); }

    @Test
    void theModelAndItsReportNameTheClasses() throws Exception {
        assertEquals(FASHION, Checkpoint.read(trained, CpuBackend.create()).model().classNames());
        JsonNode report = JSON.readTree(trained.resolveSibling("report.json").toFile());
        assertEquals(FASHION, JSON.convertValue(report.get("classNames"), List.class));
        assertEquals("Shirt", report.get("perClass").get(6).get("name").asText(), report.get("perClass").toString());
        CliRun eval = shears("eval", "--model", trained.toString(), "--data", "fashion-mnist", "--backend", "cpu");
        assertEquals(0, eval.code(), eval.err());
        assertTrue(eval.out().lines().anyMatch(l -> l.startsWith("  Shirt ")), eval.out());
        assertTrue(eval.out().lines().anyMatch(l -> l.startsWith("  T-shirt/top ")), eval.out());
        assertFalse(eval.out().contains("class 6"), eval.out());
    }

    @Test
    void indexFoldersAndNamedFoldersAreScoredAgainstTheirOwnOutputs() throws Exception {
        JsonNode byIndex = evalJson(folders("index", Integer::toString, ALL));
        JsonNode byName = evalJson(folders("named", l -> FASHION.get(l).replace('/', '_'), ALL));
        assertEquals(TEST.count(), byIndex.get("samples").asInt());
        assertEquals(correct(byIndex), correct(byName), 1e-6, "the same images, the same outputs");
        assertTrue(byIndex.get("accuracy").asDouble() > 0.6, "a trained model on its own classes: " + byIndex);
        assertEquals(FASHION, JSON.convertValue(byIndex.get("classNames"), List.class));
        // two of the ten, by index: by position they were outputs 0 and 1 (T-shirt/top, Trouser) and scored near 0%
        JsonNode two = evalJson(folders("two", Integer::toString, Set.of(6, 8)));
        assertTrue(two.get("accuracy").asDouble() > 0.4, "Shirt and Bag against their own outputs: " + two);
        for (JsonNode row : two.get("perClass")) assertTrue(Set.of(6, 8).contains(row.get("index").asInt()), two.toString());
    }

    @Test
    void predictNamesTheTopClass() throws Exception {
        Path trousers = folders("trousers", l -> "Trouser", Set.of(1)).resolve("test/Trouser");
        CliRun r = shears("predict", "--model", trained.toString(), "--input", trousers.toString(), "--output", dir.resolve("y.npy").toString(),
                "--backend", "cpu");
        assertEquals(0, r.code(), r.err());
        List<String> lines = r.out().lines().toList();
        assertFalse(lines.isEmpty(), r.err());
        for (String l : lines) assertTrue(FASHION.stream().anyMatch(n -> l.contains(": " + n + " (")), l);
        assertTrue(lines.stream().filter(l -> l.contains(": Trouser (")).count() > lines.size() / 2, r.out());
    }
}
