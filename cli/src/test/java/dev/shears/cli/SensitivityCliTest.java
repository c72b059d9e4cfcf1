package dev.shears.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.data.DataSources;
import dev.shears.core.nn.Architectures;
import dev.shears.core.nn.Model;
import dev.shears.core.tensor.Shape;
import dev.shears.pruning.checkpoint.Checkpoint;
import dev.shears.pruning.recipe.PruningModifier;
import dev.shears.pruning.recipe.Recipe;
import dev.shears.pruning.recipe.RecipeParser;
import dev.shears.pruning.recipe.RecipeWriter;
import dev.shears.pruning.train.GmpTrainer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code shears sensitivity} end to end on real Fashion-MNIST images (a slice of the bundled split
 * written as an IDX folder) and a LeNet-300-100 trained on it for two epochs.
 */
class SensitivityCliTest {
    @TempDir static Path dir;
    static Path data, model, sparseModel;
    static byte[] modelBytes;
    static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll static void trainAModel() throws Exception {
        data = dir.resolve("fmnist");
        Files.createDirectories(data);
        var split = DataSources.bundledFashionMnist();
        CliTest.writeIdx(data, "train", split.train().head(10));
        CliTest.writeIdx(data, "t10k", split.test().head(400));
        model = dir.resolve("lenet.shears");
        try (CpuBackend be = CpuBackend.create()) {
            Model m = Architectures.create("lenet-300-100", Shape.of(784), 10).bind(be, 1);
            Recipe dense = RecipeParser.parse("""
                    epochs: 2
                    batchSize: 64
                    optimizer: {type: sgd, momentum: 0.9, nesterov: true}
                    learningRate:
                      - {type: constant, lr: 0.05}
                    """, "test recipe", "dense-2");
            new GmpTrainer(m, split.train().head(3000).withSampleShape(Shape.of(784)), split.test().head(200).withSampleShape(Shape.of(784)), dense, 1).run();
            new Checkpoint(m, null, null).write(model);
            // the same model with fc1's first 60% of weights zeroed: sparser than the 50% target
            var fc1 = m.parameter("fc1/kernel");
            float[] w = be.download(fc1.value());
            java.util.Arrays.fill(w, 0, (int) (0.6 * w.length), 0f);
            try (var t = be.upload(w, fc1.shape())) { be.copy(t, fc1.value()); }
            sparseModel = dir.resolve("sparse.shears");
            new Checkpoint(m, null, null).write(sparseModel);
        }
        modelBytes = Files.readAllBytes(model);
    }

    private static String[] args(String... extra) {
        List<String> a = new ArrayList<>(List.of("sensitivity", "--model", model.toString(), "--data", data.toString(), "--backend", "cpu"));
        a.addAll(Arrays.asList(extra));
        return a.toArray(String[]::new);
    }

    @Test void printsATableOfDropsPerLayerAndSparsityWithProgressOnStderr() throws Exception {
        CliRun r = CliRun.shearsCapturingSystemErr(args("--samples", "300"));
        assertEquals(0, r.code(), r.err());
        String out = r.out();
        assertTrue(out.contains("the first 300 of 400 test samples (--samples 300)"), out);
        assertTrue(out.contains("baseline: accuracy"), out);
        String header = out.lines().filter(l -> l.startsWith("layer")).findFirst().orElseThrow(() -> new AssertionError(out));
        for (String h : List.of("parameters", "50%", "70%", "80%", "90%", "95%", "98%", "within 1 point")) assertTrue(header.contains(h), header);
        for (String layer : List.of("fc1/kernel", "fc2/kernel", "fc3/kernel")) {
            String row = out.lines().filter(l -> l.startsWith(layer + " ")).findFirst().orElseThrow(() -> new AssertionError(out));
            assertEquals(2 + 6 + 1, row.trim().split("\\s+").length, row);
        }
        assertTrue(out.lines().anyMatch(l -> l.startsWith("fc1/kernel ") && l.contains(" 235200 ")), out);
        assertTrue(out.contains("do not add up exactly when layers are pruned together"), out);
        assertTrue(r.err().contains("3 layers x 6 sparsities = 18 evaluations"), r.err());
        assertTrue(r.err().contains("sensitivity [") && r.err().contains("evaluations"), "progress on stderr: " + r.err());
        assertFalse(out.contains("sensitivity ["), "no progress on stdout");
        assertArrayEquals(modelBytes, Files.readAllBytes(model), "the model file is only read");
    }

