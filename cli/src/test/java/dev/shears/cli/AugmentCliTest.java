package dev.shears.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.pruning.checkpoint.Checkpoint;
import dev.shears.pruning.recipe.Augmentation;
import dev.shears.pruning.recipe.RecipeParser;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code --augment} through the command line, on a 1,000-image slice of the bundled Fashion-MNIST:
 * bare it is flip,crop:4 and the log, the stored recipe and both reports say so; a run stopped
 * after epoch 1 and resumed with the same flag ends bit-identical to the run done in one go, and
 * resuming with another augmentation (or none) is refused naming both; distilling with it runs the
 * teacher on every batch and the log says why; a bad SPEC is refused on train, prune and demo.
 */
class AugmentCliTest {
    @TempDir static Path dir;
    static Path data, straight;
    static CliRun straightRun;
    static final ObjectMapper JSON = new ObjectMapper();

    private static String[] train(Path out, String... extra) {
        List<String> a = new ArrayList<>(List.of("train", "--model", "lenet-300-100", "--data", data.toString(), "--epochs", "2",
                "--out", out.toString(), "--backend", "cpu", "--seed", "3"));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    @BeforeAll
    static void trainStraight() throws Exception {
        data = CliTest.fashionMnistSlice(dir.resolve("fmnist"), 1000, 300);
        straight = dir.resolve("straight");
        straightRun = CliRun.shearsCapturingSystemErr(train(straight, "--augment"));
        assertEquals(0, straightRun.code(), straightRun.err());
    }

    @Test
    void bareAugmentIsFlipAndCrop4InTheLogTheRecipeAndTheReports() throws Exception {
        assertTrue(straightRun.err().contains("\n  augmentation: random horizontal flip (p = 0.5), random crop after 4-pixel zero padding (training batches only)"),
                straightRun.err());
        try (CpuBackend be = CpuBackend.create()) {
            Checkpoint c = Checkpoint.read(straight.resolve("model.shears"), be);
            assertEquals(Augmentation.DEFAULTS, RecipeParser.parse(c.recipeYaml(), "stored", "x").augmentation());
        }
        JsonNode a = JSON.readTree(straight.resolve("report.json").toFile()).get("augmentation");
        assertTrue(a.get("flip").asBoolean(), a.toString());
        assertEquals(4, a.get("crop").asInt());
        assertTrue(JSON.readTree(straight.resolve("report.json").toFile()).get("recipe").asText().contains("augmentation: random horizontal flip"));
        String html = Files.readString(straight.resolve("report.html"));
        assertTrue(html.contains("augmentation</b></td><td>random horizontal flip (p = 0.5), random crop after 4-pixel zero padding (training batches only)"), html);
        // a run without the flag has no augmentation section
        Path plain = dir.resolve("plain");
        CliRun p = CliRun.shearsCapturingSystemErr(train(plain));
        assertEquals(0, p.code(), p.err());
        assertFalse(p.err().contains("augmentation"), p.err());
        assertTrue(JSON.readTree(plain.resolve("report.json").toFile()).get("augmentation").isNull());
    }

    @Test
    void aStoppedAndResumedAugmentedRunEndsBitIdenticalAndAnotherAugmentationIsRefused() throws Exception {
        Path cut = dir.resolve("cut");
        CliRun stop = CliRun.shearsCapturingSystemErr(train(cut, "--augment", "--stop-after-epoch", "1"));
        assertEquals(0, stop.code(), stop.err());

        CliRun none = CliRun.shearsCapturingSystemErr(train(cut, "--resume"));
        assertEquals(2, none.code(), none.err());
        assertTrue(none.err().contains("--resume: this command line's augmentation (none) differs from the run's (flip,crop:4, saved in "), none.err());
        assertTrue(none.err().contains("give the run's --augment flip,crop:4"), none.err());
        CliRun other = CliRun.shearsCapturingSystemErr(train(cut, "--resume", "--augment", "flip,crop:2"));
        assertEquals(2, other.code(), other.err());
        assertTrue(other.err().contains("this command line's augmentation (flip,crop:2) differs from the run's (flip,crop:4"), other.err());

        CliRun resumed = CliRun.shearsCapturingSystemErr(train(cut, "--resume", "--augment", "crop:4,flip"));
        assertEquals(0, resumed.code(), resumed.err());
        try (CpuBackend be = CpuBackend.create()) {
            ResumeCliTest.sameParameters(Checkpoint.read(straight.resolve("model.shears"), be).model(),
                    Checkpoint.read(cut.resolve("model.shears"), be).model(), be);
        }
        // and a plain run started in a folder is not resumed with augmentation
        Path plainCut = dir.resolve("plain-cut");
        assertEquals(0, CliRun.shearsCapturingSystemErr(train(plainCut, "--stop-after-epoch", "1")).code());
        CliRun added = CliRun.shearsCapturingSystemErr(train(plainCut, "--resume", "--augment", "flip"));
        assertEquals(2, added.code(), added.err());
        assertTrue(added.err().contains("augmentation (flip) differs from the run's (none, saved in"), added.err());
        assertTrue(added.err().contains("give the run's --augment (none)"), added.err());
    }

    @Test
    void distillingWithAugmentationRunsTheTeacherOnEveryBatch() throws Exception {
        Path out = dir.resolve("kd");
        CliRun r = CliRun.shearsCapturingSystemErr("prune", "--model", straight.resolve("model.shears").toString(), "--data", data.toString(),
                "--sparsity", "0.8", "--epochs", "1", "--out", out.toString(), "--backend", "cpu", "--inference-batches", "0",
                "--distill", "--augment", "flip");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("distillation: teacher logits not cached: flip augmentation is on, and the teacher must see each step's"
                + " augmented batch as the student does; the teacher runs on every batch"), r.err());
        assertTrue(r.err().contains("augmentation: random horizontal flip (p = 0.5) (training batches only)"), r.err());
    }

