package dev.shears.bench.gpu;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.function.Consumer;

/**
 * A GPU benchmark stage's output, rewritten after every row: {@code run-gpu.sh} stops a stage at
 * its time limit, and a stage that wrote its JSON only at the end lost every figure it had
 * measured. The checkpoints carry {@code "partial": true} (the final document does not), so
 * {@code compare.py} can say which figures are incomplete. Each write goes to a temporary file
 * that replaces the output in one rename, so a stage killed mid-write leaves the previous
 * checkpoint, never half a file.
 */
final class Checkpoint {
    private Checkpoint() {}

    /** The field a checkpoint document carries (true) and the final one lacks. */
    static final String PARTIAL = "partial";

    /** Writes {@code json} to {@code out} atomically (a temporary file beside it, then one rename). */
    static void write(Path out, String json) {
        Path abs = out.toAbsolutePath();
        Path tmp = abs.resolveSibling(abs.getFileName() + ".tmp");
        try {
            Files.writeString(tmp, json);
            Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the benchmark's checkpoint " + out + ": " + e.getMessage(), e);
        }
    }

    /** A checkpoint consumer writing to {@code out}, for the stages' {@code main}. */
    static Consumer<String> to(Path out) {
        return json -> write(out, json);
    }
}
