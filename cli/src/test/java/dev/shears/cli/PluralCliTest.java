package dev.shears.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** Counts in messages agree with their nouns: a one-epoch recipe said "1 epochs" and "updated every 1 epoch(s)". */
class PluralCliTest {
    @Test void oneIsSingularEverythingElsePlural() {
        assertEquals("1 epoch", Plural.of(1, "epoch"));
        assertEquals("0 epochs", Plural.of(0, "epoch"));
        assertEquals("4 epochs", Plural.of(4, "epoch"));
        assertEquals("60000 samples", Plural.of(60000, "sample"));
    }

    private static String recipe(int epochs, String updateFrequency) {
        return """
                name: r
                epochs: %d
                batchSize: 64
                optimizer: {type: sgd, momentum: 0.9}
                learningRate:
                  - {type: constant, lr: 0.01, startEpoch: 0, endEpoch: %d}
                pruning:
                  - {type: gmp, initSparsity: 0.1, finalSparsity: 0.5, startEpoch: 0, endEpoch: %d, updateFrequency: %s}
                """.formatted(epochs, epochs, epochs, updateFrequency);
    }

    @Test void recipeDescriptionsCountEpochsRight(@TempDir Path dir) throws Exception {
        Path one = Files.writeString(dir.resolve("one.yaml"), recipe(1, "1"));
        CliRun r = CliRun.shears("recipes", one.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("recipe r: 1 epoch, batch 64") && r.out().contains("updated every epoch;"), r.out());
        assertFalse(r.out().contains("epochs") || r.out().contains("epoch(s)"), r.out());

        Path two = Files.writeString(dir.resolve("two.yaml"), recipe(2, "0.5"));
        r = CliRun.shears("recipes", two.toString());
        assertTrue(r.out().contains("recipe r: 2 epochs, batch 64") && r.out().contains("updated every 0.5 epochs;"), r.out());
    }

    @Test void stopAfterEpochNamesTheRunsEpochsInTheSingularToo(@TempDir Path dir) {
        CliRun r = CliRun.shears("train", "--model", "lenet-300-100", "--epochs", "1", "--stop-after-epoch", "2",
                "--out", dir.resolve("o").toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("must be between 1 and the run's 1 epoch"), r.err());
        assertFalse(r.err().contains("1 epochs"), r.err());
    }
}
