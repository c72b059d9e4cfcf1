package dev.shears.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static dev.shears.cli.CliRun.shears;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Output paths that cannot be used are refused before any work, with the option's name, and
 * never replace an input: bench's --json over its --model, a folder given as an output file.
 */
class OutputPathsCliTest {
    static final Path LINEAR = Path.of("../model-import/src/test/resources/onnx/pytorch-converted/test_Linear").toAbsolutePath().normalize();

    @Test void benchJsonOverTheModelIsRefusedAndTheModelKept(@TempDir Path dir) throws Exception {
        Path model = dir.resolve("model.onnx");
        Files.copy(LINEAR.resolve("model.onnx"), model);
        byte[] before = Files.readAllBytes(model);
        CliRun r = shears("bench", "sparse", "--model", model.toString(), "--json", model.toString(), "--quick");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--json") && r.err().contains("--model file"), r.err());
        assertArrayEquals(before, Files.readAllBytes(model), "bench must not write its JSON over the model it measures");
        // the same file reached by another spelling of the path
        r = shears("bench", "sparse", "--model", model.toString(), "--json", dir.resolve("sub/../model.onnx").toString(), "--quick");
        assertEquals(2, r.code(), r.err());
        assertArrayEquals(before, Files.readAllBytes(model));
    }

    @Test void benchRefusesABatchBelowOneAsAUsageError() {
        CliRun r = shears("bench", "sparse", "--shape", "8x8", "--batch", "0", "--quick");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--batch 0"), r.err());
        assertFalse(r.err().contains("bench sparse: 8x8"), "refused before the sweep starts: " + r.err());
    }

    @Test void aFolderGivenAsAnOutputFileIsNamedWithItsOption(@TempDir Path dir) throws Exception {
        Path folder = Files.createDirectories(dir.resolve("out.onnx"));
        CliRun r = shears("export", "--model", LINEAR.resolve("model.onnx").toString(), "--format", "onnx", "--out", folder.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--out " + folder + " is a folder"), r.err());
        assertFalse(r.err().contains(".tmp"), "no temporary file names in the message: " + r.err());

        Path npyFolder = Files.createDirectories(dir.resolve("y.npy"));
        r = shears("predict", "--model", LINEAR.resolve("model.onnx").toString(), "--input",
                LINEAR.resolve("test_data_set_0/input_0.pb").toString(), "--output", npyFolder.toString(), "--backend", "cpu");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--output " + npyFolder + " is a folder"), r.err());

        Path jsonFolder = Files.createDirectories(dir.resolve("b.json"));
        r = shears("bench", "sparse", "--shape", "8x8", "--sparsity", "0.5", "--batch", "1", "--quick", "--json", jsonFolder.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--json " + jsonFolder + " is a folder"), r.err());
        try (var s = Files.list(dir)) {
            assertEquals(3, s.count(), "nothing else was written");
        }
    }

    @Test void aRunsOutThatIsAFileIsCalledOne(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("pruned.onnx"), "not a folder");
        UserError e = assertThrows(UserError.class, () -> RunSupport.prepareOutDir(file));
        assertEquals("--out " + file + " is a file; --out takes a folder (it receives model.shears, report.json and report.html)", e.getMessage());
        assertEquals("not a folder", Files.readString(file));
        RunSupport.prepareOutDir(dir.resolve("new/run"));
        assertTrue(Files.isDirectory(dir.resolve("new/run")));
    }

    @Test void anOutputBelowAFileIsNamedByEveryCommand(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("x.npy"), "data");
        String model = LINEAR.resolve("model.onnx").toString();
        String[][] runs = {
                {"export", "--model", model, "--format", "onnx", "--out", file.resolve("m.onnx").toString()},
                {"export", "--model", model, "--format", "keras", "--out", file.resolve("m.h5").toString()},
                {"export", "--model", model, "--format", "keras", "--out", file.resolve("m.keras").toString()},
                {"predict", "--model", model, "--input", LINEAR.resolve("test_data_set_0/input_0.pb").toString(),
                        "--output", file.resolve("y.npy").toString(), "--backend", "cpu"},
                {"bench", "sparse", "--shape", "8x8", "--quick", "--json", file.resolve("b.json").toString()}};
        for (String[] args : runs) {
            CliRun r = shears(args);
            assertEquals(2, r.code(), String.join(" ", args) + ": " + r.err());
            assertTrue(r.err().contains(file + " is a file, not a folder"), r.err());
            assertFalse(r.err().contains("cannot write: cannot write"), r.err());
        }
        assertEquals("data", Files.readString(file));
    }

