package dev.shears.cli;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static dev.shears.cli.CliRun.shears;
import static org.junit.jupiter.api.Assertions.*;

/**
 * An output in a folder that cannot be written is refused before any work, as a usage error (2)
 * naming the option, the folder and why. Before, export and predict failed after the work with
 * "cannot write X: /dir/.X.1x2y.tmp" (the reason lost, a temporary name instead), exit 1, bench
 * after its whole sweep, and prune after a whole epoch of training.
 */
class UnwritableOutputCliTest {
    static final String MODEL = OutputPathsCliTest.LINEAR.resolve("model.onnx").toString();

    /**
     * A folder no file can be created in: a read-only temporary folder, or where that does not
     * stop this user (root), a folder of /sys; skipped, with the reason, where there is neither.
     */
    static Path unwritableFolder(Path tmp) throws IOException {
        Path ro = Files.createDirectories(tmp.resolve("read-only"));
        assertTrue(ro.toFile().setWritable(false, false));
        if (!canCreateIn(ro)) return ro;
        Path sys = Path.of("/sys/kernel");
        if (Files.isDirectory(sys) && !canCreateIn(sys)) return sys;
        Assumptions.abort("no folder here refuses new files to this user (root, and no /sys)");
        return null;
    }

    private static boolean canCreateIn(Path dir) {
        try {
            Files.delete(Files.createTempFile(dir, "probe", ".tmp"));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    @Test void everyCommandRefusesAnUnwritableOutputFolderBeforeItsWork(@TempDir Path tmp) throws Exception {
        Path ro = unwritableFolder(tmp);
        String[][] runs = {
                {"export", "--model", MODEL, "--format", "onnx", "--out", ro.resolve("m.onnx").toString()},
                {"export", "--model", MODEL, "--format", "keras", "--out", ro.resolve("sub/m.keras").toString()},
                {"predict", "--model", MODEL, "--input", OutputPathsCliTest.LINEAR.resolve("test_data_set_0/input_0.pb").toString(),
                        "--output", ro.resolve("y.npy").toString(), "--backend", "cpu"},
                {"bench", "sparse", "--shape", "8x8", "--sparsity", "0.5", "--batch", "1", "--quick", "--json", ro.resolve("b.json").toString()},
                // the data folder does not exist: a run that got past the --out check would fail on it instead
                {"prune", "--model", MODEL, "--data", tmp.resolve("no-data").toString(), "--sparsity", "0.5", "--out", ro.resolve("run").toString()},
                {"train", "--model", "lenet-300-100", "--data", tmp.resolve("no-data").toString(), "--epochs", "1", "--out", ro.toString()},
                {"demo", "--data", tmp.resolve("no-data").toString(), "--out", ro.resolve("demo").toString()}};
        try {
            for (String[] args : runs) {
                CliRun r = shears(args);
                String cmd = String.join(" ", args);
                assertEquals(2, r.code(), cmd + ": " + r.err());
                assertTrue(r.err().contains(": cannot write in " + ro + " ("), cmd + ": " + r.err());
                assertTrue(r.err().contains("choose a folder you can write to"), r.err());
                assertFalse(r.err().contains(".tmp"), "no temporary file names: " + r.err());
                assertFalse(r.err().contains("bench sparse: 8x8"), "refused before the sweep: " + r.err());
                assertFalse(r.err().contains("predict: ["), "refused before the forward pass: " + r.err());
                assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
            }
        } finally {
            ro.toFile().setWritable(true, false);
        }
    }

    @Test void aWritableFolderLeavesNoTraceOfTheCheck(@TempDir Path tmp) throws Exception {
        CliRun r = shears("export", "--model", MODEL, "--format", "onnx", "--out", tmp.resolve("new/m.onnx").toString());
        assertEquals(0, r.code(), r.err());
        try (var s = Files.list(tmp.resolve("new"))) {
            assertEquals(java.util.List.of(tmp.resolve("new/m.onnx")), s.toList());
        }
        try (var s = Files.list(tmp)) {
            assertEquals(java.util.List.of(tmp.resolve("new")), s.toList());
        }
    }
}
