package dev.shears.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class ProgressTest {

    /** Decided by where stderr goes, not by whether there is a console (stdin/stdout). */
    @Test void stderrIsATerminalOnlyWhenItsLinkPointsToOne(@TempDir Path dir) throws Exception {
        Path pts = Files.createSymbolicLink(dir.resolve("pts"), Path.of("/dev/pts/3"));
        Path tty = Files.createSymbolicLink(dir.resolve("tty"), Path.of("/dev/tty1"));
        Path log = Files.createSymbolicLink(dir.resolve("log"), dir.resolve("run.log"));
        Path pipe = Files.createSymbolicLink(dir.resolve("pipe"), Path.of("pipe:[123456]"));
        assertTrue(Progress.stderrIsTerminal(pts));
        assertTrue(Progress.stderrIsTerminal(tty));
        assertFalse(Progress.stderrIsTerminal(log), "stderr redirected to a file");
        assertFalse(Progress.stderrIsTerminal(pipe), "stderr piped");
    }

    @Test void aFileGetsWholeLinesWithoutCarriageReturns() {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        long[] now = {10_000_000_000L}; // nanoTime-like: far from 0, as the first update is drawn
        Progress p = new Progress(new PrintStream(b, true, StandardCharsets.UTF_8), false, false, () -> now[0]);
        for (int i = 1; i <= 100; i++) { p.update("epoch 1/1", i, 100, "loss 0.5"); now[0] += 10_000_000L; } // 1 s in all
        p.line("epoch 1: done");
        String out = b.toString(StandardCharsets.UTF_8);
        assertFalse(out.contains("\r"), out);
        assertEquals(2, out.lines().count(), "the first update, then nothing until 5 s have passed, then the line: " + out);
    }

    /** A signal's message (Interruption) starts on a line of its own below the bar, and threads still decoding draw nothing after it. */
    @Test void interruptedEndsTheBarAndDrawsNothingAfter() {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        long[] now = {10_000_000_000L};
        Progress p = new Progress(new PrintStream(b, true, StandardCharsets.UTF_8), false, true, () -> now[0]);
        p.update("decode images", 412, 2000, "images");
        p.interrupted();
        String ended = b.toString(StandardCharsets.UTF_8);
        assertTrue(ended.startsWith("\rdecode images [#####") && ended.endsWith("412/2000 images\n"), "the bar is kept, ended by a line break: " + ended);
        now[0] += 1_000_000_000L;
        p.update("decode images", 413, 2000, "images");
        p.update("decode images", 2000, 2000, "images");
        p.line("data: ...");
        assertEquals(ended, b.toString(StandardCharsets.UTF_8), "nothing is drawn after the interruption");

        // no bar on the screen (a file, or nothing drawn yet): nothing to end
        ByteArrayOutputStream f = new ByteArrayOutputStream();
        Progress file = new Progress(new PrintStream(f, true, StandardCharsets.UTF_8), false, false, () -> now[0]);
        file.update("decode images", 412, 2000, "images");
        String before = f.toString(StandardCharsets.UTF_8);
        file.interrupted();
        assertEquals(before, f.toString(StandardCharsets.UTF_8));
    }

    @Test void aTerminalGetsTheBarRedrawnInPlace() {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        Progress p = new Progress(new PrintStream(b, true, StandardCharsets.UTF_8), false, true);
        p.update("epoch 1/1", 1, 100, "loss 0.5");
        assertTrue(b.toString(StandardCharsets.UTF_8).startsWith("\repoch 1/1 ["), b.toString(StandardCharsets.UTF_8));
    }
}
