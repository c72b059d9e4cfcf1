package dev.shears.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** A second 'shears demo' without --out goes to the next folder that holds no run, never over one. */
class DemoNextFreeTest {
    @TempDir
    Path dir;

    @Test
    void aFolderWithoutARunIsUsedAsItIs() throws Exception {
        Path base = dir.resolve("demo");
        assertEquals(base, DemoCommand.nextFree(base), "missing");
        Files.createDirectories(base);
        Files.writeString(base.resolve("notes.txt"), "mine");
        assertEquals(base, DemoCommand.nextFree(base), "only other files");
    }

    @Test
    void aRunOrADenseRunMovesTheDemoToTheNextNumber() throws Exception {
        Path base = dir.resolve("demo");
        Files.createDirectories(base.resolve("dense"));
        Files.writeString(base.resolve("dense").resolve("model.shears"), "x"); // phase 1 of an earlier demo
        assertEquals(dir.resolve("demo-2"), DemoCommand.nextFree(base));
        Files.createDirectories(dir.resolve("demo-2"));
        Files.writeString(dir.resolve("demo-2").resolve("report.json"), "{}");
        Files.writeString(dir.resolve("demo-3"), "a file, not a folder");
        assertEquals(dir.resolve("demo-4"), DemoCommand.nextFree(base));
    }
}
