package dev.shears.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.junit.jupiter.api.Assertions.*;

/** A library warning reads as one "warning: ..." line, not under a line of date, class and method. */
class LogFormatTest {
    @Test void aWarningIsOneLineWithItsParameters() {
        LogRecord r = new LogRecord(Level.WARNING, "pruning[0]: {0} has 1 input channel");
        r.setParameters(new Object[]{"conv1/kernel"});
        r.setSourceClassName("dev.shears.pruning.train.GmpTrainer");
        r.setSourceMethodName("warnShortGroups");
        String line = new LogFormat(false).format(r);
        assertEquals("warning: pruning[0]: conv1/kernel has 1 input channel" + System.lineSeparator(), line);
        assertEquals("error: broken" + System.lineSeparator(), new LogFormat(false).format(new LogRecord(Level.SEVERE, "broken")));
    }

    @Test void aLoggedExceptionsTraceOnlyUnderVerbose() {
        LogRecord r = new LogRecord(Level.WARNING, "could not time the plan");
        r.setThrown(new IllegalStateException("inner"));
        assertEquals(1, new LogFormat(false).format(r).lines().count());
        String verbose = new LogFormat(true).format(r);
        assertTrue(verbose.contains("java.lang.IllegalStateException: inner") && verbose.contains("\tat "), verbose);
    }

    /** --verbose opened the root logger to FINE, and every run ended with the JDK's "Runtime.exit() called" and a stack trace. */
    @Test void verboseOpensShearsLoggersOnlyNotTheJdks() {
        PrintStream sink = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        Shears.run(new String[]{"recipes", "--verbose"}, sink, sink);
        try {
            assertTrue(Logger.getLogger("dev.shears.pruning.train.GmpTrainer").isLoggable(Level.FINE));
            assertFalse(Logger.getLogger("java.lang.Runtime").isLoggable(Level.FINE));
            assertFalse(Logger.getLogger("").isLoggable(Level.INFO));
        } finally {
            Shears.run(new String[]{"recipes"}, sink, sink);
        }
        assertFalse(Logger.getLogger("dev.shears.pruning.train.GmpTrainer").isLoggable(Level.FINE), "back to warnings without --verbose");
    }

    @Test void theCliInstallsItOnTheConsoleHandlers() {
        Shears.run(new String[]{"recipes"}, new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
        var handlers = Logger.getLogger("").getHandlers();
        assertTrue(handlers.length > 0);
        for (var h : handlers) assertInstanceOf(LogFormat.class, h.getFormatter(), h.toString());
    }
}
