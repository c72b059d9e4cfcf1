package dev.shears.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.pruning.checkpoint.Checkpoint;
import dev.shears.pruning.thin.ChannelThinning;
import dev.shears.pruning.thin.ThinnedModel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static dev.shears.cli.CliRun.shears;
import static org.junit.jupiter.api.Assertions.*;

/**
 * What channel thinning buys, where a user looks: a channel-pruned LeNet-300-100 run (bundled
 * Fashion-MNIST) writes a thinning section in report.json, report.html and its summary, consistent
 * with {@link ChannelThinning} of the saved model; an unstructured run writes none; and
 * {@code eval --thin} evaluates what {@code export --thin} writes. Timings come from the real clock
 * here and are not asserted (ThinningReportTest checks them with an injected timer).
 */
class ThinningReportCliTest {
    @TempDir static Path dir;
    static final ObjectMapper JSON = new ObjectMapper();
    static Path data, channels;
    static CliRun channelRun;

    @BeforeAll static void channelPrunedRun() throws Exception {
        data = CliTest.fashionMnistSlice(dir.resolve("fmnist"), 600, 200);
        channels = dir.resolve("channels");
        channelRun = shears("prune", "--model", "lenet-300-100", "--data", data.toString(), "--structure", "channels", "--sparsity", "0.5",
                "--epochs", "1", "--out", channels.toString(), "--backend", "cpu", "--quiet", "--inference-batches", "1,8");
        assertEquals(0, channelRun.code(), channelRun.err());
    }

    @Test void aChannelPrunedRunReportsTheThinnedModel() throws Exception {
        JsonNode t = JSON.readTree(channels.resolve("report.json").toFile()).get("thinning");
        assertNotNull(t, "report.json has no thinning section");
        ThinnedModel want;
        try (CpuBackend be = new CpuBackend(1)) {
            want = ChannelThinning.thin(Checkpoint.read(channels.resolve("model.shears"), be).model());
        }
        assertEquals(266_610, t.get("parametersBefore").asLong());
        assertEquals(want.parametersAfter(), t.get("parametersAfter").asLong());
        // LeNet-300-100 at 50%: fc1 loses 150 of 300 units, fc2 50 of 100, the output layer none
        assertEquals(784 * 150 + 150 + 150 * 50 + 50 + 50 * 10 + 10, t.get("parametersAfter").asLong());
        assertEquals(want.removedChannels(), t.get("channelsRemoved").asInt());
        Map<String, int[]> widths = new HashMap<>();
        for (JsonNode l : t.get("layers")) widths.put(l.get("layer").asText(), new int[]{l.get("channelsBefore").asInt(), l.get("channelsAfter").asInt()});
        assertEquals(2, widths.size(), t.toString());
        assertArrayEquals(new int[]{300, 150}, widths.get("fc1"));
        assertArrayEquals(new int[]{100, 50}, widths.get("fc2"));
        for (var e : want.removed().entrySet())
            assertEquals(e.getValue().intValue(), widths.get(e.getKey())[0] - widths.get(e.getKey())[1], e.getKey());
        assertEquals("cpu", t.get("backend").asText());
        assertTrue(t.get("note").isNull(), t.toString());
        assertEquals(2, t.get("batches").size());
        int[] batches = {1, 8};
        for (int i = 0; i < 2; i++) {
            JsonNode b = t.get("batches").get(i);
            assertEquals(batches[i], b.get("batch").asInt());
            assertTrue(b.get("prunedMs").asDouble() > 0 && b.get("thinnedMs").asDouble() > 0, b.toString());
            assertEquals(200, b.get("samples").asInt()); // every test image of the run
            assertEquals(200, b.get("samePredictions").asInt(), b.toString());
            assertTrue(b.get("maxAbsDifference").asDouble() < 1e-3, b.toString());
        }

        String html = Files.readString(channels.resolve("report.html"));
        assertTrue(html.contains("Thinning: the pruned model without its zero channels"), "no thinning section in report.html");
        assertTrue(html.contains("<tr><td>fc1</td><td>Dense</td><td>300</td><td>150</td><td>150</td></tr>"), html);
        assertTrue(html.contains(want.parametersAfter() + " parameters instead of 266610"), html);

        String out = channelRun.out();
        assertTrue(out.contains("thinned: " + want.parametersAfter() + " parameters instead of 266610"), out);
        assertTrue(out.contains("fc1 (Dense): 300 -> 150 output channels"), out);
        assertTrue(out.contains("fc2 (Dense): 100 -> 50 output channels"), out);
        assertTrue(out.lines().anyMatch(l -> l.matches("  batch 8: pruned [0-9.]+ ms, thinned [0-9.]+ ms \\([0-9.]+x\\); same predictions on 200/200 test images.*")), out);
        assertTrue(out.contains("shears export --model " + channels.resolve("model.shears") + " --thin"), out);
    }

