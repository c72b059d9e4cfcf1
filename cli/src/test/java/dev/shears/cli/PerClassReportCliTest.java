package dev.shears.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.core.data.DataSources;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The run report's accuracy per class, on a 1,000/300-image slice of the bundled Fashion-MNIST: counted in the run's own
 * test passes, so each class's figures add up to the overall accuracy before and after and its totals are the test
 * slice's class counts; a stopped and resumed run reports the same figures as one done in one go; a run resumed from a
 * checkpoint without them (as Shears wrote before) says why "before" is missing; report.html has the table.
 */
class PerClassReportCliTest {
    @TempDir static Path dir;
    static Path data;
    static final int TEST = 300;
    /** Test samples of each class in the slice, from its labels. */
    static long[] classCounts = new long[10];
    static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll
    static void writeData() throws Exception {
        data = CliTest.fashionMnistSlice(dir.resolve("fmnist"), 1000, TEST);
        for (int label : DataSources.bundledFashionMnist().test().head(TEST).labels()) classCounts[label]++;
    }

    private static String[] prune(Path out, String... extra) {
        List<String> a = new ArrayList<>(List.of("prune", "--model", "lenet-300-100", "--data", data.toString(), "--sparsity", "0.9",
                "--epochs", "3", "--out", out.toString(), "--backend", "cpu", "--inference-batches", "0", "--quiet"));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    @Test
    void perClassFiguresAddUpResumeKeepsThemAndTheHtmlHasTheTable() throws Exception {
        Path straight = dir.resolve("straight"), cut = dir.resolve("cut");
        CliRun a = CliRun.shearsCapturingSystemErr(prune(straight));
        assertEquals(0, a.code(), a.err());
        JsonNode r = JSON.readTree(straight.resolve("report.json").toFile());
        JsonNode pc = r.get("perClass");
        assertEquals(10, pc.size(), "every class of the test slice: " + pc);
        assertTrue(r.get("perClassNote").isNull(), r.get("perClassNote").toString());
        long rightBefore = 0, rightAfter = 0;
        boolean hurt = false;
        for (int c = 0; c < 10; c++) {
            JsonNode row = pc.get(c), b = row.get("before"), af = row.get("after");
            assertEquals(c, row.get("index").asInt());
            // the test slice's class counts, on both sides
            assertEquals(classCounts[c], b.get("total").asLong(), "class " + c + " before: " + row);
            assertEquals(classCounts[c], af.get("total").asLong(), "class " + c + " after: " + row);
            assertEquals((double) b.get("correct").asLong() / classCounts[c], b.get("accuracy").asDouble(), 1e-15);
            assertEquals(af.get("accuracy").asDouble() - b.get("accuracy").asDouble(), row.get("change").asDouble(), 1e-15);
            rightBefore += b.get("correct").asLong();
            rightAfter += af.get("correct").asLong();
            hurt |= b.get("correct").asLong() - af.get("correct").asLong() >= 2 && -100 * row.get("change").asDouble() > 1.0;
        }
        // the same passes as the overall figures: the classes' right answers add up to them exactly
        assertEquals(r.at("/before/accuracy").asDouble(), (double) rightBefore / TEST, 1e-15, "before: " + r.get("before"));
        assertEquals(r.at("/after/accuracy").asDouble(), (double) rightAfter / TEST, 1e-15, "after: " + r.get("after"));
        // the summary names the most hurt classes exactly when one lost more than 1 point and 2 images
        assertEquals(hurt, a.out().contains("most hurt: "), a.out());
        if (hurt) assertTrue(a.out().matches("(?s).*most hurt: \\S.* [-]\\d+\\.\\d pts \\(\\d+ -> \\d+ of \\d+\\).*"), a.out());

        // report.html: the chart and the table, rows sorted by the change (most lost first)
        String html = Files.readString(straight.resolve("report.html"));
        assertTrue(html.contains("<h2 id=\"per-class\">Accuracy per class</h2>"), "per-class section");
        assertTrue(html.contains("Change in accuracy per class, points"), "per-class chart");
        int table = html.indexOf("<table class=\"per-class\">");
        assertTrue(table > 0, "per-class table");
        String rows = html.substring(table, html.indexOf("</table>", table));
        List<Double> changes = new ArrayList<>();
        for (String line : rows.split("\n"))
            if (line.startsWith("<tr><td>")) {
                String[] cells = line.replace("</td></tr>", "").split("</td><td>");
                changes.add(Double.parseDouble(cells[cells.length - 1]));
            }
        assertEquals(10, changes.size(), rows);
        List<Double> sorted = new ArrayList<>(changes);
        Collections.sort(sorted);
        assertEquals(sorted, changes, "sorted by the change: " + rows);

        // stopped after epoch 1 and resumed: the same figures as in one go (the before pass ran in the first part)
        CliRun stop = CliRun.shearsCapturingSystemErr(prune(cut, "--stop-after-epoch", "1"));
        assertEquals(0, stop.code(), stop.err());
        CliRun resumed = CliRun.shearsCapturingSystemErr(prune(cut, "--resume"));
        assertEquals(0, resumed.code(), resumed.err());
        JsonNode rr = JSON.readTree(cut.resolve("report.json").toFile());
        assertEquals(pc, rr.get("perClass"), "resumed against one go");
        assertTrue(rr.get("perClassNote").isNull());
        assertEquals(a.out().contains("most hurt: "), resumed.out().contains("most hurt: "), resumed.out());
    }

    /** A checkpoint written before Shears kept the per-class counts still resumes; the report says why "before" is missing. */
    @Test
    void aResumedOlderCheckpointSaysWhyBeforeIsMissing() throws Exception {
        Path old = dir.resolve("old");
        CliRun stop = CliRun.shearsCapturingSystemErr(prune(old, "--stop-after-epoch", "1"));
        assertEquals(0, stop.code(), stop.err());
        Path ckpt = old.resolve("model.shears"), copy = dir.resolve("old.shears");
        Files.move(ckpt, copy);
        // the history as an older Shears wrote it: no perClass
        rewriteEntry(copy, ckpt, "training.json", t -> {
            try {
                ObjectNode o = (ObjectNode) JSON.readTree(t);
                assertNotNull(((ObjectNode) o.get("history")).remove("perClass"), "the new checkpoint keeps them: " + t);
                return JSON.writeValueAsString(o);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        CliRun resumed = CliRun.shearsCapturingSystemErr(prune(old, "--resume"));
        assertEquals(0, resumed.code(), resumed.err());
        JsonNode r = JSON.readTree(old.resolve("report.json").toFile());
        String note = r.get("perClassNote").asText();
        assertTrue(note.startsWith("accuracy per class before the run is not in the checkpoint this run resumed from"), note);
        long right = 0;
        for (JsonNode row : r.get("perClass")) {
            assertTrue(row.get("before").isNull() && row.get("change").isNull(), row.toString());
            assertEquals(classCounts[row.get("index").asInt()], row.at("/after/total").asLong(), row.toString());
            right += row.at("/after/correct").asLong();
        }
        assertEquals(10, r.get("perClass").size());
        assertEquals(r.at("/after/accuracy").asDouble(), (double) right / TEST, 1e-15);
        assertTrue(resumed.out().contains("per class: accuracy per class before the run is not in the checkpoint"), resumed.out());
        assertFalse(resumed.out().contains("most hurt"), resumed.out());
        assertTrue(Files.readString(old.resolve("report.html")).contains("is not in the checkpoint this run resumed from"));
    }

    /** Plain training starts from random weights: no "before", per class or overall; the after figures are there. */
    @Test
    void trainingHasAfterOnly() throws Exception {
        Path t = dir.resolve("train");
        CliRun run = CliRun.shearsCapturingSystemErr("train", "--model", "lenet-300-100", "--data", data.toString(), "--epochs", "1",
                "--out", t.toString(), "--backend", "cpu", "--quiet");
        assertEquals(0, run.code(), run.err());
        JsonNode r = JSON.readTree(t.resolve("report.json").toFile());
        assertTrue(r.get("before").isNull());
        assertTrue(r.get("perClassNote").isNull(), r.get("perClassNote").toString());
        long right = 0, total = 0;
        for (JsonNode row : r.get("perClass")) {
            assertTrue(row.get("before").isNull(), row.toString());
            right += row.at("/after/correct").asLong();
            total += row.at("/after/total").asLong();
        }
        assertEquals(TEST, total);
        assertEquals(r.at("/after/accuracy").asDouble(), (double) right / TEST, 1e-15);
    }

    private static void rewriteEntry(Path from, Path to, String name, java.util.function.UnaryOperator<String> edit) throws Exception {
        try (var in = new ZipFile(from.toFile()); var out = new ZipOutputStream(Files.newOutputStream(to))) {
            for (var e : Collections.list(in.entries())) {
                byte[] b = in.getInputStream(e).readAllBytes();
                if (e.getName().equals(name)) b = edit.apply(new String(b, StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8);
                out.putNextEntry(new ZipEntry(e.getName()));
                out.write(b);
                out.closeEntry();
            }
        }
    }
}
