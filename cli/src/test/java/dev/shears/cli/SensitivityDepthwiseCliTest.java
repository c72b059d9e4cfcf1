package dev.shears.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.data.Npy;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.TinyMobileNet;
import dev.shears.core.tensor.Shape;
import dev.shears.pruning.GroupedKernels;
import dev.shears.pruning.checkpoint.Checkpoint;
import dev.shears.pruning.sensitivity.SensitivityResult;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code shears sensitivity --structure channels} on a MobileNet-style model ({@link TinyMobileNet}: conv, depthwise conv,
 * pointwise conv, Dense): the depthwise kernel is left out as a {@code channels} recipe leaves it out, and the output says why,
 * beside the output layer's reason. The weights are untrained and the data random: what is measured does not matter here.
 */
class SensitivityDepthwiseCliTest {
    @TempDir static Path dir;
    static Path data, model;
    static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll static void writeModelAndData() throws Exception {
        data = Files.createDirectories(dir.resolve("npy"));
        SplittableRandom r = new SplittableRandom(3);
        int n = 16, size = TinyMobileNet.INPUT.intSize();
        float[] x = new float[n * size], y = new float[n];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextDouble();
        for (int i = 0; i < n; i++) y[i] = i % TinyMobileNet.CLASSES; // every class present: the data has the model's 4
        for (String split : List.of("train", "test")) {
            Npy.write(data.resolve("x_" + split + ".npy"), TinyMobileNet.INPUT.withBatch(n), x);
            Npy.write(data.resolve("y_" + split + ".npy"), Shape.of(n), y);
        }
        model = dir.resolve("tiny-mobilenet.shears");
        try (CpuBackend be = CpuBackend.create()) {
            Model m = TinyMobileNet.create().bind(be, 7);
            new Checkpoint(m, null, null).write(model);
        }
    }

    private static String[] args(String... more) {
        List<String> a = new java.util.ArrayList<>(List.of("sensitivity", "--model", model.toString(), "--data", data.toString(), "--backend", "cpu"));
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    @Test void channelPruningLeavesTheDepthwiseKernelOutAndSaysWhy() throws Exception {
        CliRun t = CliRun.shearsCapturingSystemErr(args("--structure", "channels", "--sparsities", "0.5"));
        assertEquals(0, t.code(), t.err());
        assertTrue(t.err().contains("sensitivity: 2 layers x 1 sparsity of channels pruning = 2 evaluations"), t.err());
        assertTrue(t.err().contains("sensitivity: leaving out dw/kernel: " + SensitivityResult.GROUPED_LEFT_OUT), t.err());
        assertTrue(t.err().contains("sensitivity: leaving out fc/kernel: " + SensitivityResult.OUTPUT_LEFT_OUT), t.err());
        assertTrue(t.out().contains("dw/kernel: not measured: channel pruning leaves a grouped (depthwise) convolution's kernel out ("
                + GroupedKernels.REASON + "), so it is not measured"), t.out());
        assertTrue(t.out().contains("fc/kernel: not measured: channel pruning never removes the output layer's channels"), t.out());
        assertFalse(t.out().lines().anyMatch(l -> l.startsWith("dw/kernel ")), "no row for the depthwise kernel: " + t.out());

        CliRun j = CliRun.shears(args("--structure", "channels", "--sparsities", "0.5", "--json"));
        assertEquals(0, j.code(), j.err());
        JsonNode o = JSON.readTree(j.out());
        assertEquals(List.of("conv/kernel", "pw/kernel"), o.get("layers").findValuesAsText("name"));
        assertEquals("[\"dw/kernel\",\"fc/kernel\"]", o.get("leftOut").toString());
        assertEquals(SensitivityResult.GROUPED_LEFT_OUT, o.at("/leftOutReasons/dw~1kernel").asText());
        assertEquals(SensitivityResult.OUTPUT_LEFT_OUT, o.at("/leftOutReasons/fc~1kernel").asText());
        assertEquals(SensitivityResult.GROUPED_LEFT_OUT + "; " + SensitivityResult.OUTPUT_LEFT_OUT, o.get("leftOutReason").asText(), "each reason once");
    }

    @Test void singleWeightsMeasureTheDepthwiseKernel() throws Exception {
        CliRun j = CliRun.shears(args("--sparsities", "0.5", "--json"));
        assertEquals(0, j.code(), j.err());
        JsonNode o = JSON.readTree(j.out());
        assertEquals(List.of("conv/kernel", "dw/kernel", "pw/kernel", "fc/kernel"), o.get("layers").findValuesAsText("name"));
        assertNull(o.get("leftOut"));
    }

    @Test void aSelectionOfTheDepthwiseKernelAloneIsRefusedNamingIt() {
        CliRun r = CliRun.shears(args("--structure", "channels", "--params", "dw/kernel"));
        assertEquals(2, r.code(), r.out() + r.err());
        assertTrue(r.err().contains("--params dw/kernel: ") && r.err().contains("[dw/kernel]") && r.err().contains("grouped (depthwise)"), r.err());
    }
}
