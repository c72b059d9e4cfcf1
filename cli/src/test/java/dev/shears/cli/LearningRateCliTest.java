package dev.shears.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.data.DataSources;
import dev.shears.core.data.Dataset;
import dev.shears.pruning.checkpoint.Checkpoint;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static dev.shears.cli.CliRun.shears;
import static dev.shears.cli.CliTest.concat;
import static dev.shears.cli.CliRun.shearsCapturingSystemErr;
import static dev.shears.core.data.NpzFiles.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code --lr} and the collapse warning on real data: the Keras MNIST CNN with its pretrained
 * weights fine-tuned on 2,000 Fashion-MNIST images (the bundled split, written as .npz) collapses
 * to chance at the default rate (0.05) and is warned of; at {@code --lr 0.005} it learns and is
 * not. LeNet-300-100 trained from scratch at the default rate is not warned of either.
 */
class LearningRateCliTest {
    @TempDir static Path dir;
    static Path npz;
    static final Path KERAS = Path.of("../model-import/src/test/resources/keras/examples/mnist_cnn").toAbsolutePath().normalize();
    static final String CONFIG = KERAS.resolve("mnist_cnn_tf_keras_1_config.json").toString();
    static final String WEIGHTS = KERAS.resolve("mnist_cnn_tf_keras_1_weights.h5").toString();
    static final ObjectMapper JSON = new ObjectMapper();
    static final String WARNING = "warning: epoch 1 ended at chance";

    @BeforeAll
    static void writeData() throws Exception {
        var split = DataSources.bundledFashionMnist();
        Dataset train = split.train().head(2000), test = split.test().head(500);
        npz = dir.resolve("fm2k.npz");
        Map<String, byte[]> m = new LinkedHashMap<>();
        m.put("x_train", u1(new int[]{train.count(), 28, 28}, NumpyDataCliTest.pixels(train)));
        m.put("y_train", i8(new int[]{train.count()}, train.labels(), '<'));
        m.put("x_test", u1(new int[]{test.count(), 28, 28}, NumpyDataCliTest.pixels(test)));
        m.put("y_test", i8(new int[]{test.count()}, test.labels(), '<'));
        npz(npz, true, m);
    }

    private static CliRun fineTune(String out, String... more) {
        String[] base = {"train", "--model", CONFIG, "--weights", WEIGHTS, "--data", npz.toString(), "--epochs", "1",
                "--out", dir.resolve(out).toString()};
        return shearsCapturingSystemErr(concat(base, more));
    }

    private static JsonNode report(String out) throws Exception {
        return JSON.readTree(dir.resolve(out).resolve("report.json").toFile());
    }

    @Test void theDefaultRateCollapsesTheImportedCnnAndIsWarnedOfOnceOnStderrAndInTheReport() throws Exception {
        CliRun r = fineTune("collapsed");
        assertEquals(0, r.code(), r.err()); // a warning, not a stop
        assertTrue(r.err().contains("learning rate 0.05 at the start: cosine 0.05 -> 0.0005"), r.err());
        assertTrue(r.err().contains(WARNING), r.err());
        assertEquals(r.err().indexOf("warning:"), r.err().lastIndexOf("warning:"), "warned once: " + r.err());
        assertTrue(r.err().contains("most likely because the learning rate (0.05 at the start) is too high for this model;"
                + " stop it (Ctrl-C) and rerun with --lr 0.005 (a tenth)"), r.err());
        assertTrue(r.err().indexOf("epoch 1: train loss") < r.err().indexOf(WARNING), "after the epoch's line: " + r.err());
        JsonNode rep = report("collapsed");
        assertEquals(1, rep.path("warnings").size(), rep.toString());
        assertTrue(rep.path("warnings").get(0).asText().startsWith("epoch 1 ended at chance"), rep.path("warnings").toString());
        assertTrue(rep.path("after").path("accuracy").asDouble() < 0.15, "at chance: " + rep.path("after"));
    }

    @Test void aTenthOfTheRateFineTunesItWithoutAWarningAndTheScaledRecipeIsPrintedAndStored() throws Exception {
        CliRun r = fineTune("tuned", "--lr", "0.005");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("learning rate 0.005 at the start: cosine 0.005 -> 0.00005 (from epoch 0 to 1)"), r.err());
        assertFalse(r.err().contains("warning:"), r.err());
        JsonNode rep = report("tuned");
        assertEquals(0, rep.path("warnings").size(), rep.toString());
        assertTrue(rep.path("recipe").asText().contains("learning rate 0.005 at the start"), rep.path("recipe").asText());
        // 16 steps of cosine decay from 0.005 on 2,000 images: 28.6% test accuracy (54.5% on 6,000), chance is 10%
        assertTrue(rep.path("after").path("accuracy").asDouble() > 0.2, "learnt: " + rep.path("after"));
        assertEquals(0.005, rep.path("epochs").get(0).path("lr").asDouble(), 0, "epoch 0's rate");
        try (CpuBackend be = CpuBackend.create()) {
            String yaml = Checkpoint.read(dir.resolve("tuned").resolve("model.shears"), be).recipeYaml();
            assertTrue(yaml.contains("initial: 0.005") && yaml.contains("minimum: 5.0E-5"), yaml);
        }
    }

    @Test void aModelTrainedFromScratchIsNotWarnedOfAndResumingAtAnotherRateIsRefused() throws Exception {
        String out = dir.resolve("scratch").toString();
        String[] run = {"train", "--model", "lenet-300-100", "--data", npz.toString(), "--epochs", "2", "--out", out};
        CliRun first = shearsCapturingSystemErr(concat(run, "--stop-after-epoch", "1"));
        assertEquals(0, first.code(), first.err());
        assertTrue(first.err().contains("epoch 1: train loss"), first.err());
        assertFalse(first.err().contains("warning:"), first.err());
        // --lr is part of the recipe the run was started with, as --epochs is: a resume naming another rate is refused
        CliRun other = shears(concat(run, "--resume", "--lr", "0.005"));
        assertEquals(2, other.code(), other.err());
        assertTrue(other.err().contains("differs from the run's") && other.err().contains("0.005") && other.err().contains("0.05"), other.err());
        CliRun same = shearsCapturingSystemErr(concat(run, "--resume"));
        assertEquals(0, same.code(), same.err());
        assertFalse(same.err().contains("warning:"), same.err());
        assertEquals(0, report("scratch").path("warnings").size());
    }

    @Test void refusesRatesThatAreNotPositiveOrImplausiblyHigh() {
        for (String bad : new String[]{"0", "-0.01", "NaN", "11"}) {
            CliRun r = shears("train", "--model", "lenet-300-100", "--data", npz.toString(), "--epochs", "1", "--lr", bad,
                    "--out", dir.resolve("never").toString());
            assertEquals(2, r.code(), bad + ": " + r.err());
            assertTrue(r.err().contains("--lr " + (bad.equals("NaN") ? "NaN" : Double.toString(Double.parseDouble(bad)))), r.err());
            if (bad.equals("11")) assertTrue(r.err().contains("almost always a slip"), r.err());
        }
        CliRun p = shears("prune", "--model", "lenet-300-100", "--data", npz.toString(), "--sparsity", "0.5", "--lr", "20",
                "--out", dir.resolve("never").toString());
        assertEquals(2, p.code(), p.err());
        assertTrue(p.err().contains("at most 10"), p.err());
    }
}
