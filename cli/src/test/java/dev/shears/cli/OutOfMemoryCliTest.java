package dev.shears.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;

import static org.junit.jupiter.api.Assertions.*;

/**
 * An OutOfMemoryError in a command is one line naming the command and what to do, exit 1, not a
 * bare JVM stack trace (pruning ResNet-50 on ImageNet-sized images ran out of the default heap).
 */
class OutOfMemoryCliTest {
    @Command(name = "shears", subcommands = OutOfMemoryCliTest.Hungry.class)
    static final class Root {}

    @Command(name = "hungry")
    static final class Hungry implements Callable<Integer> {
        @Override public Integer call() { throw new OutOfMemoryError("Java heap space"); }
    }

    private static String[] run(boolean verbose) {
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        int code = Shears.execute(new CommandLine(new Root()), new String[] {"hungry"}, new PrintStream(e, true, StandardCharsets.UTF_8), verbose);
        return new String[] {Integer.toString(code), e.toString(StandardCharsets.UTF_8)};
    }

    @Test void anOutOfMemoryErrorIsOneLineWithWhatToDoAndExitOne() {
        String[] r = run(false);
        assertEquals("1", r[0], r[1]);
        assertTrue(r[1].startsWith("shears hungry: error: out of memory (Java heap space; the JVM may use "), r[1]);
        assertTrue(r[1].contains("JAVA_OPTS=-Xmx16g") && r[1].contains("a recipe's batchSize"), r[1]);
        assertEquals(1, r[1].strip().lines().count(), "one line, no stack trace: " + r[1]);
    }

    @Test void verboseAddsTheStackTrace() {
        String[] r = run(true);
        assertEquals("1", r[0], r[1]);
        assertTrue(r[1].contains("at dev.shears.cli.OutOfMemoryCliTest$Hungry.call"), r[1]);
    }

    /** -Xmx48m said "the JVM may use 0.0 GB". */
    @Test void theHeapSizeIsInMegabytesBelowAGigabyte() {
        assertEquals("48 MB", Shears.heapSize(48L << 20));
        assertEquals("1023 MB", Shears.heapSize((1L << 30) - 1));
        assertEquals("1.0 GB", Shears.heapSize(1L << 30));
        assertEquals("16.0 GB", Shears.heapSize(16L << 30));
    }
}
