package dev.shears.cli;

import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * A progress bar on stderr: redrawn in place on a terminal, or one line every few seconds when
 * stderr is a file or pipe (CI logs), so long runs always show they are alive.
 */
public final class Progress {
    private final PrintWriter err; // flushed after every write: other output to the same stream stays in order
    private final boolean tty;
    private final boolean quiet;
    private final LongSupplier clock; // nanoseconds: System.nanoTime, or a test's
    private long lastDraw;
    private int lastLen;
    private boolean stopped; // interrupted by a signal: nothing more is drawn

    public Progress(PrintStream err, boolean quiet) {
        this(writer(err), quiet);
    }

    /** On a command's stderr writer (picocli's {@code spec.commandLine().getErr()}). */
    public Progress(PrintWriter err, boolean quiet) {
        this(err, quiet, System.getenv("CI") == null && stderrIsTerminal(Path.of("/proc/self/fd/2")), System::nanoTime);
    }

    Progress(PrintStream err, boolean quiet, boolean tty) {
        this(writer(err), quiet, tty, System::nanoTime);
    }

    /** With the clock (nanoseconds) that paces redraws; tests give their own. */
    Progress(PrintStream err, boolean quiet, boolean tty, LongSupplier clock) {
        this(writer(err), quiet, tty, clock);
    }

    private Progress(PrintWriter err, boolean quiet, boolean tty, LongSupplier clock) {
        this.err = err;
        this.quiet = quiet;
        this.tty = tty;
        this.clock = clock;
    }

    private static PrintWriter writer(PrintStream err) {
        return new PrintWriter(new OutputStreamWriter(err, err.charset()));
    }

    /**
     * Whether stderr (the link {@code fd2}, /proc/self/fd/2 on Linux) is a terminal. Not
     * {@code System.console()}: that looks at stdin and stdout, so {@code shears prune ... 2> log}
     * from a terminal redrew the bar ten times a second into the log file, carriage returns and all.
     * Where there is no /proc, the console decides as before.
     */
    static boolean stderrIsTerminal(Path fd2) {
        try {
            String target = Files.readSymbolicLink(fd2).toString();
            return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty") || target.equals("/dev/console");
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return System.console() != null;
        }
    }

    /** Draws "label [#####.....] done/total suffix". */
    public synchronized void update(String label, long done, long total, String suffix) {
        if (quiet || stopped) return;
        long now = clock.getAsLong();
        boolean finished = done >= total;
        if (!finished && now - lastDraw < (tty ? 100_000_000L : 5_000_000_000L)) return;
        lastDraw = now;
        int width = 28;
        int filled = total > 0 ? (int) Math.min(width, width * done / total) : width;
        String line = String.format(Locale.ROOT, "%s [%s%s] %d/%d %s", label, "#".repeat(filled), ".".repeat(width - filled), done, total, suffix);
        if (tty) {
            if (finished) { // erase the bar: the caller's summary line takes its place
                err.print("\r" + " ".repeat(Math.max(lastLen, line.length())) + "\r");
                lastLen = 0;
            } else {
                err.print("\r" + line + " ".repeat(Math.max(0, lastLen - line.length())));
                lastLen = line.length();
            }
        } else if (!finished) {
            err.println(line);
        }
        err.flush();
    }

    /** A line of its own (ends any bar in progress). */
    public synchronized void line(String text) {
        if (quiet || stopped) return;
        if (tty && lastLen > 0) { err.println(); lastLen = 0; }
        err.println(text);
        err.flush();
    }

    /**
     * A signal stops the command ({@link Interruption}, from its shutdown hook, while other threads may still be
     * drawing): the bar on a terminal is ended by a line break, so that what the hook prints next starts a line of its
     * own and the bar stays readable above it, and nothing is drawn after.
     */
    synchronized void interrupted() {
        stopped = true;
        if (tty && lastLen > 0) {
            err.println();
            lastLen = 0;
        }
        err.flush();
    }
}
