package dev.shears.cli;

import dev.shears.core.util.AtomicFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Checks an output file option before any work is done, so that a mistyped path fails at once
 * with the option's name rather than after a model was loaded or a benchmark ran.
 */
final class OutputFile {
    private OutputFile() {}

    /**
     * Refuses a path that is an existing folder (a file cannot be moved over it), one below a
     * file (x.npy/y.npy: the folder cannot be created), or one in a folder that cannot be written.
     */
    static void requireFile(Path file, String option) {
        if (Files.isDirectory(file))
            throw new UserError(option + " " + file + " is a folder; give a file name (the file is written there atomically)");
        Path blocker = AtomicFiles.fileOnTheWay(file);
        if (blocker != null) throw new UserError(option + " " + file + ": " + blocker + " is a file, not a folder");
        Path parent = file.toAbsolutePath().normalize().getParent();
        if (parent != null) requireWritableFolder(parent, option + " " + file);
    }

    /**
     * Refuses a folder (or, where it does not exist yet, the nearest folder above it, where it
     * would be created) in which no file can be created, before any work: the output was
     * written only at the end, so a prune into a read-only folder trained a whole epoch and a
     * bench ran its whole sweep before failing. Tries it by creating and deleting an empty file:
     * permission bits do not tell (root may write past them, a read-only mount or /proc not).
     *
     * @param what how the error names the path, e.g. "--out runs/p90"
     */
    static void requireWritableFolder(Path folder, String what) {
        Path dir = folder.toAbsolutePath().normalize();
        while (dir != null && !Files.exists(dir)) dir = dir.getParent();
        if (dir == null || !Files.isDirectory(dir)) return; // a file on the way: the callers say that themselves
        Path probe = null;
        try {
            probe = Files.createTempFile(dir, ".shears-write-check", ".tmp");
        } catch (IOException e) {
            throw new UserError(what + ": cannot write in " + dir + " (" + AtomicFiles.reason(e) + "); choose a folder you can write to");
        } finally {
            if (probe != null)
                try {
                    Files.deleteIfExists(probe);
                } catch (IOException ignored) {
                    // it was created, so the folder is writable; a leftover empty probe is harmless
                }
        }
    }
}