    @Test
    void aBadSpecIsRefusedOnEveryCommand() {
        CliRun t = CliRun.shears(train(dir.resolve("bad"), "--augment", "flip,rotate"));
        assertEquals(2, t.code(), t.err());
        assertTrue(t.err().contains("--augment flip,rotate: 'rotate' is not flip or crop:P; give e.g. flip,crop:4 (--augment alone is flip,crop:4)"), t.err());
        CliRun big = CliRun.shearsCapturingSystemErr(train(dir.resolve("big"), "--augment", "crop:15"));
        assertEquals(2, big.code(), big.err());
        // the flag's value is named, not the built-in recipe's field the flag filled in ("recipe dense: augmentation.crop")
        assertTrue(big.err().contains("shears train: error: --augment crop:15: crop 15 is more than half the 28 x 28 images of"), big.err());
        assertFalse(big.err().contains("recipe dense") || big.err().contains("augmentation.crop"), big.err());
        assertTrue(big.err().contains("give 1..14"), big.err());
        // from a recipe file, the file and its field are named as before
        Path recipe = dir.resolve("big-crop.yaml");
        try {
            Files.writeString(recipe, """
                    name: big-crop
                    epochs: 1
                    batchSize: 64
                    optimizer: {type: sgd, momentum: 0.9}
                    learningRate: [{type: constant, lr: 0.05}]
                    augmentation: {crop: 15}
                    """);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        CliRun file = CliRun.shearsCapturingSystemErr("train", "--model", "lenet-300-100", "--data", data.toString(), "--epochs", "1",
                "--recipe", recipe.toString(), "--out", dir.resolve("big-file").toString(), "--backend", "cpu");
        assertEquals(2, file.code(), file.err());
        assertTrue(file.err().contains("recipe big-crop: augmentation.crop: 15 is more than half the 28 x 28 images of"), file.err());
        CliRun pruneBig = CliRun.shearsCapturingSystemErr("prune", "--model", straight.resolve("model.shears").toString(), "--data", data.toString(),
                "--sparsity", "0.5", "--out", dir.resolve("big-prune").toString(), "--augment", "flip,crop:16", "--backend", "cpu");
        assertEquals(2, pruneBig.code(), pruneBig.err());
        assertTrue(pruneBig.err().contains("--augment flip,crop:16: crop 16 is more than half the 28 x 28 images of"), pruneBig.err());
        CliRun p = CliRun.shears("prune", "--model", straight.resolve("model.shears").toString(), "--data", data.toString(), "--sparsity", "0.5",
                "--out", dir.resolve("bad-prune").toString(), "--augment", "crop:-2");
        assertEquals(2, p.code(), p.err());
        assertTrue(p.err().contains("--augment crop:-2: crop:-2 is negative; give crop:P with P >= 1"), p.err());
        CliRun d = CliRun.shears("demo", "--out", dir.resolve("bad-demo").toString(), "--augment", "flop");
        assertEquals(2, d.code(), d.err());
        assertTrue(d.err().contains("--augment flop: 'flop' is not flip or crop:P"), d.err());
    }
}
