package dev.shears.cli;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** What an interrupted run says, decided from where it was: {@link Interruption#message}, and the command it prints. */
class InterruptionTest {
    private static final Path CKPT = Path.of("runs/p/model.shears");
    private static final String CMD = "shears prune --out runs/p --resume";

    @Test
    void duringAnEpochNamesItTheLastSavedOneAndTheCommand() {
        assertEquals("interrupted during epoch 7 of 30: the last saved state is epoch 6 in runs/p/model.shears; continue with: " + CMD,
                Interruption.message(CMD, true, CKPT, 7, 30, 6, 0, false));
    }

    /** A fresh run (no --resume on its command line) is not told to drop an option it never gave. */
    @Test
    void beforeTheFirstSaveSaysTheRunMustStartAgain() {
        assertEquals("interrupted during epoch 1 of 30: nothing was saved yet (the first save is at the end of epoch 1), so the run must"
                + " start again: run the same command", Interruption.message(CMD, false, CKPT, 1, 30, 0, 0, false));
        assertEquals("interrupted during epoch 1 of 30: nothing was saved yet (the first save is at the end of epoch 1), so the run must"
                + " start again (the same command, without --resume)", Interruption.message(CMD, true, CKPT, 1, 30, 0, 0, false));
        assertEquals("interrupted during epoch 1 of 30: nothing was saved yet (the first save is at the end of epoch 1), so the run must"
                + " start again", Interruption.message(null, false, CKPT, 1, 30, 0, 0, false), "the demo has no --resume");
    }

    /** The hook reads --resume off the command line it was given. */
    @Test
    void theHookSaysStartAgainAsTheCommandLineWasGiven() {
        Interruption fresh = new Interruption(CKPT, List.of("prune", "--out", "runs/p"), 0, System.err, null);
        fresh.epochStarted(1, 30);
        Interruption resumed = new Interruption(CKPT, List.of("prune", "--out", "runs/p", "--resume"), 0, System.err, null);
        resumed.epochStarted(1, 30);
        try {
            assertTrue(fresh.message().endsWith("so the run must start again: run the same command"), fresh.message());
            assertTrue(resumed.message().endsWith("(the same command, without --resume)"), resumed.message());
        } finally {
            fresh.disarm();
            resumed.disarm();
        }
    }

    @Test
    void aResumedRunCountsTheEpochsSavedBeforeIt() {
        // resumed at epoch 5 (4 saved earlier): interrupted in the first epoch it trains, epoch 4 is still there
        assertEquals("interrupted during epoch 5 of 30: the last saved state is epoch 4 in runs/p/model.shears; continue with: " + CMD,
                Interruption.message(CMD, true, CKPT, 5, 30, 4, 0, false));
    }

    @Test
    void aSaveUnderWaySaysEitherEpochMayBeThere() {
        assertEquals("interrupted during epoch 7 of 30: epoch 7 was being saved, so runs/p/model.shears holds epoch 7 if that save finished,"
                + " else epoch 6; continue with: " + CMD, Interruption.message(CMD, true, CKPT, 7, 30, 6, 7, false));
        assertTrue(Interruption.message(CMD, true, CKPT, 1, 30, 0, 1, false).contains("holds epoch 1 if that save finished, else nothing was saved and the run must start again"));
    }

    @Test
    void betweenEpochsAndDuringTheFinalWrite() {
        assertEquals("interrupted after epoch 7 of 30: the last saved state is epoch 7 in runs/p/model.shears; continue with: " + CMD,
                Interruption.message(CMD, true, CKPT, 7, 30, 7, 0, false));
        assertEquals("interrupted after the last epoch (30), while writing the finished model: the last saved state is epoch 30 in"
                + " runs/p/model.shears; continue with: " + CMD, Interruption.message(CMD, true, CKPT, 30, 30, 30, 0, false));
    }

    @Test
    void saysNothingOnceFinishedOrBeforeTheRunStarts() {
        assertNull(Interruption.message(CMD, true, CKPT, 30, 30, 30, 0, true));
        assertNull(Interruption.message(CMD, true, CKPT, 0, 0, 0, 0, false));
    }

    /** Between the data loaded and epoch 1 (the test pass before training, a teacher's logits): it said nothing there. */
    @Test
    void beforeTheFirstEpochOfTheRunSaysWhatIsSaved() {
        assertEquals("interrupted before epoch 1 of 30 started: nothing was saved yet (the first save is at the end of epoch 1), so the run"
                + " must start again: run the same command", Interruption.message(CMD, false, CKPT, 0, 30, 0, 0, false));
        assertEquals("interrupted before epoch 5 of 30 started: the last saved state is epoch 4 in runs/p/model.shears; continue with: " + CMD,
                Interruption.message(CMD, true, CKPT, 0, 30, 4, 0, false), "a resumed run, before its first epoch");
    }

    @Test
    void aCommandWithoutResumeSaysToStartOver() {
        String m = Interruption.message(null, true, CKPT, 3, 12, 2, 0, false);
        assertEquals("interrupted during epoch 3 of 12: the last saved state is epoch 2 in runs/p/model.shears (a partial model, usable with"
                + " eval and inspect); this command has no --resume: run it again to start over", m);
        assertFalse(m.contains("continue with"));
    }

    @Test
    void whileLoadingSaysWhatAndHowManyImagesAndThatNothingWasSaved() {
        assertEquals("interrupted while loading /data/pets (train): 412 of 2000 images decoded; nothing was saved yet",
                Interruption.loadingMessage("/data/pets (train)", false, 412, 2000, null, null));
        assertEquals("interrupted while loading --data /data/pets; nothing was saved yet",
                Interruption.loadingMessage("--data /data/pets", false, 0, 0, null, null), "before the images decode (listing, headers)");
        assertEquals("interrupted while loading /data/pets (test): 1 of 1 image decoded; nothing new was saved, and the run saved in"
                        + " runs/p/model.shears is untouched; continue with: " + CMD,
                Interruption.loadingMessage("/data/pets (test)", false, 1, 1, CKPT, CMD));
    }

    /** Loaded, the backend and the model being set up: it said nothing there until the run's hook registered at epoch 1. */
    @Test
    void afterLoadingBeforeTheRunStarted() {
        assertEquals("interrupted after loading --data /data/pets, before the run started; nothing was saved yet",
                Interruption.loadingMessage("--data /data/pets", true, 2000, 2000, null, null));
        assertEquals("interrupted after loading --data /data/pets, before the run started; nothing new was saved, and the run saved in"
                + " runs/p/model.shears is untouched; continue with: " + CMD, Interruption.loadingMessage("--data /data/pets", true, 0, 0, CKPT, CMD));
    }

    /** One hook at a time: the run's takes over from the loading one as the run starts, and none is left once the command returns. */
    @Test
    void theRunsHookTakesOverFromTheLoadingOne() {
        Interruption load = Interruption.forLoading(null, null, System.err, null), run = new Interruption(CKPT, null, 0, System.err, null);
        try {
            load.loading("--data d", 0);
            load.loaded("--data d");
            assertTrue(load.armed());
            run.starting(3);
            assertTrue(run.armed());
            assertFalse(load.armed(), "removed as the run's registered");
            Interruption.disarmAll();
            assertFalse(run.armed());
        } finally {
            load.disarm();
            run.disarm();
        }
    }

    /** eval's test pass, told by EvalProgress as batches return: how far it got, and that it writes nothing. */
    @Test
    void whileEvaluatingSaysHowManySamples() {
        Interruption i = Interruption.forLoading(null, null, System.err, null);
        try {
            i.working("evaluating model.shears on pets (test)", 750, "sample");
            EvalProgress p = new EvalProgress(null, 750).telling(i);
            var step = p.counting((x, node) -> x);
            try (var be = dev.shears.core.cpu.CpuBackend.create()) {
                step.apply(be.allocate(dev.shears.core.tensor.Shape.of(256, 4), dev.shears.core.tensor.DType.FLOAT32), "out");
            }
            assertEquals("interrupted while evaluating model.shears on pets (test): 256 of 750 samples done; nothing was written", i.message());
            assertTrue(i.armed());
        } finally {
            Interruption.disarmAll();
        }
        assertFalse(i.armed());
    }

    /** sensitivity's prune-and-evaluate passes: which layer at which level, how many evaluations, and that nothing was written. */
    @Test
    void whileMeasuringSensitivitySaysTheLayerAndLevel() {
        Interruption i = Interruption.forLoading(null, null, System.err, null);
        try {
            i.working("measuring the sensitivity of m.shears on fmnist (test)", 19, "evaluation");
            i.at("the baseline (nothing pruned)");
            assertEquals("interrupted while measuring the sensitivity of m.shears on fmnist (test), at the baseline (nothing pruned): 0 of 19"
                    + " evaluations done; nothing was written", i.message());
            i.decoded(5);
            i.at("fc2/kernel pruned to 90%");
            assertEquals("interrupted while measuring the sensitivity of m.shears on fmnist (test), at fc2/kernel pruned to 90%: 5 of 19"
                    + " evaluations done; nothing was written", i.message());
            assertTrue(i.armed());
        } finally {
            Interruption.disarmAll();
        }
    }

    /** Work not counted (loading the model) says what it was, with no count; a new task forgets the old one's step. */
    @Test
    void uncountedWorkSaysWhatItWasWithoutACount() {
        assertEquals("interrupted while loading --model big.onnx; nothing was written", Interruption.workingMessage("loading --model big.onnx", null, 0, 0, null));
        Interruption i = Interruption.forLoading(null, null, System.err, null);
        try {
            i.working("evaluating x", 10, "sample");
            i.at("somewhere");
            i.working("running m.shears on 3 samples", 0, null);
            assertEquals("interrupted while running m.shears on 3 samples; nothing was written", i.message());
        } finally {
            Interruption.disarmAll();
        }
    }

    /** eval and sensitivity: once the test set has loaded the hook stays, so loading the model is not a silent gap. */
    @Test
    void theTestSetLoadedKeepsTheHookForTheModelLoad(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path data = CliTest.fashionMnistSlice(dir.resolve("fm"), 10, 10);
        Interruption i = Interruption.forLoading(null, null, System.err, null);
        try {
            assertEquals(10, DecodeLine.loadTest(data.toString(), new Progress(System.err, false), i).count());
            assertTrue(i.armed(), "still registered after the load");
            i.working("loading --model m.onnx", 0, null);
            assertEquals("interrupted while loading --model m.onnx; nothing was written", i.message());
        } finally {
            Interruption.disarmAll();
        }
        Interruption failed = Interruption.forLoading(null, null, System.err, null);
        assertThrows(RuntimeException.class, () -> DecodeLine.loadTest(dir.resolve("missing").toString(), new Progress(System.err, false), failed));
        assertFalse(failed.armed(), "a failed load says so itself, and leaves no hook");
    }

    /** predict --input DIR: the images decoding, counted through the decode line. */
    @Test
    void predictsDecodingCountsTheImages() {
        Interruption i = Interruption.forLoading(null, null, System.err, null);
        try {
            i.working("decoding the images of --input pics", 0, "image");
            var line = DecodeLine.of(new Progress(System.err, false), i);
            line.started("pics", 500);
            line.decoded(41, 500);
            assertEquals("interrupted while decoding the images of --input pics: 41 of 500 images done; nothing was written", i.message());
        } finally {
            Interruption.disarmAll();
        }
    }

    @Test
    void resumeIsAddedOnceAndOverwriteDropped() {
        assertEquals(List.of("prune", "--out", "p", "--resume"), Interruption.withResume(List.of("prune", "--out", "p")));
        assertEquals(List.of("prune", "--resume", "--out", "p"), Interruption.withResume(List.of("prune", "--resume", "--out", "p")));
        // --overwrite with --resume is refused, and would replace the saved run
        assertEquals(List.of("train", "--out", "p", "--resume"), Interruption.withResume(List.of("train", "--overwrite", "--out", "p")));
        assertEquals(List.of("train", "--resume"), Interruption.withResume(List.of("train", "--overwrite=true")));
    }

    @Test
    void wordsAreQuotedForAPosixShellWhereNeeded() {
        assertEquals("prune --data /d/fmnist --sparsity 0.8 --out 'my runs/p' --recipe 'it'\\''s.yaml' '' '$HOME'",
                Interruption.shellQuote(List.of("prune", "--data", "/d/fmnist", "--sparsity", "0.8", "--out", "my runs/p", "--recipe", "it's.yaml",
                        "", "$HOME")));
        assertEquals("--lr=0.01 a,b:c@d%e+f_g", Interruption.shellQuote(List.of("--lr=0.01", "a,b:c@d%e+f_g")));
    }
}
