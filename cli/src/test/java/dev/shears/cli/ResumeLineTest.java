package dev.shears.cli;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** What --resume says of the checkpoint it goes on from. */
class ResumeLineTest {
    private static final Path CKPT = Path.of("out", "model.shears");

    @Test void aRunPartWayThroughResumesAtTheNextEpoch() {
        assertEquals("resuming at epoch 3 of 30 (epochs 1-2 saved in " + CKPT + ")", RunSupport.resumeLine(2, 30, CKPT));
    }

    @Test void oneSavedEpochIsNotARange() {
        assertEquals("resuming at epoch 2 of 30 (epoch 1 saved in " + CKPT + ")", RunSupport.resumeLine(1, 30, CKPT));
    }

    /** Training finished, the final save did not happen: "resuming at epoch 31 of 30" / "epoch 2 of 1" said nothing true. */
    @Test void aFinishedTrainingWritesTheFinishedModel() {
        assertEquals("training had finished (epochs 1-30 saved in " + CKPT + "): writing the finished model", RunSupport.resumeLine(30, 30, CKPT));
        assertEquals("training had finished (epoch 1 saved in " + CKPT + "): writing the finished model", RunSupport.resumeLine(1, 1, CKPT));
    }
}
