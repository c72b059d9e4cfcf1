package dev.shears.cli;

import dev.shears.core.util.AtomicFiles;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Checks an output file option before any work is done, so that a mistyped path fails at once
 * with the option's name rather than after a model was loaded or a benchmark ran.
 */
final class OutputFile {
    private OutputFile() {}

    /**
     * Refuses a path that is an existing folder (a file cannot be moved over it), or one below a
     * file (x.npy/y.npy: the folder cannot be created).
     */
    static void requireFile(Path file, String option) {
        if (Files.isDirectory(file))
            throw new UserError(option + " " + file + " is a folder; give a file name (the file is written there atomically)");
        Path blocker = AtomicFiles.fileOnTheWay(file);
        if (blocker != null) throw new UserError(option + " " + file + ": " + blocker + " is a file, not a folder");
    }
}
