package dev.shears.core.util;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Writes output files so that a reader never sees half a file and an input is never overwritten:
 * the bytes go to a temporary file in the target's folder, which is then moved over the target.
 * A Ctrl-C (SIGINT) or SIGTERM during a write runs only shutdown hooks, not the write's cleanup:
 * one hook deletes the temporary files of the writes then in flight, so none is left beside the
 * output (the target itself keeps its previous content, since the move never happened).
 */
public final class AtomicFiles {
    private AtomicFiles() {}

    /**
     * The temporary files of the writes under way: added once created, removed after the move (or
     * the failed write's own cleanup), so it never holds a target or a finished output's path.
     */
    private static final Set<Path> IN_FLIGHT = ConcurrentHashMap.newKeySet();

    /** The shutdown hook, registered when the first write touches this class ({@link #ensure}). */
    private static final class Hook {
        static {
            try {
                Runtime.getRuntime().addShutdownHook(new Thread(AtomicFiles::deleteInFlight, "shears-atomic-files-cleanup"));
            } catch (IllegalStateException e) {
                // the JVM is already shutting down: a write started now has no hook to clean up after it
            }
        }

        static void ensure() {}
    }

    /**
     * What the shutdown hook does: deletes the temporary file of every write in flight; how many
     * it deleted. The writes themselves then fail at their move (their file is gone) and leave the
     * target as it was. Package-private for tests.
     */
    static int deleteInFlight() {
        int deleted = 0;
        for (Path tmp : IN_FLIGHT)
            try {
                if (Files.deleteIfExists(tmp)) deleted++;
                IN_FLIGHT.remove(tmp);
            } catch (IOException | RuntimeException e) {
                // shutting down: nothing to report to, and the other files still deserve their try
            }
        return deleted;
    }

    /**
     * The nearest existing folder above {@code target} when that is a file instead (x.npy for
     * x.npy/y.npy, whose folder then cannot be created), else null: createDirectories would say
     * only its path. Commands check it before any work (the CLI's OutputFile); writes check it again.
     */
    public static Path fileOnTheWay(Path target) {
        for (Path up = target.toAbsolutePath().normalize().getParent(); up != null; up = up.getParent())
            if (Files.exists(up)) return Files.isDirectory(up) ? null : up;
        return null;
    }

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
        Path blocker = fileOnTheWay(abs);
        if (blocker != null) throw new IllegalArgumentException("cannot write " + target + ": " + blocker + " is a file, not a folder");
        try {
            Files.createDirectories(dir);
            Hook.ensure(); // before the temporary file exists, so none goes unwatched
            Path tmp = newTempFile(dir, abs.getFileName().toString());
            IN_FLIGHT.add(tmp);
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
                try {
                    Files.deleteIfExists(tmp); // only left when the write or the move failed
                } finally {
                    IN_FLIGHT.remove(tmp);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + target + ": " + reason(e) + " in " + dir, e);
        }
    }

    /**
     * Why a file operation failed, in words: a {@link java.nio.file.FileSystemException}'s message
     * is often only the path it failed on (here a temporary name the user never chose), as in
     * "cannot write /data/out.onnx: /data/.out.onnx.1x2y.tmp", which hid "permission denied".
     */
    public static String reason(IOException e) {
        if (e instanceof java.nio.file.AccessDeniedException) return "permission denied";
        if (e instanceof java.nio.file.NoSuchFileException) return "no such file or folder";
        if (e instanceof java.nio.file.FileSystemException f && f.getReason() != null) return f.getReason().strip();
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
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

    /**
     * Temporary files of earlier writes of {@code target} that never finished: a write killed
     * outright (SIGKILL, a power cut), or one that began while the JVM was already running its
     * shutdown hooks, leaves its {@code .NAME.RANDOM.tmp} beside the target. Readers never look at
     * them; a command that writes {@code target} again may remove them (call it only when no other
     * process writes the same target, since its write in flight has such a file too).
     */
    public static List<Path> leftovers(Path target) {
        Path abs = target.toAbsolutePath().normalize();
        Path dir = abs.getParent();
        if (dir == null || !Files.isDirectory(dir)) return List.of();
        String prefix = "." + abs.getFileName() + ".";
        try (var files = Files.list(dir)) {
            return files.filter(f -> {
                String n = f.getFileName().toString();
                return n.startsWith(prefix) && n.endsWith(".tmp") && n.length() > prefix.length() + 4
                        && n.substring(prefix.length(), n.length() - 4).chars().allMatch(c -> Character.isLetterOrDigit(c))
                        && !IN_FLIGHT.contains(f) && Files.isRegularFile(f);
            }).sorted().toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    public static void writeString(Path target, String content, Path... inputs) {
        write(target, out -> out.write(content.getBytes(java.nio.charset.StandardCharsets.UTF_8)), inputs);
    }
}
