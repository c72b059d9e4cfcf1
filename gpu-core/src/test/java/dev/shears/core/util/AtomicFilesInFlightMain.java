package dev.shears.core.util;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * For {@link AtomicFilesTest}: starts an atomic write of {@code args[0]}, writes part of the
 * content, says "in flight" on stdout and then waits to be killed, as a long checkpoint write
 * interrupted by Ctrl-C would.
 */
public final class AtomicFilesInFlightMain {
    private AtomicFilesInFlightMain() {}

    public static void main(String[] args) {
        AtomicFiles.write(Path.of(args[0]), out -> {
            out.write("half of the new".getBytes(StandardCharsets.UTF_8));
            out.flush();
            System.out.println("in flight");
            System.out.flush();
            try {
                Thread.sleep(120_000); // killed long before: the test waits at most 30 s
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
    }
}
