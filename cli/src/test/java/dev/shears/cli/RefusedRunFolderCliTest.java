package dev.shears.cli;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A prune refused because its recipe does not fit the model (a {@code params} pattern matching
 * no parameter, found only once the model is loaded) leaves no {@code --out} folder behind: not
 * the folder, not the folders above it that the run would have created; a folder that was there
 * before stays. (It used to leave the new folder empty.)
 */
class RefusedRunFolderCliTest {
    @TempDir static Path dir;
    static Path data, recipe;

    @BeforeAll
    static void write() throws Exception {
        data = CliTest.fashionMnistSlice(dir.resolve("fmnist"), 200, 100);
        recipe = dir.resolve("nothing.yaml");
        Files.writeString(recipe, """
                name: nothing
                epochs: 2
                batchSize: 64
                optimizer: {type: sgd, momentum: 0.9}
                learningRate:
                  - {type: constant, lr: 0.01, startEpoch: 0, endEpoch: 2}
                pruning:
                  - {type: gmp, initSparsity: 0.1, finalSparsity: 0.5, startEpoch: 0, endEpoch: 1, updateFrequency: 0.5, params: ['no_such_layer/kernel']}
                """);
    }

    private static CliRun prune(Path out) {
        return CliRun.shearsCapturingSystemErr("prune", "--model", "lenet-300-100", "--data", data.toString(), "--recipe", recipe.toString(),
                "--out", out.toString(), "--backend", "cpu", "--quiet");
    }

    @Test
    void aRecipeThatMatchesNothingLeavesNoFolder() {
        Path out = dir.resolve("runs").resolve("p");
        CliRun r = prune(out);
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("no_such_layer/kernel") && r.err().contains("matches no prunable parameter"), r.err());
        assertFalse(Files.exists(out), "no empty --out folder left: " + out);
        assertFalse(Files.exists(dir.resolve("runs")), "nor the folder above it, created for it");
    }

    @Test
    void aFolderThatWasThereStays() throws Exception {
        Path out = dir.resolve("mine");
        Files.createDirectories(out);
        CliRun r = prune(out);
        assertEquals(2, r.code(), r.err());
        assertTrue(Files.isDirectory(out), "the user's own (empty) folder is not removed");

        Path runs = dir.resolve("existing");
        Files.createDirectories(runs);
        r = prune(runs.resolve("new"));
        assertEquals(2, r.code(), r.err());
        assertFalse(Files.exists(runs.resolve("new")));
        assertTrue(Files.isDirectory(runs), "only what the run created is removed");
    }

    @Test
    void removeIfEmptyKeepsAFolderWithFiles() throws Exception {
        Path top = dir.resolve("made"), out = top.resolve("a");
        assertEquals(top.toAbsolutePath().normalize(), RunSupport.prepareOutDir(out));
        Files.writeString(out.resolve("model.shears"), "saved epoch");
        RunSupport.removeIfEmpty(out, top.toAbsolutePath().normalize());
        assertTrue(Files.exists(out.resolve("model.shears")), "a folder holding a saved epoch stays");
        Files.delete(out.resolve("model.shears"));
        RunSupport.removeIfEmpty(out, top.toAbsolutePath().normalize());
        assertFalse(Files.exists(top));
        Files.createDirectories(top);
        assertNull(RunSupport.prepareOutDir(top), "an existing folder was not created by the run");
    }

    @Test
    void aStartThatFailedBeforeItsFirstSaveTakesItsTeacherCopyAlong() throws Exception {
        Path top = dir.resolve("kd"), out = top.resolve("run");
        Path created = RunSupport.prepareOutDir(out);
        Files.writeString(out.resolve(TeacherModel.FILE), "the teacher this start wrote");
        RunSupport.removeFailedStart(out, created, false);
        assertTrue(Files.exists(out.resolve(TeacherModel.FILE)), "kept when a saved epoch may need it");
        RunSupport.removeFailedStart(out, created, true);
        assertFalse(Files.exists(top), "nothing can resume without a saved epoch: the teacher and the folders go");
    }
}
