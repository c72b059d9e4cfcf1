package dev.shears.core.util;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Writes output files so that a reader never sees half a file and an input is never overwritten:
 * the bytes go to a temporary file in the target's folder, which is then moved over the target.
 */
public final class AtomicFiles {
    private AtomicFiles() {}

    /** What writes the content. */
    @FunctionalInterface
    public interface Writer {
        void write(OutputStream out) throws IOException;
    }

    /**
     * Writes {@code target} atomically.
     *
     * @param inputs files this run read; writing over one of them is refused
     */
    public static void write(Path target, Writer writer, Path... inputs) {
        Path abs = target.toAbsolutePath().normalize();
        for (Path in : inputs) {
            if (in == null) continue;
            try {
                Path inAbs = in.toAbsolutePath().normalize();
                if (inAbs.equals(abs) || (Files.exists(in) && Files.exists(target) && Files.isSameFile(in, target)))
                    throw new IllegalArgumentException("refusing to write " + target + ": it is an input of this run; choose another output path");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        // a folder cannot be replaced by a file: say so, not the final move's error about a temporary name
        if (Files.isDirectory(abs)) throw new IllegalArgumentException("cannot write " + target + ": it is a folder; give a file name");
        Path dir = abs.getParent();
        // a file where a folder on the way should be: createDirectories would say only its path
        for (Path up = dir; up != null; up = up.getParent())
            if (Files.exists(up)) {
                if (!Files.isDirectory(up))
                    throw new IllegalArgumentException("cannot write " + target + ": " + up + " is a file, not a folder");
                break;
            }
        try {
            Files.createDirectories(dir);
            Path tmp = newTempFile(dir, abs.getFileName().toString());
            try {
                try (OutputStream out = new java.io.BufferedOutputStream(Files.newOutputStream(tmp), 1 << 16)) {
                    writer.write(out);
                }
                try {
                    Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
                }
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + target + ": " + e.getMessage(), e);
        }
    }

    /**
     * A new empty file beside the target. Not {@link Files#createTempFile}: that makes it owner-only
     * (0600), and the moved output would keep that, so a report could not be served or shared;
     * {@link Files#createFile} gives the permissions any new file gets (the umask's).
     */
    private static Path newTempFile(Path dir, String name) throws IOException {
        for (int attempt = 0; ; attempt++) {
            Path tmp = dir.resolve("." + name + "." + Long.toUnsignedString(java.util.concurrent.ThreadLocalRandom.current().nextLong(), 36) + ".tmp");
            try {
                return Files.createFile(tmp);
            } catch (java.nio.file.FileAlreadyExistsException e) {
                if (attempt == 100) throw e;
            }
        }
    }

    public static void writeString(Path target, String content, Path... inputs) {
        write(target, out -> out.write(content.getBytes(java.nio.charset.StandardCharsets.UTF_8)), inputs);
    }
}
