package dev.shears.core.fuzz;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Feeds damaged files to a loader and holds it to the quality bar: each case either loads (the
 * damage hit a byte that does not matter; then a sanity check runs on the result) or is refused
 * with one of the user-facing exception types the CLI maps to exit code 2, whose message names the
 * file. Anything else is a failure: another exception type (NullPointerException, an index out of
 * bounds, NegativeArraySizeException, a bare IllegalArgumentException), an error
 * (OutOfMemoryError from a huge declared size, StackOverflowError), a message without the file
 * name, or a case that runs past the time limit.
 *
 * <p>The limit is CPU time of the loading thread, so a loaded machine (a 2-core CI box, other
 * builds beside it) does not turn a slow case into a failure; wall time is capped at
 * {@value #WALL_FACTOR} times the limit so a case blocked on something other than the CPU still
 * ends.
 *
 * <p>Every case runs; {@link #assertClean()} then fails once, listing each failure class (type
 * and throwing frame) with its count and one example case, so one run shows all that is wrong.
 */
public final class CorruptionCampaign {
    /** Reads a file the way the CLI does; returns what it read, for the sanity check. */
    @FunctionalInterface
    public interface Loader {
        Object load(Path file) throws Exception;
    }

    private final Path dir;
    private final String extension;
    private final Loader loader;
    private final Consumer<Object> sanity;
    private final List<Class<? extends Throwable>> userFacing;
    private final Duration timeout;
    private final Map<String, List<String>> failures = new LinkedHashMap<>();
    /** Wall time a case may take, as a multiple of its CPU-time limit, before it counts as hung. */
    private static final int WALL_FACTOR = 10;
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private ExecutorService worker = newWorker();
    private int cases, loaded, refused;

    /**
     * @param dir        where the damaged files are written (a test's temporary folder)
     * @param extension  the file name ending the loader expects ({@code .onnx}, {@code .h5}, ...)
     * @param sanity     checks a loaded result (shapes consistent); throws an AssertionError if not
     * @param userFacing the exception types that count as a clear refusal
     */
    public CorruptionCampaign(Path dir, String extension, Loader loader, Consumer<Object> sanity,
                              Duration timeout, List<Class<? extends Throwable>> userFacing) {
        this.dir = dir;
        this.extension = extension;
        this.loader = loader;
        this.sanity = sanity;
        this.timeout = timeout;
        this.userFacing = List.copyOf(userFacing);
    }

    /** Runs every case of one seed file. */
    public void run(String seedName, List<Corruption> corruptions) {
        for (Corruption c : corruptions) runOne(seedName, c);
    }

    private void runOne(String seedName, Corruption c) {
        cases++;
        String caseName = seedName + "~" + cases + "~" + c.name(); // the number keeps a repeated mutation apart
        Path file = dir.resolve(caseName.replaceAll("[^A-Za-z0-9._=@~-]", "_") + extension);
        try {
            Files.write(file, c.bytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        AtomicLongArray thread = new AtomicLongArray(2); // the loading thread's id, and its CPU time at the start in ns
        Future<Object> result = worker.submit(() -> {
            thread.set(1, THREADS.getCurrentThreadCpuTime());
            thread.set(0, Thread.currentThread().threadId());
            return loader.load(file);
        });
        try {
            Object value = awaitWithinCpuLimit(result, thread);
            try {
                sanity.accept(value);
                loaded++;
            } catch (AssertionError e) {
                record("loaded an inconsistent result: " + e.getMessage(), caseName);
            }
        } catch (TimeoutException e) {
            result.cancel(true);
            worker.shutdownNow(); // the stuck thread is a daemon; a fresh worker runs the next case
            worker = newWorker();
            record("ran past " + timeout.toMillis() + " ms of CPU time (or " + WALL_FACTOR + "x that in wall time)", caseName);
        } catch (ExecutionException e) {
            judge(e.getCause(), file, caseName);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } finally {
            try {
                Files.deleteIfExists(file);
            } catch (IOException ignored) {
                // the temporary folder goes at the end of the test anyway
            }
        }
    }

    /**
     * Waits for a case until its thread has used {@link #timeout} of CPU time, or WALL_FACTOR times
     * that in wall time; throws TimeoutException past either.
     */
    private Object awaitWithinCpuLimit(Future<Object> result, AtomicLongArray thread)
            throws InterruptedException, ExecutionException, TimeoutException {
        long limitNs = timeout.toNanos();
        long wallEnd = System.nanoTime() + WALL_FACTOR * limitNs;
        long sliceMs = Math.max(1, timeout.toMillis() / 4);
        try {
            return result.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException slow) {
            while (System.nanoTime() < wallEnd) {
                long id = thread.get(0);
                long cpu = id == 0 ? 0 : THREADS.getThreadCpuTime(id) - thread.get(1);
                if (cpu >= limitNs) break;
                try {
                    return result.get(sliceMs, TimeUnit.MILLISECONDS);
                } catch (TimeoutException stillRunning) {
                    // look at the CPU time again
                }
            }
            throw slow;
        }
    }

    private void judge(Throwable t, Path file, String caseName) {
        boolean clear = userFacing.stream().anyMatch(k -> k.isInstance(t));
        if (!clear) {
            record(t.getClass().getName() + " at " + frame(t) + ": " + t.getMessage(), caseName);
        } else if (t.getMessage() == null || !t.getMessage().contains(file.getFileName().toString())) {
            record(t.getClass().getSimpleName() + " whose message does not name the file, thrown at " + frame(t) + ": " + t.getMessage(), caseName);
        } else {
            refused++;
        }
    }

    /** Where a throwable came from: its first frame in Shears' code, or its first frame. */
    private static String frame(Throwable t) {
        StackTraceElement[] st = t.getStackTrace();
        for (StackTraceElement e : st)
            if (e.getClassName().startsWith("dev.shears.") && !e.getClassName().startsWith("dev.shears.core.fuzz.")
                    && !e.getClassName().contains(".proto.")) // generated protobuf classes: the caller is the place to fix
                return e.getClassName().substring(e.getClassName().lastIndexOf('.') + 1) + "." + e.getMethodName() + ":" + e.getLineNumber();
        return st.length == 0 ? "?" : st[0].toString();
    }

    private void record(String failureClass, String caseName) {
        // group by kind and place, not by the exact message (which carries the case's file name and values)
        String key = failureClass.length() > 300 ? failureClass.substring(0, 300) + "..." : failureClass;
        String group = key.contains(": ") ? key.substring(0, key.indexOf(": ")) : key;
        failures.computeIfAbsent(group, g -> new ArrayList<>()).add(caseName + "  ->  " + key);
    }

    /** How many cases ran, loaded and were refused clearly, for the test's log. */
    public String summary() {
        return cases + " cases: " + loaded + " loaded, " + refused + " refused clearly, "
                + failures.values().stream().mapToInt(List::size).sum() + " failed";
    }

    /** Fails listing every failure class with its count and first example. */
    public void assertClean() {
        worker.shutdownNow();
        if (failures.isEmpty()) return;
        StringBuilder sb = new StringBuilder(summary()).append('\n');
        failures.forEach((group, examples) -> sb.append("  ").append(examples.size()).append(" x ").append(group)
                .append("\n      e.g. ").append(examples.get(0)).append('\n'));
        fail(sb.toString());
    }

    private static ExecutorService newWorker() {
        return Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "corruption-campaign");
            t.setDaemon(true);
            return t;
        });
    }
}
