package dev.shears.bench.gpu;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class CheckpointTest {

    @Test
    void eachWriteReplacesTheWholeFileThroughATemporaryOne(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("stage.json");
        Checkpoint.to(out).accept("{\"partial\": true, \"results\": [1, 2, 3]}");
        assertEquals("{\"partial\": true, \"results\": [1, 2, 3]}", Files.readString(out));
        Checkpoint.write(out, "{\"results\": [1]}");
        assertEquals("{\"results\": [1]}", Files.readString(out), "a shorter document leaves nothing of the longer one");
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "no temporary file is left");
        }
    }

    @Test
    void anUnwritableOutputNamesTheFile(@TempDir Path dir) {
        Path out = dir.resolve("no-such-folder").resolve("stage.json");
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> Checkpoint.write(out, "{}"));
        assertTrue(e.getMessage().contains(out.toString()), e.getMessage());
    }
}