    @Test void jsonIsOneObjectOnStdoutWithEveryMeasurement() throws Exception {
        CliRun r = CliRun.shearsCapturingSystemErr(args("--samples", "200", "--sparsities", "0.9,0.5,0.99", "--json"));
        assertEquals(0, r.code(), r.err());
        JsonNode o = JSON.readTree(r.out()); // the whole of stdout: one object and nothing else
        try (var values = JSON.readerFor(JsonNode.class).readValues(r.out())) {
            assertEquals(o, values.next());
            assertFalse(values.hasNext(), "nothing after the object: " + r.out());
        }
        assertEquals(200, o.get("samples").asInt());
        assertEquals(400, o.get("testSamples").asInt());
        assertTrue(o.get("structure").isNull());
        assertEquals("[0.5,0.9,0.99]", o.get("sparsities").toString());
        assertEquals(1.0, o.get("maxDrop").asDouble());
        double base = o.at("/baseline/accuracy").asDouble();
        assertTrue(base > 0.6, "a trained LeNet-300-100: " + base);
        assertEquals(3, o.get("layers").size());
        for (JsonNode l : o.get("layers")) {
            assertEquals(3, l.get("results").size(), l.toString());
            double suggested = l.get("suggestedSparsity").asDouble();
            for (JsonNode p : l.get("results")) {
                assertEquals(100 * (base - p.get("accuracy").asDouble()), p.get("drop").asDouble(), 1e-9);
                assertEquals(p.get("target").asDouble(), p.get("sparsity").asDouble(), 1e-4);
                if (p.get("target").asDouble() <= suggested) assertTrue(p.get("drop").asDouble() <= 1.0 + 1e-9, l.toString());
            }
        }
        JsonNode fc3 = o.get("layers").get(2);
        assertEquals("fc3/kernel", fc3.get("name").asText());
        assertTrue(fc3.at("/results/2/drop").asDouble() > fc3.at("/results/0/drop").asDouble() + 1,
                "the output layer pruned to 99% loses more than at 50%: " + fc3);
        assertTrue(o.get("note").asText().contains("do not add up"));
        assertTrue(o.get("recipe").isNull(), "no --write-recipe");
        assertTrue(r.err().contains("sensitivity:"), "logs go to stderr");
    }

    @Test void outWritesJsonAndAPngChartAndTheRecipeParses(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("sens"), recipe = tmp.resolve("suggested.yaml");
        CliRun r = CliRun.shearsCapturingSystemErr(args("--samples", "200", "--params", "fc[23].*", "--max-drop", "5", "--out", out.toString(),
                "--write-recipe", recipe.toString()));
        assertEquals(0, r.code(), r.err());
        JsonNode o = JSON.readTree(out.resolve("sensitivity.json").toFile());
        assertEquals(recipe.toString(), o.get("recipe").asText());
        assertEquals(List.of("fc2/kernel", "fc3/kernel"), o.findValuesAsText("name"));
        BufferedImage png = ImageIO.read(out.resolve("sensitivity.png").toFile());
        assertNotNull(png, "a PNG that ImageIO reads");
        assertTrue(png.getWidth() > 100 && png.getHeight() > 100);
        assertTrue(r.err().contains("wrote " + out.resolve("sensitivity.json")), r.err());

        Recipe parsed = RecipeParser.parse(recipe);
        assertEquals(parsed, RecipeParser.parse(RecipeWriter.toYaml(parsed), "again", "x"), "round trip");
        String header = Files.readString(recipe);
        assertTrue(header.startsWith("# Written by shears sensitivity"), header);
        // the subset on a line of its own, not a parenthesis inside a parenthesis
        assertTrue(header.lines().skip(1).findFirst().orElseThrow().matches("# the first \\d+ of \\d+ test samples \\(--samples \\d+\\);"), header);
        List<JsonNode> pruned = new ArrayList<>();
        for (JsonNode l : o.get("layers")) if (l.get("suggestedSparsity").asDouble() > 0) pruned.add(l);
        assertFalse(pruned.isEmpty(), "within 5 points some layer takes 50%: " + o);
        assertEquals(pruned.size(), parsed.pruning().size());
        for (int i = 0; i < pruned.size(); i++) {
            PruningModifier m = parsed.pruning().get(i);
            assertEquals(pruned.get(i).get("suggestedSparsity").asDouble(), m.finalSparsity());
            assertEquals(List.of(pruned.get(i).get("name").asText()), m.params().patterns());
        }
        CliRun check = CliRun.shears("recipes", recipe.toString());
        assertEquals(0, check.code(), check.err());
    }

