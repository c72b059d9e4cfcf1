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

    /**
     * SIGTERM while an image folder decodes: the run has not started (no hook of its own yet), and it said nothing at all;
     * now it names the split, how many images were decoded, and that nothing was saved, and leaves no --out folder.
     */
    @Test
    void sigtermWhileImagesDecodeSaysHowFarTheLoadGot() throws Exception {
        Path data = dir.resolve("pets");
        // 2,400 noisy 64 x 64 PNGs: a few seconds of decoding on two cores, long enough to be caught in the middle of
        java.util.Random random = new java.util.Random(5);
        for (String split : List.of("train", "test"))
            for (String c : List.of("cat", "dog", "eel")) {
                Path folder = Files.createDirectories(data.resolve(split).resolve(c));
                for (int i = 0; i < (split.equals("train") ? 800 : 20); i++) {
                    var img = new java.awt.image.BufferedImage(64, 64, java.awt.image.BufferedImage.TYPE_BYTE_GRAY);
                    for (int y = 0; y < 64; y++) for (int x = 0; x < 64; x++) img.getRaster().setSample(x, y, 0, random.nextInt(256));
                    assertTrue(javax.imageio.ImageIO.write(img, "png", folder.resolve(String.format("%04d.png", i)).toFile()));
                }
            }
        Path out = dir.resolve("pets-run");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), Shears.class.getName(),
                "train", "--model", "lenet-300-100", "--data", data.toString(), "--epochs", "1", "--out", out.toString(), "--backend", "cpu"));
        Path stderr = dir.resolve("pets-stderr.txt");
        Process child = new ProcessBuilder(cmd).redirectError(stderr.toFile()).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            long deadline = System.nanoTime() + 60_000_000_000L;
            // stderr is a file: the bar's first state is a line of its own, written when the first image is decoded
            while (!Files.readString(stderr).contains("decode images [") && child.isAlive() && System.nanoTime() < deadline) Thread.sleep(5);
            assertTrue(child.isAlive(), "still decoding: " + Files.readString(stderr));
            child.destroy(); // SIGTERM
            assertTrue(child.waitFor(30, TimeUnit.SECONDS), "the child JVM stops on SIGTERM");
        } finally {
            child.destroyForcibly();
        }
        String err = Files.readString(stderr);
        Matcher m = Pattern.compile("\ninterrupted while loading " + Pattern.quote(data.toString()) + " \\(train\\): (\\d+) of 2400 images decoded;"
                + " nothing was saved yet\n").matcher(err);
        assertTrue(m.find(), "names the split, how far its decoding got and that nothing was saved: " + err);
        assertTrue(Integer.parseInt(m.group(1)) < 2400, err);
        assertFalse(err.contains("data: " + data + " (train)"), "the split did not finish decoding: " + err);
        assertFalse(err.contains("error") || err.contains("Exception"), err);
        assertFalse(Files.exists(out), "nothing was written");
    }

    /**
     * SIGTERM during sensitivity's prune-and-evaluate passes (minutes on a real model): it said nothing; now it names the layer
     * and level it was on, how many evaluations were done, and that nothing was written (no --out folder, no recipe).
     */
    @Test
    void sigtermDuringSensitivitySaysTheLayerAndLevel() throws Exception {
        Path data = CliTest.fashionMnistSlice(dir.resolve("fm"), 10, 5000), model = dir.resolve("lenet5.shears");
        try (CpuBackend be = CpuBackend.create()) {
            new Checkpoint(dev.shears.core.nn.Architectures.create("lenet-5", dev.shears.core.tensor.Shape.of(1, 28, 28), 10).bind(be, 1), null, null)
                    .write(model);
        }
        Path out = dir.resolve("sens"), recipe = dir.resolve("sens.yaml");
        // LeNet-5's 5 layers x 15 sparsities over the slice's 2,000 test images: 76 evaluations, many seconds on two cores
        // (LeNet-300-100's 46 took about 1.5 s on an idle CI machine, and the run had finished before the signal came)
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), Shears.class.getName(),
                "sensitivity", "--model", model.toString(), "--data", data.toString(), "--backend", "cpu", "--out", out.toString(),
                "--write-recipe", recipe.toString(),
                "--sparsities", "0.3,0.35,0.4,0.45,0.5,0.55,0.6,0.65,0.7,0.75,0.8,0.85,0.9,0.95,0.98"));
        Path stderr = dir.resolve("sens-stderr.txt");
        Process child = new ProcessBuilder(cmd).redirectError(stderr.toFile()).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (!Files.readString(stderr).contains("evaluations (and the baseline)") && child.isAlive() && System.nanoTime() < deadline) Thread.sleep(5);
            Thread.sleep(300); // into the passes
            assertTrue(child.isAlive(), "still measuring: " + Files.readString(stderr));
            child.destroy(); // SIGTERM
            assertTrue(child.waitFor(30, TimeUnit.SECONDS), "the child JVM stops on SIGTERM");
        } finally {
            child.destroyForcibly();
        }
        String err = Files.readString(stderr);
        Matcher m = Pattern.compile("\ninterrupted while measuring the sensitivity of [^\n]*lenet[^\n]* on [^\n]*, at (the baseline"
                + " \\(nothing pruned\\)|(?:conv[12]|fc[123])/kernel pruned to \\d+%): (\\d+) of 76 evaluations done; nothing was written\n").matcher(err);
        assertTrue(m.find(), "names the layer and level, the evaluations done, and that nothing was written: " + err);
        int done = Integer.parseInt(m.group(2));
        assertTrue(done < 76 && (m.group(1).startsWith("the baseline") == (done == 0)), err);
        assertFalse(err.contains("Exception"), err);
        assertFalse(Files.exists(out) || Files.exists(recipe), "nothing was written");
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
