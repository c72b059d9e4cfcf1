package dev.shears.core.util;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

class AtomicFilesTest {
    @TempDir Path dir;

    @Test void writesTheContentAndLeavesNoTemporaryFile() throws Exception {
        Path out = dir.resolve("report.json");
        AtomicFiles.writeString(out, "{\"a\": 1}");
        AtomicFiles.writeString(out, "{\"a\": 2}");
        assertEquals("{\"a\": 2}", Files.readString(out));
        try (var files = Files.list(dir)) {
            assertEquals(java.util.List.of(out), files.toList(), "only the output is left");
        }
    }

    @Test void refusesToWriteOverAnInputAndKeepsIt() throws Exception {
        Path in = dir.resolve("model.h5");
        Files.writeString(in, "input");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AtomicFiles.writeString(in, "output", in));
        assertTrue(e.getMessage().contains(in.toString()), e.getMessage());
        assertEquals("input", Files.readString(in));
    }

    @Test void aFolderAsTheTargetIsNamedAndNothingIsLeftBehind() throws Exception {
        Path folder = Files.createDirectories(dir.resolve("report.json"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AtomicFiles.writeString(folder, "{}"));
        assertEquals("cannot write " + folder + ": it is a folder; give a file name", e.getMessage());
        try (var files = Files.list(dir)) {
            assertEquals(java.util.List.of(folder), files.toList(), "no temporary file left beside it");
        }
    }

    @Test void aFileWhereAFolderShouldBeIsNamed() throws Exception {
        Path file = Files.writeString(dir.resolve("x.npy"), "data");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AtomicFiles.writeString(file.resolve("sub/y.npy"), "{}"));
        assertEquals("cannot write " + file.resolve("sub/y.npy") + ": " + file + " is a file, not a folder", e.getMessage());
        assertEquals("data", Files.readString(file));
        AtomicFiles.writeString(dir.resolve("a/b/c.json"), "{}"); // missing folders are still created
        assertEquals("{}", Files.readString(dir.resolve("a/b/c.json")));
    }

    /** Outputs get the permissions any new file gets here (the umask's), not the owner-only 0600 of a temp file. */
    @Test void outputsGetTheUsualPermissionsOfANewFile() throws Exception {
        Assumptions.assumeTrue(FileSystems.getDefault().supportedFileAttributeViews().contains("posix"), "needs a POSIX file system");
        Path plain = Files.createFile(dir.resolve("plain"));
        Set<PosixFilePermission> usual = Files.getPosixFilePermissions(plain);
        Path out = dir.resolve("report.html");
        AtomicFiles.writeString(out, "<html></html>");
        assertEquals(usual, Files.getPosixFilePermissions(out));
    }

    @Test void failureKeepsTheOldFileAndCleansUp() throws Exception {
        Path out = dir.resolve("model.shears");
        Files.writeString(out, "old");
        assertThrows(java.io.UncheckedIOException.class, () -> AtomicFiles.write(out, o -> {
            o.write(1);
            throw new java.io.IOException("disk full");
        }));
        assertEquals("old", Files.readString(out));
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "the temporary file is removed");
        }
    }
}
