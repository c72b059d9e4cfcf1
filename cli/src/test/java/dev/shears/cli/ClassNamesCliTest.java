package dev.shears.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.data.DataSources;
import dev.shears.core.data.Dataset;
import dev.shears.pruning.checkpoint.Checkpoint;
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
import java.util.List;
import java.util.Set;

import static dev.shears.cli.CliRun.shears;
import static dev.shears.cli.CliRun.shearsCapturingSystemErr;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Class names through the commands, on real images: bundled Fashion-MNIST samples written as PNG
 * files into folders named by the items ("Ankle boot", "Bag", ...). A model trained on them keeps
 * the names (checkpoint, report.json, through prune); evaluated on some of its folders, each
 * folder is scored against the model's output of its name; a folder the model does not know is refused.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClassNamesCliTest {
    @TempDir static Path dir;
    static Path items, trained;
    static final String[] ITEMS = {"T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};
    static final List<String> SORTED = List.of("Ankle boot", "Bag", "Coat", "Dress", "Pullover", "Sandal", "Shirt", "Sneaker", "T-shirt", "Trouser");
    static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll
    static void writeData() throws Exception {
        var split = DataSources.bundledFashionMnist();
        items = dir.resolve("items");
        write(items.resolve("train"), split.train().head(1000), Set.of(ITEMS));
        write(items.resolve("test"), split.test().head(300), Set.of(ITEMS));
    }

    /** d's images of the classes in {@code keep} as SPLIT/ITEM/NNNNN.png (gray PNG, the IDX bytes). */
    static void write(Path split, Dataset d, Set<String> keep) throws Exception {
        for (int i = 0; i < d.count(); i++) {
            String item = ITEMS[d.labels()[i]];
            if (!keep.contains(item)) continue;
            BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
            for (int y = 0; y < 28; y++)
                for (int x = 0; x < 28; x++) img.getRaster().setSample(x, y, 0, Math.round(d.features()[i * 784 + y * 28 + x] * 255));
            Path f = Files.createDirectories(split.resolve(item)).resolve(String.format("%05d.png", i));
            assertTrue(ImageIO.write(img, "png", f.toFile()));
        }
    }

    /** A test split of only the given items' folders. */
    static Path testOf(String name, String... keep) throws Exception {
        Path p = dir.resolve(name);
        write(p.resolve("test"), DataSources.bundledFashionMnist().test().head(300), Set.of(keep));
        return p;
    }

    static JsonNode eval(Path data, String... expectInLog) {
        CliRun r = shearsCapturingSystemErr("eval", "--model", trained.toString(), "--data", data.toString(), "--json", "--backend", "cpu");
        assertEquals(0, r.code(), r.err());
        for (String s : expectInLog) assertTrue(r.err().contains(s), r.err());
        return readJson(r.out());
    }

    static JsonNode readJson(String s) {
        try {
            return JSON.readTree(s);
        } catch (Exception e) {
            throw new AssertionError(s, e);
        }
    }

    static double correct(JsonNode eval) { return eval.get("accuracy").asDouble() * eval.get("samples").asInt(); }

    @Test @Order(1)
    void trainKeepsTheFolderNamesInTheCheckpointAndTheReport() throws Exception {
        Path out = dir.resolve("train");
        CliRun r = shears("train", "--model", "lenet-300-100", "--data", items.toString(), "--epochs", "1", "--out", out.toString(),
                "--backend", "cpu", "--quiet");
        assertEquals(0, r.code(), r.err());
        trained = out.resolve("model.shears");
        assertEquals(SORTED, Checkpoint.read(trained, CpuBackend.create()).model().classNames());
        JsonNode report = JSON.readTree(out.resolve("report.json").toFile());
        assertEquals(SORTED, JSON.convertValue(report.get("classNames"), List.class));
        CliRun inspect = shears("inspect", "--model", trained.toString());
        assertEquals("classes: 0 Ankle boot, 1 Bag, 2 Coat, 3 Dress, 4 Pullover, 5 Sandal, 6 Shirt, 7 Sneaker, 8 T-shirt, 9 Trouser",
                inspect.out().lines().toList().get(1), inspect.out());
        assertEquals(SORTED, JSON.convertValue(JSON.readTree(shears("inspect", "--model", trained.toString(), "--json").out()).get("classNames"), List.class));
        String html = Files.readString(out.resolve("report.html"));
        assertTrue(html.contains("<b>classes</b></td><td>10: 0 Ankle boot, 1 Bag, 2 Coat,"), html);
    }

    /** eval names the model's classes and scores each: the per-class figures add up to the whole, and name the folders. */
    @Test @Order(2)
    void evalGivesTheClassNamesAndTheAccuracyOfEachClass() throws Exception {
        JsonNode all = eval(items);
        assertEquals(SORTED, JSON.convertValue(all.get("classNames"), List.class));
        JsonNode per = all.get("perClass");
        assertEquals(10, per.size());
        long correct = 0, total = 0;
        for (int c = 0; c < 10; c++) {
            JsonNode row = per.get(c);
            assertEquals(c, row.get("index").asInt());
            assertEquals(SORTED.get(c), row.get("name").asText());
            try (var files = Files.list(items.resolve("test").resolve(SORTED.get(c)))) {
                assertEquals(files.count(), row.get("total").asLong(), "the samples of the folder " + SORTED.get(c));
            }
            assertEquals((double) row.get("correct").asLong() / row.get("total").asLong(), row.get("accuracy").asDouble(), 1e-12);
            correct += row.get("correct").asLong();
            total += row.get("total").asLong();
        }
        assertEquals(all.get("samples").asLong(), total);
        assertEquals(correct(all), correct, 1e-6, "the classes' correct answers add up to the accuracy's");

        // 3 of the folders: rows for those 3 only, at the model's indices of their names
        JsonNode three = eval(testOf("three-per-class", "Bag", "Sandal", "Trouser"));
        assertEquals(List.of(1, 5, 9), three.get("perClass").findValues("index").stream().map(JsonNode::asInt).toList());
        assertEquals(SORTED, JSON.convertValue(three.get("classNames"), List.class), "the model's names, all 10");

        CliRun text = shears("eval", "--model", trained.toString(), "--data", items.toString(), "--backend", "cpu");
        assertEquals(0, text.code(), text.err());
        List<String> lines = text.out().lines().toList();
        assertEquals("per class (correct/total, accuracy):", lines.get(1), text.out());
        assertEquals(12, lines.size(), text.out());
        JsonNode bag = per.get(1);
        assertTrue(lines.contains(String.format(java.util.Locale.ROOT, "  Bag         %2d/%-2d  %6.2f%%", bag.get("correct").asLong(),
                bag.get("total").asLong(), 100 * bag.get("accuracy").asDouble())), text.out());
    }

    /**
     * 3 of the 10 folders scored against the outputs of their names: the correct answers of the 3-folder
     * tree and of the 7-folder tree add up to the full tree's exactly. By position (labels 0..2 for
     * Bag, Sandal, Trouser) they would be scored against Ankle boot, Bag and Coat.
     */
    @Test @Order(2)
    void evalOnSomeOfTheModelsFoldersMatchesThemByName() throws Exception {
        Path three = testOf("three", "Bag", "Sandal", "Trouser");
        Path seven = testOf("seven", "Ankle boot", "Coat", "Dress", "Pullover", "Shirt", "Sneaker", "T-shirt");
        JsonNode all = eval(items);
        JsonNode a = eval(three, "its 3 class folders are 3 of the model's 10 classes, matched by name",
                "(Bag -> 1, Sandal -> 5, Trouser -> 9)");
        JsonNode b = eval(seven, "its 7 class folders are 7 of the model's 10 classes");
        assertEquals(all.get("samples").asInt(), a.get("samples").asInt() + b.get("samples").asInt());
        assertEquals(correct(all), correct(a) + correct(b), 1e-6);
        assertTrue(a.get("accuracy").asDouble() > 0.5, "Bag, Sandal and Trouser against their own outputs: " + a);
        CliRun same = shearsCapturingSystemErr("eval", "--model", trained.toString(), "--data", items.toString(), "--backend", "cpu");
        assertFalse(same.err().contains("matched by name") || same.err().contains("data: note:"), same.err());
    }

    @Test @Order(3)
    void aFolderTheModelHasNoClassOfIsRefusedNamingIt() throws Exception {
        Path hats = testOf("hats", "Bag", "Coat");
        Files.move(hats.resolve("test/Coat"), hats.resolve("test/Hat"));
        for (String command : new String[] {"eval", "sensitivity"}) {
            CliRun r = shears(command, "--model", trained.toString(), "--data", hats.toString(), "--backend", "cpu");
            assertEquals(2, r.code(), command + ": " + r.err());
            assertTrue(r.err().contains("has class folders the model --model " + trained + " was not trained on: \"Hat\"; the model's classes are"
                    + " \"Ankle boot\", \"Bag\", \"Coat\""), r.err());
        }
    }

    /**
     * 11 folders for the model's 10 named outputs: the folder the model lacks is named (it was "has 10 outputs, but the --data labels
     * go up to 10", which left the user to find the extra folder), for eval and for a prune starting from the model.
     */
    @Test @Order(3)
    void moreFoldersThanOutputsNamesTheUnknownFolder() throws Exception {
        Path eleven = testOf("eleven", ITEMS);
        Files.move(eleven.resolve("test/Coat"), eleven.resolve("test/Hat"));
        write(eleven.resolve("test"), DataSources.bundledFashionMnist().test().head(300), Set.of("Coat"));
        CliRun r = shears("eval", "--model", trained.toString(), "--data", eleven.toString(), "--backend", "cpu");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("has class folders the model --model " + trained + " was not trained on: \"Hat\""), r.err());
        assertFalse(r.err().contains("outputs"), r.err());

        Path train = dir.resolve("eleven-train");
        Files.createDirectories(train);
        copyTree(eleven.resolve("test"), train.resolve("train"));
        copyTree(eleven.resolve("test"), train.resolve("test"));
        r = shears("prune", "--model", trained.toString(), "--data", train.toString(), "--sparsity", "0.5", "--epochs", "1",
                "--out", dir.resolve("eleven-out").toString(), "--backend", "cpu", "--quiet");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("was not trained on: \"Hat\""), r.err());

        // a 3-class model with names on data without names (IDX) of 10 classes: the count, the model's path as given, and its classes
        Path three = dir.resolve("three-classes");
        var split = DataSources.bundledFashionMnist();
        write(three.resolve("train"), split.train().head(300), Set.of("Bag", "Sandal", "Trouser"));
        write(three.resolve("test"), split.test().head(100), Set.of("Bag", "Sandal", "Trouser"));
        Path small = dir.resolve("three-model");
        assertEquals(0, shears("train", "--model", "lenet-300-100", "--data", three.toString(), "--epochs", "1", "--out", small.toString(),
                "--backend", "cpu", "--quiet").code());
        Path idx = Files.createDirectories(dir.resolve("idx-no-names"));
        for (String f : new String[] {"t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"})
            try (var in = DataSources.class.getResourceAsStream("/dev/shears/core/data/fashion-mnist-small/" + f)) {
                Files.copy(in, idx.resolve(f));
            }
        r = shears("eval", "--model", small.resolve("model.shears").toString(), "--data", idx.toString(), "--backend", "cpu");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--model " + small.resolve("model.shears") + " has 3 outputs, but the --data labels go up to 9 (10 classes)"), r.err());
        assertTrue(r.err().contains("(this one was trained on the classes \"Bag\", \"Sandal\", \"Trouser\")"), r.err());
        r = shears("eval", "--model", small.resolve("model.shears").toString(), "--data", "fashion-mnist", "--backend", "cpu");
        assertEquals(2, r.code(), r.err());
        // the built-in Fashion-MNIST names its classes: the 7 the model lacks are named (it was a count of outputs)
        assertTrue(r.err().contains("has classes the model --model " + small.resolve("model.shears") + " was not trained on: \"T-shirt/top\", \"Pullover\""), r.err());
        assertTrue(r.err().contains("the model's classes are \"Bag\", \"Sandal\", \"Trouser\""), r.err());
    }

    static void copyTree(Path from, Path to) throws Exception {
        try (var s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(t);
                else Files.copy(p, t);
            }
        }
    }

    /** prune from the named checkpoint on 3 of its folders: trained against the outputs of their names, and the result keeps all 10 names. */
    @Test @Order(4)
    void pruneFromANamedModelKeepsItsNames() throws Exception {
        Path three = dir.resolve("three-train");
        var split = DataSources.bundledFashionMnist();
        Set<String> keep = Set.of("Bag", "Sandal", "Trouser");
        write(three.resolve("train"), split.train().head(1000), keep);
        write(three.resolve("test"), split.test().head(300), keep);
        Path out = dir.resolve("prune");
        CliRun r = shearsCapturingSystemErr("prune", "--model", trained.toString(), "--data", three.toString(), "--sparsity", "0.5",
                "--epochs", "2", "--out", out.toString(), "--backend", "cpu", "--quiet");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("its 3 class folders are 3 of the model's 10 classes, matched by name"), r.err());
        assertEquals(SORTED, Checkpoint.read(out.resolve("model.shears"), CpuBackend.create()).model().classNames());
        JsonNode report = JSON.readTree(out.resolve("report.json").toFile());
        assertEquals(SORTED, JSON.convertValue(report.get("classNames"), List.class));
        assertTrue(report.get("after").get("accuracy").asDouble() > 0.5, report.get("after").toString());
    }

    /**
     * predict on PNG files: the same outputs as on the same images as a .npy of floats (the decoding of
     * --data), one line per image with its top class by name, and a folder read in sorted order.
     */
    @Test @Order(5)
    void predictOnImagesNamesTheTopClass() throws Exception {
        Path folder = testOf("predict", "Bag", "Trouser");
        List<Path> files;
        try (var s = Files.walk(folder.resolve("test"))) { files = s.filter(Files::isRegularFile).sorted().toList(); }
        Dataset floats = dev.shears.core.data.DataSources.loadTest(folder.toString()); // the same images, as --data decodes them
        Path npy = dir.resolve("x.npy");
        dev.shears.core.data.Npy.write(npy, dev.shears.core.tensor.Shape.of(floats.count(), 1, 28, 28), floats.features());
        CliRun fromNpy = shears("predict", "--model", trained.toString(), "--input", npy.toString(), "--output", dir.resolve("y0.npy").toString(), "--backend", "cpu");
        assertEquals(0, fromNpy.code(), fromNpy.err());
        assertEquals("", fromNpy.out(), "a tensor input prints nothing on stdout, as before");

        CliRun r = shears("predict", "--model", trained.toString(), "--input", folder.resolve("test").toString(), "--output", dir.resolve("y1.npy").toString(),
                "--backend", "cpu");
        assertEquals(0, r.code(), r.err());
        var y0 = dev.shears.core.data.Npy.read(dir.resolve("y0.npy"));
        var y1 = dev.shears.core.data.Npy.read(dir.resolve("y1.npy"));
        assertArrayEquals(dev.shears.io.FloatArray.of(y0).data(), dev.shears.io.FloatArray.of(y1).data(), 0f);
        String[] lines = r.out().split("\\R");
        assertEquals(files.size(), lines.length, r.out());
        float[] y = dev.shears.io.FloatArray.of(y1).data();
        int right = 0;
        for (int i = 0; i < lines.length; i++) {
            int top = 0;
            for (int c = 1; c < 10; c++) if (y[i * 10 + c] > y[i * 10 + top]) top = c;
            assertTrue(lines[i].startsWith(files.get(i) + ": " + SORTED.get(top) + " (0."), lines[i]);
            if (lines[i].contains(files.get(i).getParent().getFileName() + " (")) right++;
        }
        assertTrue(right > lines.length / 2, "most Bag and Trouser images named right: " + r.out());

        // one file: the same line as in the folder's run
        CliRun one = shears("predict", "--model", trained.toString(), "--input", files.get(0).toString(), "--output", dir.resolve("y2.npy").toString(),
                "--backend", "cpu");
        assertEquals(0, one.code(), one.err());
        assertEquals(lines[0], one.out().strip());
    }
}
