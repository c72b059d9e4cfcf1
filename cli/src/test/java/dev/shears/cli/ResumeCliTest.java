package dev.shears.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.Parameter;
import dev.shears.pruning.checkpoint.Checkpoint;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code --resume} through the command line, on a 1,000-image slice of the bundled Fashion-MNIST:
 * a run stopped after epoch 2 of 4 ({@code --stop-after-epoch}, the state saved as a kill would
 * find it) and resumed ends bit-identical to the same run done in one go; a finished run is left
 * alone; a resume that does not match the saved run is refused, naming both sides.
 */
class ResumeCliTest {
    @TempDir static Path dir;
    static Path data;
    static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll
    static void writeData() throws Exception {
        data = CliTest.fashionMnistSlice(dir.resolve("fmnist"), 1000, 300);
    }

    private static String[] prune(Path out, String... extra) {
        List<String> a = new ArrayList<>(List.of("prune", "--model", "lenet-300-100", "--data", data.toString(), "--sparsity", "0.8",
                "--epochs", "4", "--out", out.toString(), "--backend", "cpu", "--inference-batches", "0"));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    @Test
    void stoppedThenResumedPruneIsBitIdenticalToOneGo() throws Exception {
        Path straight = dir.resolve("straight"), cut = dir.resolve("cut");
        CliRun a = CliRun.shearsCapturingSystemErr(prune(straight, "--quiet"));
        assertEquals(0, a.code(), a.err());

        CliRun stop = CliRun.shearsCapturingSystemErr(prune(cut, "--stop-after-epoch", "2"));
        assertEquals(0, stop.code(), stop.err());
        assertTrue(stop.err().contains("stopped after epoch 2 of 4"), stop.err());
        assertTrue(stop.err().contains("epoch 2: train loss"), "the last epoch's metrics are shown before stopping: " + stop.err());
        assertFalse(Files.exists(cut.resolve("report.json")), "no report for an unfinished run");
        try (CpuBackend be = CpuBackend.create()) {
            Checkpoint partial = Checkpoint.read(cut.resolve("model.shears"), be);
            assertTrue(partial.partial());
            assertEquals(2, partial.training().epoch());
            assertFalse(partial.training().optimizerState().isEmpty(), "momentum saved");
        }
        // the partial model is usable meanwhile
        CliRun inspect = CliRun.shearsCapturingSystemErr("inspect", "--model", cut.resolve("model.shears").toString(), "--json");
        assertEquals(0, inspect.code(), inspect.err());
        assertTrue(JSON.readTree(inspect.out()).get("partial").asBoolean(), "inspect says the run is unfinished: " + inspect.out());
        CliRun text = CliRun.shearsCapturingSystemErr("inspect", "--model", cut.resolve("model.shears").toString());
        assertTrue(text.out().contains("partial: the run that writes this file has not finished") && text.out().contains("--resume"), text.out());

        mismatchesAreRefused(cut);

        CliRun resumed = CliRun.shearsCapturingSystemErr(prune(cut, "--resume"));
        assertEquals(0, resumed.code(), resumed.err());
        assertTrue(resumed.err().contains("resuming at epoch 3 of 4"), resumed.err());
        assertFalse(resumed.err().contains("epoch 1: train loss"), "epochs 1-2 are not trained again: " + resumed.err());

        try (CpuBackend be = CpuBackend.create()) {
            Checkpoint x = Checkpoint.read(straight.resolve("model.shears"), be), y = Checkpoint.read(cut.resolve("model.shears"), be);
            assertFalse(y.partial());
            assertTrue(y.training().complete());
            assertTrue(y.training().optimizerState().isEmpty(), "a finished run keeps no optimizer state");
            sameParameters(x.model(), y.model(), be);
            assertEquals(x.training().history(), withSecondsOf(x.training().history(), y.training().history()));
        }
        JsonNode rx = JSON.readTree(straight.resolve("report.json").toFile()), ry = JSON.readTree(cut.resolve("report.json").toFile());
        assertEquals(5, ry.get("epochs").size(), "the report covers the whole run: epoch 0 and 1..4");
        assertEquals(withoutSeconds(rx.get("epochs")), withoutSeconds(ry.get("epochs")));
        assertEquals(rx.get("maskUpdates"), ry.get("maskUpdates"));
        assertEquals(rx.get("after"), ry.get("after"));
        assertEquals(rx.get("before"), ry.get("before"));
        assertEquals(rx.get("perClass"), ry.get("perClass"), "accuracy per class before and after, as in one go");

        assertFalse(JSON.readTree(CliRun.shearsCapturingSystemErr("inspect", "--model", cut.resolve("model.shears").toString(), "--json").out()).get("partial").asBoolean());

        // a finished run: said so, exit 0, nothing rewritten
        byte[] before = Files.readAllBytes(cut.resolve("model.shears"));
        CliRun again = CliRun.shearsCapturingSystemErr(prune(cut, "--resume"));
        assertEquals(0, again.code(), again.err());
        assertTrue(again.err().contains("already complete (4 of 4 epochs)"), again.err());
        assertArrayEquals(before, Files.readAllBytes(cut.resolve("model.shears")));
    }

    @Test
    void trainResumesToo() throws Exception {
        Path straight = dir.resolve("train-straight"), cut = dir.resolve("train-cut");
        String[] base = {"train", "--model", "lenet-300-100", "--data", data.toString(), "--epochs", "3", "--backend", "cpu", "--quiet"};
        CliRun a = CliRun.shearsCapturingSystemErr(Stream.concat(Stream.of(base), Stream.of("--out", straight.toString())).toArray(String[]::new));
        assertEquals(0, a.code(), a.err());
        CliRun stop = CliRun.shearsCapturingSystemErr(Stream.concat(Stream.of(base), Stream.of("--out", cut.toString(), "--stop-after-epoch", "1")).toArray(String[]::new));
        assertEquals(0, stop.code(), stop.err());
        assertTrue(stop.err().contains("stopped after epoch 1 of 3") && stop.err().contains("--resume"),
                "even with --quiet the command says it paused: " + stop.err());
        CliRun epochs = CliRun.shearsCapturingSystemErr(Stream.concat(Stream.of(base), Stream.of("--out", cut.toString(), "--resume")).map(x -> x.equals("3") ? "5" : x)
                .toArray(String[]::new));
        assertEquals(2, epochs.code(), epochs.err());
        assertTrue(epochs.err().contains("5 epochs") && epochs.err().contains("3 epochs"), epochs.err());
        CliRun resumed = CliRun.shearsCapturingSystemErr(Stream.concat(Stream.of(base), Stream.of("--out", cut.toString(), "--resume")).toArray(String[]::new));
        assertEquals(0, resumed.code(), resumed.err());
        try (CpuBackend be = CpuBackend.create()) {
            sameParameters(Checkpoint.read(straight.resolve("model.shears"), be).model(), Checkpoint.read(cut.resolve("model.shears"), be).model(), be);
        }
        JsonNode rx = JSON.readTree(straight.resolve("report.json").toFile()), ry = JSON.readTree(cut.resolve("report.json").toFile());
        assertEquals(withoutSeconds(rx.get("epochs")), withoutSeconds(ry.get("epochs")));
    }

    @Test
    void outFolderHoldingTheModelIsRefusedBeforeTraining() throws Exception {
        Path d = dir.resolve("in-place");
        CliRun trained = CliRun.shearsCapturingSystemErr("train", "--model", "lenet-300-100", "--data", data.toString(), "--epochs", "1", "--out", d.toString(),
                "--backend", "cpu", "--quiet");
        assertEquals(0, trained.code(), trained.err());
        byte[] saved = Files.readAllBytes(d.resolve("model.shears"));
        // model.shears is saved after every epoch: an --out that would write over the --model file is refused at once
        CliRun inPlace = CliRun.shearsCapturingSystemErr(replace(prune(d), "lenet-300-100", d.resolve("model.shears").toString()));
        assertEquals(2, inPlace.code(), inPlace.err());
        assertTrue(inPlace.err().contains(d.resolve("model.shears") + " is an input of this run"), inPlace.err());
        assertFalse(inPlace.err().contains("epoch 1: train loss"), "refused before any training: " + inPlace.err());
        assertArrayEquals(saved, Files.readAllBytes(d.resolve("model.shears")));
    }

    /** Each refusal names the option, both values, and what to do; the saved run is left as it was. */
    private static void mismatchesAreRefused(Path cut) throws Exception {
        byte[] saved = Files.readAllBytes(cut.resolve("model.shears"));
        CliRun sparsity = CliRun.shearsCapturingSystemErr(replace(prune(cut, "--resume"), "0.8", "0.7"));
        assertEquals(2, sparsity.code(), sparsity.err());
        assertTrue(sparsity.err().contains("finalSparsity: 0.7") && sparsity.err().contains("finalSparsity: 0.8"), sparsity.err());

        CliRun seed = CliRun.shearsCapturingSystemErr(prune(cut, "--resume", "--seed", "7"));
        assertEquals(2, seed.code(), seed.err());
        assertTrue(seed.err().contains("--seed 7 differs from the run's 42"), seed.err());

        CliRun model = CliRun.shearsCapturingSystemErr(replace(prune(cut, "--resume"), "lenet-300-100", "lenet-5"));
        assertEquals(2, model.code(), model.err());
        assertTrue(model.err().contains("--model lenet-5 differs from the run's lenet-300-100"), model.err());

        CliRun train = CliRun.shearsCapturingSystemErr("train", "--model", "lenet-300-100", "--data", data.toString(), "--epochs", "4",
                "--out", cut.toString(), "--backend", "cpu", "--resume");
        assertEquals(2, train.code(), train.err());
        assertTrue(train.err().contains("started by 'shears prune', not 'shears train'"), train.err());

        CliRun nothing = CliRun.shearsCapturingSystemErr(prune(dir.resolve("empty"), "--resume"));
        assertEquals(2, nothing.code(), nothing.err());
        assertTrue(nothing.err().contains("nothing to resume") && nothing.err().contains("without --resume"), nothing.err());

        // a version 1 checkpoint (no training state) in the folder
        Path old = dir.resolve("old");
        Files.createDirectories(old);
        try (var in = ResumeCliTest.class.getResourceAsStream("/v1-mlp.shears")) {
            assertNotNull(in, "test resource v1-mlp.shears");
            Files.copy(in, old.resolve("model.shears"));
        }
        CliRun v1 = CliRun.shearsCapturingSystemErr(prune(old, "--resume"));
        assertEquals(2, v1.code(), v1.err());
        assertTrue(v1.err().contains("holds no training state") && v1.err().contains("version 1"), v1.err());

        // the saved run is at epoch 2: stopping after epoch 1 or 2 cannot be honoured (it used to run on to the end)
        for (String e : new String[]{"1", "2"}) {
            CliRun past = CliRun.shearsCapturingSystemErr(prune(cut, "--resume", "--stop-after-epoch", e));
            assertEquals(2, past.code(), past.err());
            assertTrue(past.err().contains("--stop-after-epoch " + e + " is not after epoch 2"), past.err());
            assertFalse(past.err().contains("epoch 3: train loss"), "nothing trained: " + past.err());
        }

        // a fresh run (no --resume) into the folder would replace the unfinished run after its first epoch
        CliRun fresh = CliRun.shearsCapturingSystemErr(prune(cut));
        assertEquals(2, fresh.code(), fresh.err());
        assertTrue(fresh.err().contains("holds an unfinished run") && fresh.err().contains("--resume"), fresh.err());
        assertFalse(fresh.err().contains("epoch 1: train loss"), "refused before training: " + fresh.err());

        CliRun badStop = CliRun.shearsCapturingSystemErr(prune(dir.resolve("x"), "--stop-after-epoch", "5"));
        assertEquals(2, badStop.code(), badStop.err());
        assertTrue(badStop.err().contains("--stop-after-epoch 5 must be between 1 and the run's 4 epochs"), badStop.err());

        assertArrayEquals(saved, Files.readAllBytes(cut.resolve("model.shears")), "a refused resume leaves the run alone");
    }

    private static String[] replace(String[] args, String from, String to) {
        return Stream.of(args).map(s -> s.equals(from) ? to : s).toArray(String[]::new);
    }

    /** Asserts that {@code a} and {@code b} hold the same parameters, values and masks, bit for bit (DistillCliTest uses it too). */
    static void sameParameters(Model a, Model b, CpuBackend be) {
        assertEquals(a.parameters().size(), b.parameters().size());
        for (Parameter p : a.parameters()) {
            Parameter q = b.parameter(p.name());
            assertArrayEquals(be.download(p.value()), be.download(q.value()), p.name() + " differs");
            assertEquals(p.mask() == null, q.mask() == null, p.name());
            if (p.mask() != null) assertArrayEquals(be.downloadBytes(p.mask()), be.downloadBytes(q.mask()), "mask of " + p.name());
        }
    }

    /** {@code y}'s history with each epoch's wall time taken from {@code x}: the one field that cannot match. */
    private static dev.shears.pruning.train.TrainingState.History withSecondsOf(dev.shears.pruning.train.TrainingState.History x,
                                                                               dev.shears.pruning.train.TrainingState.History y) {
        List<dev.shears.pruning.train.EpochMetrics> es = new ArrayList<>();
        for (int i = 0; i < y.epochs().size(); i++) {
            var m = y.epochs().get(i);
            double secs = i < x.epochs().size() ? x.epochs().get(i).seconds() : m.seconds();
            es.add(new dev.shears.pruning.train.EpochMetrics(m.epoch(), m.lr(), m.trainLoss(), m.trainAccuracy(), m.testLoss(), m.testAccuracy(),
                    m.targetSparsity(), m.sparsity(), m.layerSparsity(), secs));
        }
        return new dev.shears.pruning.train.TrainingState.History(es, y.pruning(), y.beforePruning(), y.initialPerClass(), y.finalPerClass());
    }

    private static JsonNode withoutSeconds(JsonNode epochs) {
        var copy = epochs.deepCopy();
        for (JsonNode e : copy) ((ObjectNode) e).remove("seconds");
        return copy;
    }
}
