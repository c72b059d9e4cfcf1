package dev.shears.cli;

import dev.shears.core.cpu.CpuBackend;
import dev.shears.pruning.checkpoint.Checkpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A real {@code shears prune} in a child JVM, stopped by SIGTERM ({@link Process#destroy} on Linux)
 * once its first epoch is saved: its stderr names the epoch it was in and the saved one, and prints
 * the command with {@code --resume}, which then finishes the run (removing the temporary file a
 * save killed outright would have left).
 */
class InterruptedRunCliTest {
    @TempDir Path dir;

    @Test
    void sigtermMidRunPrintsTheResumeCommandThatFinishesIt() throws Exception {
        // 2,000 images make an epoch long enough (a second or so on the CPU) to be caught in the middle of
        Path data = CliTest.fashionMnistSlice(dir.resolve("fmnist"), 2000, 200), out = dir.resolve("p");
        List<String> args = List.of("prune", "--model", "lenet-300-100", "--data", data.toString(), "--sparsity", "0.8", "--epochs", "5",
                "--out", out.toString(), "--backend", "cpu", "--inference-batches", "0");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), Shears.class.getName()));
        cmd.addAll(args);
        Path stderr = dir.resolve("stderr.txt");
        Process child = new ProcessBuilder(cmd).redirectError(stderr.toFile()).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        Path ckpt = out.resolve("model.shears");
        try {
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (!Files.exists(ckpt) && child.isAlive() && System.nanoTime() < deadline) Thread.sleep(10);
            assertTrue(Files.exists(ckpt), "the first epoch was saved: " + Files.readString(stderr));
            assertTrue(child.isAlive(), "the run is still going after its first save: " + Files.readString(stderr));
            child.destroy(); // SIGTERM
            assertTrue(child.waitFor(30, TimeUnit.SECONDS), "the child JVM stops on SIGTERM");
        } finally {
            child.destroyForcibly();
        }
        String err = Files.readString(stderr);
        Matcher m = Pattern.compile("interrupted (?:during|after) epoch (\\d+) of 5: (.*); continue with: shears (.*)").matcher(err);
        assertTrue(m.find(), "the interrupted run says where it was and how to continue: " + err);
        int epoch = Integer.parseInt(m.group(1));
        int saved;
        try (CpuBackend be = CpuBackend.create()) {
            Checkpoint c = Checkpoint.read(ckpt, be);
            assertTrue(c.partial(), "the run did not finish");
            saved = c.training().epoch();
        }
        assertTrue(saved >= 1 && saved <= epoch && epoch < 5, "interrupted in epoch " + epoch + " with epoch " + saved + " saved: " + err);
        assertTrue(m.group(2).contains("epoch " + saved) && m.group(2).contains(ckpt.toString()), "names the saved epoch and file: " + m.group(2));
        List<String> again = unquote(m.group(3));
        assertEquals(Interruption.withResume(args), again, "the same command line with --resume added");
        assertEquals("--resume", again.getLast());
        try (var files = Files.list(out)) {
            assertEquals(List.of("model.shears"), files.map(f -> f.getFileName().toString()).toList(), "no temporary file or report left behind");
        }

        // what a save killed outright (SIGKILL) leaves: the resumed run removes it, saying so
        Path stale = Files.writeString(out.resolve(".model.shears.5x0q2w.tmp"), "half a checkpoint");
        CliRun resumed = CliRun.shearsCapturingSystemErr(again.toArray(String[]::new));
        assertEquals(0, resumed.code(), resumed.err());
        assertTrue(resumed.err().contains("removed " + stale.toAbsolutePath() + ", a temporary file left by an interrupted save"), resumed.err());
        assertFalse(Files.exists(stale));
        assertTrue(resumed.err().contains("resuming at epoch " + (saved + 1) + " of 5"), resumed.err());
        assertFalse(resumed.err().contains("continue with:"), "a run that ends normally says nothing of the kind: " + resumed.err());
        assertTrue(Files.exists(out.resolve("report.json")));
        try (CpuBackend be = CpuBackend.create()) {
            Checkpoint done = Checkpoint.read(ckpt, be);
            assertFalse(done.partial());
            assertEquals(5, done.training().epoch());
        }
    }

    /** Splits a POSIX shell command line of plain and single-quoted words (what {@link Interruption#shellQuote} writes). */
    private static List<String> unquote(String line) {
        List<String> words = new ArrayList<>();
        StringBuilder w = new StringBuilder();
        boolean inWord = false, quoted = false, escaped = false;
        for (char c : line.strip().toCharArray()) {
            if (quoted) {
                if (c == '\'') quoted = false;
                else w.append(c);
            } else if (escaped) {
                w.append(c);
                escaped = false;
            } else if (c == '\'') {
                quoted = inWord = true;
            } else if (c == '\\') {
                escaped = inWord = true;
            } else if (c == ' ') {
                if (inWord) words.add(w.toString());
                w.setLength(0);
                inWord = false;
            } else {
                w.append(c);
                inWord = true;
            }
        }
        if (inWord) words.add(w.toString());
        return words;
    }
}
