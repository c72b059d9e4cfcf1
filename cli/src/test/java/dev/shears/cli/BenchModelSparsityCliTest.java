package dev.shears.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.shears.cli.CliRun.shears;
import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code bench sparse --model FILE --sparsity LIST} times a copy of the model pruned one-shot to
 * each sparsity; without --sparsity a model with no zero weight is timed as it is, with a note.
 * A user's dense ResNet-50 with {@code --sparsity 0.9} was timed dense, every layer at 0.00%, with
 * --sparsity ignored and nothing said.
 */
class BenchModelSparsityCliTest {
    static final Path LINEAR = OutputPathsCliTest.LINEAR.resolve("model.onnx");
    static final Pattern ROW = Pattern.compile("\"m\": (\\d+), \"k\": (\\d+), \"n\": \\d+, \"sparsity\": ([0-9.]+)");

    /** (m, k, sparsity) of every JSON result row. */
    static List<double[]> rows(Path json) throws Exception {
        List<double[]> out = new ArrayList<>();
        Matcher mt = ROW.matcher(Files.readString(json));
        while (mt.find()) out.add(new double[] {Double.parseDouble(mt.group(1)), Double.parseDouble(mt.group(2)), Double.parseDouble(mt.group(3))});
        return out;
    }

    @Test void aDenseModelIsPrunedOneShotToEachGivenSparsity(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("b.json");
        CliRun r = shears("bench", "sparse", "--model", LINEAR.toString(), "--sparsity", "0.5,0.9", "--batch", "1", "--quick",
                "--json", json.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("pruned one-shot by magnitude to 50.0%") && r.err().contains("to 90.0%"), r.err());
        assertTrue(r.err().contains("bench sparse: timing 1 layer at batch 1\n"), r.err());
        assertRowsAtLevels(json, 0.5, 0.9);
    }

    /** The table heads each (level, batch) group, since a model's rows do not show the batch they were timed at. */
    @Test void theTableSaysWhichLevelAndBatchEachGroupIs() {
        CliRun r = shears("bench", "sparse", "--model", LINEAR.toString(), "--sparsity", "0.5,0.9", "--batch", "1,8", "--quick");
        assertEquals(0, r.code(), r.err());
        List<String> heads = r.out().lines().filter(l -> l.startsWith("-- ")).toList();
        assertEquals(List.of("-- batch 1, pruned one-shot to 50.0% --", "-- batch 8, pruned one-shot to 50.0% --",
                "-- batch 1, pruned one-shot to 90.0% --", "-- batch 8, pruned one-shot to 90.0% --"), heads, r.out());
        // each heading is followed by that group's rows, the first of them the table's first after its header
        List<String> lines = r.out().lines().toList();
        int header = lines.indexOf(lines.stream().filter(l -> l.startsWith("op ")).findFirst().orElseThrow());
        assertEquals(heads.get(0), lines.get(header + 1), r.out());
        for (int i = 0; i < lines.size(); i++)
            if (lines.get(i).startsWith("-- ")) assertTrue(i + 1 < lines.size() && lines.get(i + 1).matches("\\S+ +\\S.*\\d+\\.\\d+x"), r.out());
        CliRun asIs = shears("bench", "sparse", "--model", LINEAR.toString(), "--batch", "1", "--quick");
        assertEquals(0, asIs.code(), asIs.err());
        assertTrue(asIs.out().contains("-- batch 1, weights as they are --\n"), asIs.out());
    }

    /**
     * The model is loaded once and each level is pruned from its weights as loaded: a level below
     * the one before it (masks only gain zeros) would otherwise be timed at the earlier level.
     */
    @Test void eachLevelIsPrunedFromTheWeightsAsLoaded(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("b.json");
        CliRun r = shears("bench", "sparse", "--model", LINEAR.toString(), "--sparsity", "0.9,0.5", "--batch", "1", "--quick",
                "--json", json.toString());
        assertEquals(0, r.code(), r.err());
        assertRowsAtLevels(json, 0.9, 0.5);
    }

    /** The rows of {@code json} come level by level, in the order of {@code levels}, every level timed. */
    private static void assertRowsAtLevels(Path json, double... levels) throws Exception {
        List<double[]> rows = rows(json);
        assertFalse(rows.isEmpty(), Files.readString(json));
        int level = 0;
        for (double[] row : rows) {
            // the layer's sparsity is the level to within one weight
            double size = row[0] * row[1];
            if (Math.abs(row[2] - levels[level]) > 1 / size + 1e-4) level++;
            assertTrue(level < levels.length && Math.abs(row[2] - levels[level]) <= 1 / size + 1e-4,
                    "row sparsity " + row[2] + " is not " + java.util.Arrays.toString(levels) + " in order: " + Files.readString(json));
        }
        assertEquals(levels.length - 1, level, "every level timed: " + Files.readString(json));
    }

    @Test void aModelWithoutZerosIsTimedAsItIsAndSaysSo(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("b.json");
        CliRun r = shears("bench", "sparse", "--model", LINEAR.toString(), "--batch", "1", "--quick", "--json", json.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("has no pruned (zero) weight") && r.err().contains("--sparsity 0.9"), r.err());
        for (double[] row : rows(json)) assertEquals(0.0, row[2], 1e-9);
    }

    /** AlexNet's grouped convolutions are pruned but not planned: the progress line counts them apart. */
    @Test void groupedConvolutionsAreNamedApartFromThePlannedLayers() {
        dev.shears.core.nn.Model m = dev.shears.core.nn.Model.builder().input("x", dev.shears.core.tensor.Shape.of(4, 8, 8))
                .then(dev.shears.core.nn.layers.Conv2D.of("c1", 4, 8, 3, 1, 1, true))
                .then(new dev.shears.core.nn.layers.Conv2D("c2", 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2, true))
                .then(new dev.shears.core.nn.layers.Flatten("f"))
                .then(new dev.shears.core.nn.layers.Dense("fc", 512, 10, true))
                .build();
        assertEquals("2 layers (1 grouped convolution not planned: they keep their dense forward)", BenchCommand.plannedLayers(m));
    }

    @Test void aSparsityOutsideTheRangeIsRefusedWithTheModelToo() {
        CliRun r = shears("bench", "sparse", "--model", LINEAR.toString(), "--sparsity", "1.0", "--quick");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--sparsity 1.0"), r.err());
    }
}
