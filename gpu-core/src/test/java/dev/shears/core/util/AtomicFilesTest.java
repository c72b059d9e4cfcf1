package dev.shears.core.util;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

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

    private List<Path> temporaryFiles() throws Exception {
        try (var files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".tmp")).toList();
        }
    }

    /**
     * What the shutdown hook does on Ctrl-C: the temporary file of a write in flight is deleted,
     * the target keeps its previous content, and the interrupted write cannot then finish the move.
     * A finished output is never touched.
     */
    @Test void theShutdownCleanupDeletesTheTemporaryFileOfAWriteInFlightOnly() throws Exception {
        Path done = dir.resolve("report.json");
        AtomicFiles.writeString(done, "finished");
        Path out = dir.resolve("model.shears");
        Files.writeString(out, "old");
        CountDownLatch writing = new CountDownLatch(1), release = new CountDownLatch(1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread writer = new Thread(() -> {
            try {
                AtomicFiles.write(out, o -> {
                    o.write("half of the new".getBytes(StandardCharsets.UTF_8));
                    o.flush();
                    writing.countDown();
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        throw new java.io.InterruptedIOException();
                    }
                });
            } catch (Throwable t) {
                failure.set(t);
            }
        });
        writer.start();
        try {
            assertTrue(writing.await(30, TimeUnit.SECONDS), "the write started");
            List<Path> tmp = temporaryFiles();
            assertEquals(1, tmp.size(), "one temporary file while writing: " + tmp);
            assertTrue(tmp.getFirst().getFileName().toString().startsWith(".model.shears."), tmp.toString());
            assertEquals(1, AtomicFiles.deleteInFlight());
            assertEquals(List.of(), temporaryFiles());
            assertEquals("old", Files.readString(out), "the target is untouched");
        } finally {
            release.countDown();
            writer.join(30_000);
        }
        assertInstanceOf(java.io.UncheckedIOException.class, failure.get(), "the interrupted write cannot complete");
        assertEquals("old", Files.readString(out));
        assertEquals("finished", Files.readString(done), "a finished output is never deleted");
        assertEquals(0, AtomicFiles.deleteInFlight(), "nothing left in flight");
        try (var files = Files.list(dir)) {
            assertEquals(Set.of(done, out), Set.copyOf(files.toList()));
        }
    }

    /** The same in a real JVM killed during a write (SIGTERM, which runs the shutdown hooks as Ctrl-C's SIGINT does). */
    @Test void aJvmKilledDuringAWriteLeavesNoTemporaryFile() throws Exception {
        Path out = dir.resolve("model.shears");
        Files.writeString(out, "old");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                AtomicFilesInFlightMain.class.getName(), out.toString()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            var stdout = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            assertEquals("in flight", stdout.readLine(), "the child started its write");
            assertEquals(1, temporaryFiles().size(), "its temporary file exists while it writes");
            p.destroy(); // SIGTERM on Linux
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), "the child exits");
        } finally {
            p.destroyForcibly();
        }
        assertEquals(List.of(), temporaryFiles(), "the shutdown hook deleted the temporary file");
        assertEquals("old", Files.readString(out), "the previous content is intact");
    }

    @Test void leftoversAreTheTargetsUnfinishedTemporaryFilesOnly() throws Exception {
        Path out = dir.resolve("model.shears");
        AtomicFiles.writeString(out, "done");
        Path stale = Files.writeString(dir.resolve(".model.shears.3k9x1q.tmp"), "half");
        Files.writeString(dir.resolve(".report.json.3k9x1q.tmp"), "another target's");
        Files.writeString(dir.resolve(".model.shears.tmp"), "no random part: not one of ours");
        Files.writeString(dir.resolve("model.shears.3k9x1q.tmp"), "no leading dot: not one of ours");
        assertEquals(List.of(stale.toAbsolutePath()), AtomicFiles.leftovers(out));
        assertEquals(List.of(), AtomicFiles.leftovers(dir.resolve("missing/model.shears")), "a missing folder has none");
        // a write in flight is not a leftover: its temporary file is about to become the target
        CountDownLatch writing = new CountDownLatch(1), release = new CountDownLatch(1);
        Thread t = Thread.ofPlatform().start(() -> AtomicFiles.write(out, o -> {
            writing.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                throw new java.io.IOException(e);
            }
            o.write(1);
        }));
        assertTrue(writing.await(10, TimeUnit.SECONDS));
        try {
            assertEquals(List.of(stale.toAbsolutePath()), AtomicFiles.leftovers(out));
        } finally {
            release.countDown();
            t.join();
        }
    }
}
