package dev.shears.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static dev.shears.cli.CliRun.shears;
import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code shears prune --structure block:4x4 --sparsity S} on a Fashion-MNIST subset, then
 * {@code inspect} shows every layer's block pattern (text and JSON), and a bad block shape is a
 * usage error naming it.
 */
class BlockPruneCliTest {
    @TempDir Path dir;
    static final ObjectMapper JSON = new ObjectMapper();

    @Test void pruneInBlocksThenInspectShowsThePattern() throws Exception {
        Path data = CliTest.fashionMnistSlice(dir.resolve("fmnist"), 600, 200);
        Path p = dir.resolve("pruned");
        CliRun prune = shears("prune", "--model", "lenet-300-100", "--data", data.toString(), "--structure", "block:4x4", "--sparsity", "0.8",
                "--epochs", "2", "--out", p.toString(), "--backend", "cpu", "--quiet", "--inference-batches", "0");
        assertEquals(0, prune.code(), prune.err());

        Path ckpt = p.resolve("model.shears");
        CliRun inspect = shears("inspect", "--model", ckpt.toString());
        assertEquals(0, inspect.code(), inspect.err());
        // fc1: A = W^T [300, 784], 75 x 196 = 14700 blocks of 4x4, round(0.8 * 14700) = 11760 empty
        assertTrue(inspect.out().lines().anyMatch(l -> l.startsWith("fc1 ") && l.endsWith("4x4: 80.0% empty (11760/14700)")), inspect.out());
        // fc3 (the output layer, pruned like the others): A = [10, 100], 3 x 25 = 75 blocks (the last block-row has 2 rows), 60 empty
        assertTrue(inspect.out().lines().anyMatch(l -> l.startsWith("fc3 ") && l.endsWith("4x4: 80.0% empty (60/75)")), inspect.out());
        assertTrue(inspect.out().lines().anyMatch(l -> l.startsWith("layer ") && l.endsWith("blocks")), inspect.out());

        JsonNode in = JSON.readTree(shears("inspect", "--model", ckpt.toString(), "--json").out());
        Map<String, JsonNode> layers = new HashMap<>();
        for (JsonNode l : in.get("layers")) layers.put(l.get("name").asText(), l);
        assertEquals("4x4", layers.get("fc2").get("block").asText());
        assertEquals(25 * 75, layers.get("fc2").get("blocks").asLong(), "A = [100, 300]");
        assertEquals(Math.round(0.8 * 25 * 75), layers.get("fc2").get("zeroBlocks").asLong());
        assertTrue(layers.get("fc2").get("pattern").isNull());
        assertFalse(layers.get("relu1") != null && layers.get("relu1").has("block"), "only Dense/Conv2D layers carry block fields");
    }

    @Test void aBadBlockShapeIsAUsageErrorNamingIt() {
        CliRun r = shears("prune", "--model", "lenet-300-100", "--data", dir.resolve("none").toString(), "--structure", "block:3x3",
                "--out", dir.resolve("o").toString());
        assertNotEquals(0, r.code());
        assertTrue(r.err().contains("block:3x3") && r.err().contains("powers of two"), r.err());
    }
}