    @Test void structureMeasuresEachLayerAtNofM() throws Exception {
        CliRun r = CliRun.shears(args("--samples", "100", "--structure", "2:4", "--json"));
        assertEquals(0, r.code(), r.err());
        JsonNode o = JSON.readTree(r.out());
        assertEquals("2:4", o.get("structure").asText());
        assertEquals("[0.5]", o.get("sparsities").toString());
        for (JsonNode l : o.get("layers")) assertEquals(0.5, l.at("/results/0/sparsity").asDouble(), 1e-12, l.toString());
        CliRun t = CliRun.shears(args("--samples", "100", "--structure", "2:4"));
        assertTrue(t.out().lines().anyMatch(l -> l.startsWith("layer") && l.contains("2:4")), t.out());
    }

    @Test void aLayerAlreadySparserThanSomeTargetsGetsOneLineNamingThem() throws Exception {
        CliRun r = CliRun.shears("sensitivity", "--model", sparseModel.toString(), "--data", data.toString(), "--backend", "cpu",
                "--samples", "100", "--sparsities", "0.5,0.55,0.7", "--params", "fc1/kernel,fc2/kernel");
        assertEquals(0, r.code(), r.err());
        List<String> notes = r.out().lines().filter(l -> l.contains("changed nothing") || l.contains("already")).toList();
        assertEquals(List.of("fc1/kernel was already 60.00% sparse: pruning it to 50% or 55% changed nothing (masks only gain zeros),"
                + " so its drops there are 0"), notes, r.out());
        String row = r.out().lines().filter(l -> l.startsWith("fc1/kernel ")).findFirst().orElseThrow();
        assertTrue(row.contains(" 60.00% ") && row.contains("    0.00    0.00 "), row);
    }

    @Test void paramsIsRepeatableAndARegexMayHoldAComma() throws Exception {
        // fc[1-2]{1,1}/kernel is one pattern (fc1 and fc2's kernels), not "fc[1-2]{1" and "1}/kernel"; a second --params adds fc3
        CliRun r = CliRun.shears(args("--samples", "50", "--sparsities", "0.5", "--params", "fc[1-2]{1,1}/kernel", "--params", "fc3/kernel", "--json"));
        assertEquals(0, r.code(), r.err());
        List<String> layers = new ArrayList<>();
        for (JsonNode l : JSON.readTree(r.out()).get("layers")) layers.add(l.get("name").asText());
        assertEquals(List.of("fc1/kernel", "fc2/kernel", "fc3/kernel"), layers, r.out());
        CliRun one = CliRun.shears(args("--samples", "50", "--sparsities", "0.5", "--params", "fc{1,1}2/kernel,fc3/kernel", "--json"));
        assertEquals(0, one.code(), one.err());
        List<String> two = new ArrayList<>();
        for (JsonNode l : JSON.readTree(one.out()).get("layers")) two.add(l.get("name").asText());
        assertEquals(List.of("fc2/kernel", "fc3/kernel"), two, one.out());
    }

    @Test void helpSaysDataTakesNumpyArchives() {
        CliRun r = CliRun.shears("sensitivity", "--help");
        assertEquals(0, r.code(), r.err());
        String help = (r.out() + r.err()).replaceAll("\\s+", " ");
        assertTrue(help.contains("a .npz file (x_test, y_test are read), a folder of IDX or .npy files, or a folder of image class folders"), help);
    }