    @Test void anOnnxExportNamedLikeAnotherFormatIsRefused(@TempDir Path dir) throws Exception {
        String model = LINEAR.resolve("model.onnx").toString();
        for (String name : new String[]{"m.h5", "m.keras", "m.shears", "m.npy"}) {
            CliRun r = shears("export", "--model", model, "--format", "onnx", "--out", dir.resolve(name).toString());
            assertEquals(2, r.code(), r.err());
            assertTrue(r.err().contains("with --format onnx name it .onnx"), r.err());
            assertFalse(Files.exists(dir.resolve(name)));
        }
        assertEquals(0, shears("export", "--model", model, "--format", "onnx", "--out", dir.resolve("m.onnx").toString()).code());
        assertEquals(0, shears("export", "--model", model, "--format", "onnx", "--out", dir.resolve("m.bin").toString()).code());
    }

    @Test void predictChecksItsOutputNameBeforeRunningTheModel(@TempDir Path dir) {
        // the input does not exist: an output name checked first is the error the user sees
        CliRun r = shears("predict", "--model", LINEAR.resolve("model.onnx").toString(), "--input", dir.resolve("missing.npy").toString(),
                "--output", dir.resolve("y.txt").toString(), "--backend", "cpu");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--output") && r.err().contains(".npy or .pb"), r.err());
    }

    /**
     * The checks that need no model come before the model (or the data) is loaded: the model here
     * is not a readable file, so a refusal that names the option proves nothing was loaded first
     * (a load would have failed on the file instead).
     */
    @Test void argumentChecksComeBeforeTheModelAndTheDataLoad(@TempDir Path dir) throws Exception {
        Path broken = Files.writeString(dir.resolve("model.shears"), "not a checkpoint");
        Path brokenOnnx = Files.writeString(dir.resolve("model.onnx"), "not a model");
        // export: --out is the --model file, named as such, for either format (its name would fail the name checks too)
        for (String format : new String[] {"onnx", "keras"}) {
            CliRun r = shears("export", "--model", broken.toString(), "--format", format, "--out", broken.toString());
            assertEquals(2, r.code(), r.err());
            assertTrue(r.err().contains("--out " + broken + " is an input of this run (the --model file)"), r.err());
            assertEquals("not a checkpoint", Files.readString(broken));
        }
        // export: an ONNX name read as another format, and a folder on the way, before the model loads
        CliRun r = shears("export", "--model", brokenOnnx.toString(), "--format", "onnx", "--out", dir.resolve("m.h5").toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("has extension '.h5'"), r.err());
        r = shears("export", "--model", brokenOnnx.toString(), "--format", "onnx", "--out", broken.resolve("x.onnx").toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains(broken + " is a file, not a folder"), r.err());
        // predict: the --model file as --output
        Path npyModel = Files.writeString(dir.resolve("m.pb"), "x");
        r = shears("predict", "--model", brokenOnnx.toString(), "--input", npyModel.toString(), "--output", brokenOnnx.toString(), "--backend", "cpu");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--output " + brokenOnnx), r.err());
        // prune, train, eval: the --model and --out checks before the data loads (this --data does not exist)
        String noData = dir.resolve("no-such-data").toString();
        r = shears("prune", "--model", broken.toString(), "--data", noData, "--sparsity", "0.5", "--out", dir.toString(), "--backend", "cpu");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains(broken + " is an input of this run (the --model file)"), r.err());
        r = shears("train", "--model", "lenet-300-100", "--data", noData, "--out", broken.toString(), "--backend", "cpu");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--out " + broken + " is a file"), r.err());
        r = shears("train", "--model", dir.resolve("missing.shears").toString(), "--data", noData, "--out", dir.resolve("run").toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("missing.shears: no such file"), r.err());
        r = shears("eval", "--model", "lenet-3000", "--data", noData, "--backend", "cpu");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--model lenet-3000: not a file and not a built-in architecture"), r.err());
        // eval: a mistyped --data before the backend opens (without a GPU, --backend cuda would fail first)
        r = shears("eval", "--model", "lenet-300-100", "--data", noData, "--backend", "cuda");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--data " + noData + ": no such folder"), r.err());
        assertFalse(Files.exists(dir.resolve("run")), "nothing was created");
    }
}
