package dev.shears.io.fuzz;

import dev.shears.core.fuzz.CorruptionCampaign;
import dev.shears.io.ImportException;
import dev.shears.io.Npy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Seeded corruption campaign over {@code .npy} files ({@link Npy#read}, what {@code predict --input
 * x.npy} calls): each damaged file loads consistently or fails with an {@link ImportException}
 * naming it.
 */
class NpyCorruptionTest {
    @Test
    void damagedNpyFilesLoadOrFailClearly(@TempDir Path dir) {
        long started = System.nanoTime();
        CorruptionCampaign c = new CorruptionCampaign(dir, ".npy", Npy::read, LoadedChecks::array, Duration.ofSeconds(2),
                List.of(ImportException.class));
        long seed = 200;
        for (String n : List.of("f4_1x3x2x2.npy", "f4_2x3.npy", "f4_scalar.npy", "f4be_2x3.npy", "f8_2x3.npy", "i8_4.npy",
                "../keras3/mlp_sequential_input.npy")) {
            byte[] b = LoadedChecks.bytes("npy/" + n);
            // boundaries: end of the magic (6), version (8), header length (10), header text, data
            c.run(Path.of(n).getFileName().toString(), LoadedChecks.cases(b, seed++, 6, 8, 10, 20, 60, 128));
        }
        System.out.println("NPY campaign: " + c.summary() + " in " + (System.nanoTime() - started) / 1_000_000 + " ms");
        c.assertClean();
    }
}
