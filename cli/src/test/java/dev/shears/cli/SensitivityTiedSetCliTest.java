package dev.shears.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.data.Npy;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.TinySeMobileNet;
import dev.shears.core.tensor.Shape;
import dev.shears.pruning.checkpoint.Checkpoint;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code shears sensitivity --structure channels} on a squeeze-and-excitation model ({@link TinySeMobileNet}): the map
 * conv and the gate's expanding conv, whose channels the gate's Multiply ties, are measured as one set pruned together
 * (one evaluation per sparsity, the same accuracy in both rows), and the output says so. Untrained weights, random data.
 */
class SensitivityTiedSetCliTest {
    @TempDir static Path dir;
    static Path data, model;
    static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll static void writeModelAndData() throws Exception {
        data = Files.createDirectories(dir.resolve("npy"));
        SplittableRandom r = new SplittableRandom(3);
        int n = 16, size = TinySeMobileNet.INPUT.intSize();
        float[] x = new float[n * size], y = new float[n];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextDouble();
        for (int i = 0; i < n; i++) y[i] = i % TinySeMobileNet.CLASSES;
        for (String split : List.of("train", "test")) {
            Npy.write(data.resolve("x_" + split + ".npy"), TinySeMobileNet.INPUT.withBatch(n), x);
            Npy.write(data.resolve("y_" + split + ".npy"), Shape.of(n), y);
        }
        model = dir.resolve("tiny-se.shears");
        try (CpuBackend be = CpuBackend.create()) {
            Model m = TinySeMobileNet.create().bind(be, 7);
            new Checkpoint(m, null, null).write(model);
        }
    }

    @Test void theGatedSetIsPrunedTogetherInOneEvaluation() throws Exception {
        String[] args = {"sensitivity", "--model", model.toString(), "--data", data.toString(), "--backend", "cpu",
                "--structure", "channels", "--sparsities", "0.5"};
        CliRun t = CliRun.shearsCapturingSystemErr(args);
        assertEquals(0, t.code(), t.err());
        assertTrue(t.err().contains("sensitivity: 4 layers in 3 sets pruned together x 1 sparsity of channels pruning = 3 evaluations"), t.err());
        assertTrue(t.err().contains("sensitivity: pruning [conv/kernel, se_expand/kernel] together"), t.err());

        List<String> withJson = new java.util.ArrayList<>(List.of(args));
        withJson.add("--json");
        CliRun j = CliRun.shears(withJson.toArray(String[]::new));
        assertEquals(0, j.code(), j.err());
        JsonNode o = JSON.readTree(j.out());
        assertEquals(List.of("conv/kernel", "se_reduce/kernel", "se_expand/kernel", "pw/kernel"), o.get("layers").findValuesAsText("name"));
        assertEquals("[\"dw/kernel\",\"fc/kernel\"]", o.get("leftOut").toString());
        assertEquals("[[\"conv/kernel\",\"se_expand/kernel\"]]", o.get("prunedTogether").toString());
        JsonNode conv = o.get("layers").get(0), expand = o.get("layers").get(2);
        assertEquals(conv.get("results").toString().replaceAll("\"sparsity\":[^,}]*", ""), expand.get("results").toString().replaceAll("\"sparsity\":[^,}]*", ""),
                "one evaluation: the same accuracy and loss for both members");

        // --write-recipe keeps the set in one modifier (a channels recipe refuses half a set): every modifier's selection is pruned whole
        Path recipe = dir.resolve("tied.yaml");
        List<String> write = new java.util.ArrayList<>(List.of(args));
        write.addAll(List.of("--max-drop", "100", "--write-recipe", recipe.toString()));
        CliRun w = CliRun.shears(write.toArray(String[]::new));
        assertEquals(0, w.code(), w.err());
        var written = dev.shears.pruning.recipe.RecipeParser.parse(Files.readString(recipe), recipe.toString(), "tied");
        List<List<String>> selections = written.pruning().stream().map(m -> m.params().patterns()).toList();
        assertTrue(selections.contains(List.of("conv/kernel", "se_expand/kernel")), selections.toString());
        assertEquals(3, selections.size(), selections.toString());
        Model m = TinySeMobileNet.create();
        for (var mod : written.pruning()) {
            var split = dev.shears.pruning.ChannelLeftOut.of(m, mod.params().resolve(m), "written recipe");
            assertTrue(split.leftOut().isEmpty(), mod.params() + " leaves out " + split.leftOut().keySet());
        }
    }
}
