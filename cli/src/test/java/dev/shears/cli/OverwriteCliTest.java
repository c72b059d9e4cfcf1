package dev.shears.cli;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A fresh train, prune or demo into an {@code --out} folder that already holds a run is refused
 * (exit 2, naming the folder and the files) before any work, and leaves that run byte for byte as
 * it was; {@code --overwrite} replaces it; an empty folder is fine. On a 300-image slice of the
 * bundled Fashion-MNIST, one epoch a run.
 */
class OverwriteCliTest {
    @TempDir static Path dir;
    static Path data;

    @BeforeAll
    static void writeData() throws Exception {
        data = CliTest.fashionMnistSlice(dir.resolve("fmnist"), 300, 100);
    }

    private static CliRun train(Path out, String... extra) {
        var a = new java.util.ArrayList<>(java.util.List.of("train", "--model", "lenet-300-100", "--data", data.toString(), "--epochs", "1",
                "--out", out.toString(), "--backend", "cpu"));
        a.addAll(java.util.List.of(extra));
        return CliRun.shearsCapturingSystemErr(a.toArray(String[]::new));
    }

    private static CliRun prune(Path model, Path out, String... extra) {
        var a = new java.util.ArrayList<>(java.util.List.of("prune", "--model", model.toString(), "--data", data.toString(), "--sparsity", "0.5",
                "--epochs", "1", "--out", out.toString(), "--backend", "cpu", "--inference-batches", "0"));
        a.addAll(java.util.List.of(extra));
        return CliRun.shearsCapturingSystemErr(a.toArray(String[]::new));
    }

    @Test
    void aFinishedRunIsNotWrittenOverWithoutOverwrite() throws Exception {
        Path t = dir.resolve("t");
        Files.createDirectories(t); // an existing empty folder is fine
        CliRun first = train(t, "--seed", "1");
        assertEquals(0, first.code(), first.err());
        byte[] model = Files.readAllBytes(t.resolve("model.shears")), report = Files.readAllBytes(t.resolve("report.json"));

        CliRun again = train(t, "--seed", "2");
        assertEquals(2, again.code(), again.err());
        assertTrue(again.err().contains("--out " + t) && again.err().contains("a finished run")
                && again.err().contains("model.shears, report.json, report.html"), again.err());
        assertTrue(again.err().contains("another --out") && again.err().contains("--overwrite"), again.err());
        assertFalse(again.err().contains("epoch 1: train loss"), "refused before training: " + again.err());
        assertArrayEquals(model, Files.readAllBytes(t.resolve("model.shears")), "the finished run's model is left alone");
        assertArrayEquals(report, Files.readAllBytes(t.resolve("report.json")), "and its report");

        // prune into the same folder: the same refusal (the model it reads is elsewhere)
        Path dense = dir.resolve("dense.shears");
        Files.copy(t.resolve("model.shears"), dense);
        CliRun p = prune(dense, t);
        assertEquals(2, p.code(), p.err());
        assertTrue(p.err().contains("a finished run") && p.err().contains("--overwrite"), p.err());
        assertArrayEquals(model, Files.readAllBytes(t.resolve("model.shears")));

        // --resume and --overwrite contradict each other
        CliRun both = train(t, "--seed", "1", "--resume", "--overwrite");
        assertEquals(2, both.code(), both.err());
        assertTrue(both.err().contains("give one of them"), both.err());

        // --overwrite replaces the run with the prune run
        CliRun over = prune(dense, t, "--overwrite");
        assertEquals(0, over.code(), over.err());
        assertFalse(java.util.Arrays.equals(model, Files.readAllBytes(t.resolve("model.shears"))), "replaced");
        assertTrue(Files.readString(t.resolve("report.json")).contains("\"prune\""), "the new run's report");
    }

    @Test
    void anyOneOfTheOutputsIsProtectedAndOtherFilesDoNotCount() throws Exception {
        Path o = dir.resolve("o");
        Files.createDirectories(o);
        Files.writeString(o.resolve("notes.txt"), "mine");
        Files.writeString(o.resolve("report.html"), "<html>an earlier run's report</html>");
        CliRun r = train(o, "--quiet");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("a run's outputs (report.html)") && r.err().contains("replace it"), r.err());
        assertEquals("<html>an earlier run's report</html>", Files.readString(o.resolve("report.html")));

        Path n = dir.resolve("n");
        Files.createDirectories(n);
        Files.writeString(n.resolve("notes.txt"), "mine"); // nothing of a run's: nothing written over
        CliRun ok = train(n, "--quiet");
        assertEquals(0, ok.code(), ok.err());
        assertEquals("mine", Files.readString(n.resolve("notes.txt")));
    }

    @Test
    void demoRefusesAFolderHoldingARunOrADenseRun() throws Exception {
        Path d = dir.resolve("demo");
        Files.createDirectories(d.resolve("dense"));
        Files.writeString(d.resolve("dense").resolve("model.shears"), "an earlier dense model");
        CliRun r = CliRun.shearsCapturingSystemErr("demo", "--data", data.toString(), "--epochs", "2", "--out", d.toString(), "--backend", "cpu");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("dense model folder " + d.resolve("dense")), r.err());
        assertTrue(r.err().contains("--overwrite") && !r.err().contains("--resume"), "demo has no --resume to offer: " + r.err());
        assertFalse(r.err().contains("phase 1 of 2"), "refused before any work: " + r.err());
        assertEquals("an earlier dense model", Files.readString(d.resolve("dense").resolve("model.shears")));

        Path e = dir.resolve("demo2");
        Files.createDirectories(e);
        Files.writeString(e.resolve("report.json"), "{}");
        CliRun r2 = CliRun.shearsCapturingSystemErr("demo", "--data", data.toString(), "--epochs", "2", "--out", e.toString(), "--backend", "cpu");
        assertEquals(2, r2.code(), r2.err());
        assertTrue(r2.err().contains("--out " + e) && r2.err().contains("report.json"), r2.err());
        assertEquals("{}", Files.readString(e.resolve("report.json")));
    }
}