    @Test void channelAndBlockStructuresTakeTheSparsityListAndWriteTheirRecipes(@TempDir Path tmp) throws Exception {
        Path recipe = tmp.resolve("channels.yaml");
        CliRun r = CliRun.shearsCapturingSystemErr(args("--samples", "100", "--structure", "channels", "--sparsities", "0.5,0.8",
                "--max-drop", "100", "--json", "--write-recipe", recipe.toString()));
        assertEquals(0, r.code(), r.err());
        JsonNode o = JSON.readTree(r.out());
        assertEquals("channels", o.get("structure").asText());
        assertEquals("[0.5,0.8]", o.get("sparsities").toString());
        assertEquals(List.of("fc1/kernel", "fc2/kernel"), o.findValuesAsText("name"), "the output layer is not measured");
        assertEquals("[\"fc3/kernel\"]", o.get("leftOut").toString());
        assertTrue(o.get("leftOutReason").asText().contains("output layer"), o.toString());
        assertTrue(r.err().contains("leaving out fc3/kernel") && r.err().contains("2 layers x 2 sparsities of channels pruning = 4 evaluations"), r.err());
        for (JsonNode l : o.get("layers")) assertEquals(0.8, l.at("/results/1/sparsity").asDouble(), 1e-12, l.toString());
        Recipe parsed = RecipeParser.parse(recipe);
        assertEquals(2, parsed.pruning().size());
        for (PruningModifier m : parsed.pruning()) {
            assertEquals("channels", m.structure().recipeName());
            assertEquals(0.8, m.finalSparsity());
        }
        assertEquals(parsed, RecipeParser.parse(RecipeWriter.toYaml(parsed), "again", "x"), "round trip");
        CliRun check = CliRun.shears("recipes", recipe.toString());
        assertEquals(0, check.code(), check.err());

        CliRun t = CliRun.shears(args("--samples", "100", "--structure", "channels", "--sparsities", "0.5"));
        assertTrue(t.out().contains("fc3/kernel: not measured: channel pruning never removes the output layer's channels"), t.out());

        Path blocks = tmp.resolve("blocks.yaml");
        CliRun b = CliRun.shears(args("--samples", "100", "--structure", "block:4x4", "--sparsities", "0.5", "--max-drop", "100", "--json",
                "--write-recipe", blocks.toString()));
        assertEquals(0, b.code(), b.err());
        JsonNode bo = JSON.readTree(b.out());
        assertEquals("block:4x4", bo.get("structure").asText());
        assertEquals(3, bo.get("layers").size(), "block pruning measures the output layer too");
        assertNull(bo.get("leftOut"));
        for (PruningModifier m : RecipeParser.parse(blocks).pruning()) assertEquals("block:4x4", m.structure().recipeName());
    }

    private static void refused(String message, String... extra) {
        CliRun r = CliRun.shears(args(extra));
        assertEquals(2, r.code(), r.out() + r.err());
        assertTrue(r.err().contains(message), "expected '" + message + "' in: " + r.err());
        assertFalse(r.err().contains("at dev.shears"), "no stack trace: " + r.err());
        assertEquals("", r.out());
    }

    @Test void mistakesExitTwoNamingTheValue() throws Exception {
        refused("--sparsities 0.5,1.2: sparsity 1.2 is outside [0, 1)", "--sparsities", "0.5,1.2");
        refused("sparsity 0.5 is given twice", "--sparsities", "0.5,0.5");
        refused("--params nope: params pattern 'nope' matches no prunable parameter", "--params", "nope", "--samples", "10");
        refused("prunable parameters: [fc1/kernel, fc2/kernel, fc3/kernel]", "--params", "fc1/bias", "--samples", "10");
        refused("--params fc[: ", "--params", "fc[");
        refused("--structure '3:3' is not a valid N:M pattern", "--structure", "3:3");
        refused("give one of them", "--structure", "2:4", "--sparsities", "0.5");
        refused("--structure 'block:3x3'", "--structure", "block:3x3");
        refused("--params fc3/kernel: channel pruning selects only the output layer's kernel", "--structure", "channels", "--params", "fc3/kernel",
                "--samples", "10");
        refused("--samples 0", "--samples", "0");
        refused("--max-drop -1.0", "--max-drop", "-1");
        refused("--write-recipe " + model + " is an input of this run", "--write-recipe", model.toString());
        refused("--out " + model + " is a file", "--out", model.toString());
        refused("'--sparsities'", "--sparsities", "half");
        CliRun arch = CliRun.shears("sensitivity", "--model", "lenet-300-100", "--data", data.toString());
        assertEquals(2, arch.code());
        assertTrue(arch.err().contains("needs a model file"), arch.err());
        assertArrayEquals(modelBytes, Files.readAllBytes(model));
    }
}
