package dev.shears.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.logging.Formatter;
import java.util.logging.Level;
import java.util.logging.LogRecord;

/**
 * How the library's System.Logger messages (java.util.logging here) read on stderr: one line,
 * "warning: ..." like the CLI's own "error: ...". The JDK's default format put a line of date,
 * class and method above each ("Nov 21, 2026 4:08:37 PM dev.shears.pruning.train.GmpTrainer
 * warnShortGroups"), which is for the developer, not for whoever runs {@code shears prune}.
 * A logged exception's stack trace follows only under {@code --verbose}.
 */
final class LogFormat extends Formatter {
    private final boolean verbose;

    LogFormat(boolean verbose) { this.verbose = verbose; }

    @Override public String format(LogRecord r) {
        Level l = r.getLevel();
        String prefix = l.intValue() >= Level.SEVERE.intValue() ? "error: " : l.intValue() >= Level.WARNING.intValue() ? "warning: " : "";
        StringBuilder s = new StringBuilder(prefix).append(formatMessage(r)).append(System.lineSeparator());
        if (verbose && r.getThrown() != null) {
            StringWriter trace = new StringWriter();
            r.getThrown().printStackTrace(new PrintWriter(trace));
            s.append(trace);
        }
        return s.toString();
    }
}
