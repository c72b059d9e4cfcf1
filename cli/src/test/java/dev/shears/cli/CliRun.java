package dev.shears.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * One in-process run of the CLI ({@link Shears#run}) for the tests: its exit code and what it
 * wrote on stdout and stderr. The cli tests share it instead of each keeping its own copy.
 */
record CliRun(int code, String out, String err) {
    /** Runs {@code shears args} with both streams captured. */
    static CliRun shears(String... args) {
        ByteArrayOutputStream o = new ByteArrayOutputStream(), e = new ByteArrayOutputStream();
        int code = Shears.run(args, new PrintStream(o, true, StandardCharsets.UTF_8), new PrintStream(e, true, StandardCharsets.UTF_8));
        return new CliRun(code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
    }

    /**
     * As {@link #shears}, with System.err captured into {@link #err} too: a run's progress goes
     * there, its errors to the stream given. One at a time, since System.err is global.
     */
    static synchronized CliRun shearsCapturingSystemErr(String... args) {
        ByteArrayOutputStream o = new ByteArrayOutputStream(), e = new ByteArrayOutputStream();
        PrintStream err = new PrintStream(e, true, StandardCharsets.UTF_8);
        PrintStream saved = System.err;
        System.setErr(err);
        try {
            int code = Shears.run(args, new PrintStream(o, true, StandardCharsets.UTF_8), err);
            return new CliRun(code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
        } finally {
            System.setErr(saved);
        }
    }
}