    @Test void anUnstructuredRunHasNoThinningSection() throws Exception {
        Path p = dir.resolve("unstructured");
        CliRun run = shears("prune", "--model", "lenet-300-100", "--data", data.toString(), "--sparsity", "0.5",
                "--epochs", "1", "--out", p.toString(), "--backend", "cpu", "--quiet", "--inference-batches", "0");
        assertEquals(0, run.code(), run.err());
        JsonNode t = JSON.readTree(p.resolve("report.json").toFile()).get("thinning");
        assertTrue(t == null || t.isNull(), String.valueOf(t));
        assertFalse(Files.readString(p.resolve("report.html")).contains("Thinning:"));
        assertFalse(run.out().contains("thinned:"), run.out());
    }

    @Test void evalThinMatchesTheExportedThinnedModel() throws Exception {
        Path ckpt = channels.resolve("model.shears"), onnx = dir.resolve("thin.onnx");
        CliRun export = shears("export", "--model", ckpt.toString(), "--thin", "--format", "onnx", "--out", onnx.toString());
        assertEquals(0, export.code(), export.err());

        JsonNode thin = JSON.readTree(shears("eval", "--model", ckpt.toString(), "--data", data.toString(), "--thin", "--json").out());
        JsonNode exported = JSON.readTree(shears("eval", "--model", onnx.toString(), "--data", data.toString(), "--json").out());
        JsonNode masked = JSON.readTree(shears("eval", "--model", ckpt.toString(), "--data", data.toString(), "--json").out());
        assertEquals(200, thin.get("samples").asInt());
        assertEquals(exported.get("accuracy").asDouble(), thin.get("accuracy").asDouble());
        assertEquals(exported.get("loss").asDouble(), thin.get("loss").asDouble(), 1e-5);
        assertEquals(masked.get("accuracy").asDouble(), thin.get("accuracy").asDouble()); // thinning changes no prediction here
        assertEquals("thinned", thin.get("mode").asText());
        assertEquals(266_610, thin.get("parameters").asLong());
        assertEquals(784 * 150 + 150 + 150 * 50 + 50 + 50 * 10 + 10, thin.get("thinnedParameters").asLong());
        assertEquals(200, thin.get("channelsRemoved").asInt());
        assertFalse(masked.has("thinnedParameters"), masked.toString());

        CliRun text = shears("eval", "--model", ckpt.toString(), "--data", data.toString(), "--thin");
        assertEquals(0, text.code(), text.err());
        assertTrue(text.out().contains("thinned: 125810 parameters instead of 266610 (47.2%) with 200 output channels removed\n"
                + "  fc1 (Dense): 300 -> 150 output channels\n  fc2 (Dense): 100 -> 50 output channels\n"), text.out());
        assertTrue(text.out().contains("(thinned, "), text.out());
    }

    @Test void evalThinRefusesSparse() {
        CliRun r = shears("eval", "--model", channels.resolve("model.shears").toString(), "--data", data.toString(), "--thin", "--sparse");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--thin and --sparse are mutually exclusive"), r.err());
    }
}
