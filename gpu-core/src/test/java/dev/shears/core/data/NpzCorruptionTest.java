package dev.shears.core.data;

import dev.shears.core.fuzz.Corruption;
import dev.shears.core.fuzz.CorruptionCampaign;
import dev.shears.core.fuzz.Corruptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Seeded corruption campaign over {@code .npz} data sets: the archives NumPy wrote
 * (src/test/resources/npz), stored and deflated, truncated and mutated, read as {@code --data
 * FILE.npz} reads them. Each case loads a consistent data set or fails with a
 * {@link DataException} naming the file.
 */
class NpzCorruptionTest {
    private static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());

    @Test
    void damagedArchivesLoadOrFailClearly(@TempDir Path dir) throws Exception {
        long started = System.nanoTime();
        CorruptionCampaign c = new CorruptionCampaign(dir, ".npz", file -> NumpyData.loadNpz(file, QUIET), loaded -> {
            Split s = (Split) loaded;
            for (Dataset d : List.of(s.train(), s.test())) {
                assertEquals((long) d.count() * d.sampleShape().size(), d.features().length, "features match count x sample shape");
                for (int y : d.labels()) assertTrue(y >= 0 && y < d.classes(), "label " + y + " within " + d.classes() + " classes");
            }
        }, Duration.ofSeconds(3), List.of(DataException.class));
        long seed = 300;
        for (String name : List.of("numpy-savez.npz", "numpy-savez-compressed.npz")) {
            byte[] b = Files.readAllBytes(Path.of(NpzCorruptionTest.class.getResource("/npz/" + name).toURI()));
            List<Corruption> cases = new ArrayList<>(Corruptions.truncations(b, seed, 40, 4, 30, 40, 100, b.length - 22));
            cases.addAll(Corruptions.mutations(b, seed + 1000, 80));
            c.run(name, cases);
            seed++;
        }
        System.out.println("NPZ campaign: " + c.summary() + " in " + (System.nanoTime() - started) / 1_000_000 + " ms");
        c.assertClean();
    }
}
