package dev.shears.core.fuzz;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The campaign's time limit is CPU time of the loading thread, not wall time. */
class CorruptionCampaignTest {
    private static final Duration LIMIT = Duration.ofMillis(200);
    private static final List<Corruption> ONE = List.of(new Corruption("flip@0", new byte[] {1}));

    @TempDir
    Path dir;

    @Test
    void aCaseThatWaitsWithoutUsingTheCpuIsNotCutOff() {
        // as a case on a machine busy with other work: 3x the limit in wall time, almost no CPU
        CorruptionCampaign c = new CorruptionCampaign(dir, ".bin", file -> {
            Thread.sleep(3 * LIMIT.toMillis());
            return "loaded";
        }, loaded -> {}, LIMIT, List.of(IllegalStateException.class));
        c.run("seed", ONE);
        assertDoesNotThrow(c::assertClean);
    }

    @Test
    void aCaseThatSpinsPastTheLimitFails() {
        CorruptionCampaign c = new CorruptionCampaign(dir, ".bin", file -> {
            long x = 0;
            while (!Thread.currentThread().isInterrupted()) x += System.nanoTime() & 1;
            return x;
        }, loaded -> {}, LIMIT, List.of(IllegalStateException.class));
        c.run("seed", ONE);
        AssertionError e = assertThrows(AssertionError.class, c::assertClean);
        assertTrue(e.getMessage().contains("ran past 200 ms of CPU time"), e.getMessage());
    }

    @Test
    void aCaseBlockedForTenTimesTheLimitFails() {
        CorruptionCampaign c = new CorruptionCampaign(dir, ".bin", file -> {
            Thread.sleep(60_000);
            return "never";
        }, loaded -> {}, LIMIT, List.of(IllegalStateException.class));
        long start = System.nanoTime();
        c.run("seed", ONE);
        assertThrows(AssertionError.class, c::assertClean);
        long ms = (System.nanoTime() - start) / 1_000_000;
        assertTrue(ms < 10_000, "gave up after " + ms + " ms");
    }

    @Test
    void aClearRefusalNamingTheFilePasses() {
        CorruptionCampaign c = new CorruptionCampaign(dir, ".bin", file -> {
            throw new IllegalStateException(file.getFileName() + ": damaged");
        }, loaded -> {}, LIMIT, List.of(IllegalStateException.class));
        c.run("seed", ONE);
        assertDoesNotThrow(c::assertClean);
    }
}
