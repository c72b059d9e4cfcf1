package dev.shears.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.Architectures;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.Parameter;
import dev.shears.core.tensor.Shape;
import dev.shears.pruning.checkpoint.Checkpoint;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code --distill} and {@code --teacher} through the command line, on a 1,000-image slice of the
 * bundled Fashion-MNIST with a dense start trained for 2 epochs: the log and the reports say what
 * the run distilled; the teacher is kept in --out as teacher.shears; a run stopped after epoch 1
 * and resumed after its teacher file was replaced ends bit-identical to the run done in one go
 * (it went on with its own copy); a teacher of other shapes, or 'start' on a freshly initialised
 * architecture, is refused before any training.
 */
class DistillCliTest {
    @TempDir static Path dir;
    static Path data, dense;
    static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll
    static void trainDenseStart() throws Exception {
        data = CliTest.fashionMnistSlice(dir.resolve("fmnist"), 1000, 300);
        Path out = dir.resolve("dense");
        CliRun r = CliRun.shearsCapturingSystemErr("train", "--model", "lenet-300-100", "--data", data.toString(), "--epochs", "2",
                "--out", out.toString(), "--backend", "cpu", "--quiet", "--seed", "3");
        assertEquals(0, r.code(), r.err());
        dense = out.resolve("model.shears");
    }

    private static String[] prune(Path out, String... extra) {
        List<String> a = new ArrayList<>(List.of("prune", "--model", dense.toString(), "--data", data.toString(), "--sparsity", "0.8",
                "--epochs", "3", "--out", out.toString(), "--backend", "cpu", "--inference-batches", "0"));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    @Test
    void distillFromTheStartModelIsLoggedReportedAndKept() throws Exception {
        Path out = dir.resolve("kd");
        CliRun r = CliRun.shearsCapturingSystemErr(prune(out, "--distill"));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("knowledge distillation: weight 0.5, temperature 2, teacher the model the run starts from"), r.err());
        assertTrue(r.err().matches("(?s).*epoch 3: train loss \\d\\.\\d{4} distill \\d\\.\\d{4} acc.*"), r.err());
        // the teacher's logits, computed once before the first step (the samples x classes table)
        assertTrue(r.err().matches("(?s).*distillation: teacher logits cached \\([\\d,]+ x 10, [\\d.]+ KiB, [\\d.]+ s\\).*"), r.err());
        JsonNode d = JSON.readTree(out.resolve("report.json").toFile()).get("distillation");
        assertEquals(0.5, d.get("weight").asDouble());
        assertEquals(2.0, d.get("temperature").asDouble());
        assertEquals("start", d.get("teacher").asText());
        assertEquals(3, d.get("epochLoss").size());
        assertTrue(d.get("epochLoss").get(2).asDouble() > 0, d.toString());
        assertTrue(Files.readString(out.resolve("report.html")).contains("distillation</b></td><td>weight 0.5, temperature 2, teacher the model the run started from"));
        try (CpuBackend be = CpuBackend.create()) {
            // the kept teacher is the dense start, unpruned; the student is pruned
            Model teacher = Checkpoint.read(out.resolve(TeacherModel.FILE), be).model(), start = Checkpoint.read(dense, be).model();
            ResumeCliTest.sameParameters(start, teacher, be);
            for (Parameter p : teacher.parameters()) assertNull(p.mask(), p.name());
            assertTrue(Checkpoint.read(out.resolve("model.shears"), be).model().parameters().stream().anyMatch(p -> p.mask() != null));
        }
        // the plain run's report has no distillation section and its log no distill figure
        Path plain = dir.resolve("plain");
        CliRun p = CliRun.shearsCapturingSystemErr(prune(plain));
        assertEquals(0, p.code(), p.err());
        assertFalse(p.err().contains("distill"), p.err());
        JsonNode none = JSON.readTree(plain.resolve("report.json").toFile()).get("distillation");
        assertTrue(none == null || none.isNull(), String.valueOf(none));
        assertFalse(Files.exists(plain.resolve(TeacherModel.FILE)));
    }

    @Test
    void aResumedRunGoesOnWithTheTeacherItStartedWith() throws Exception {
        Path teacherFile = dir.resolve("teacher-input.shears");
        Files.copy(dense, teacherFile, StandardCopyOption.REPLACE_EXISTING);
        Path straight = dir.resolve("t-straight"), cut = dir.resolve("t-cut");
        CliRun a = CliRun.shearsCapturingSystemErr(prune(straight, "--teacher", teacherFile.toString(), "--quiet"));
        assertEquals(0, a.code(), a.err());
        CliRun stop = CliRun.shearsCapturingSystemErr(prune(cut, "--teacher", teacherFile.toString(), "--stop-after-epoch", "1"));
        assertEquals(0, stop.code(), stop.err());
        // the teacher's file is replaced by another model: the resumed run must not read it
        try (CpuBackend be = CpuBackend.create()) {
            new Checkpoint(Architectures.create("lenet-300-100", Shape.of(784), 10).bind(be, 99), null, null).write(teacherFile);
        }
        CliRun resumed = CliRun.shearsCapturingSystemErr(prune(cut, "--teacher", teacherFile.toString(), "--resume"));
        assertEquals(0, resumed.code(), resumed.err());
        assertTrue(resumed.err().contains("resuming at epoch 2 of 3"), resumed.err());
        try (CpuBackend be = CpuBackend.create()) {
            ResumeCliTest.sameParameters(Checkpoint.read(straight.resolve("model.shears"), be).model(), Checkpoint.read(cut.resolve("model.shears"), be).model(), be);
        }
        JsonNode x = JSON.readTree(straight.resolve("report.json").toFile()).get("distillation");
        JsonNode y = JSON.readTree(cut.resolve("report.json").toFile()).get("distillation");
        assertEquals(x.get("epochLoss"), y.get("epochLoss"));
        assertEquals(teacherFile.toAbsolutePath().normalize().toString(), y.get("teacher").asText());

        // without its copy, a resume says what is missing
        Path gone = dir.resolve("t-gone");
        assertEquals(0, CliRun.shearsCapturingSystemErr(prune(gone, "--distill", "--stop-after-epoch", "1", "--quiet")).code());
        Files.delete(gone.resolve(TeacherModel.FILE));
        CliRun missing = CliRun.shearsCapturingSystemErr(prune(gone, "--distill", "--resume"));
        assertEquals(2, missing.code(), missing.err());
        assertTrue(missing.err().contains(gone.resolve(TeacherModel.FILE) + " is missing"), missing.err());
    }

    @Test
    void aTeacherOfOtherShapesOrAFreshArchitectureIsRefused() throws Exception {
        Path small = dir.resolve("small-input.shears");
        try (CpuBackend be = CpuBackend.create()) {
            new Checkpoint(Architectures.create("lenet-300-100", Shape.of(100), 10).bind(be, 1), null, null).write(small);
        }
        Path out = dir.resolve("bad-teacher");
        CliRun r = CliRun.shearsCapturingSystemErr(prune(out, "--teacher", small.toString()));
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("the teacher takes inputs of shape [100], the student [1, 28, 28]"), r.err());
        assertFalse(r.err().contains("epoch 1:"), r.err());
        assertFalse(Files.exists(out.resolve("model.shears")));

        CliRun missing = CliRun.shearsCapturingSystemErr(prune(dir.resolve("no-teacher"), "--teacher", dir.resolve("nope.shears").toString()));
        assertEquals(2, missing.code(), missing.err());
        assertTrue(missing.err().contains("--teacher " + dir.resolve("nope.shears") + ": no such file"), missing.err());

        CliRun fresh = CliRun.shearsCapturingSystemErr("train", "--model", "lenet-300-100", "--data", data.toString(), "--epochs", "1",
                "--out", dir.resolve("fresh").toString(), "--backend", "cpu", "--distill");
        assertEquals(2, fresh.code(), fresh.err());
        assertTrue(fresh.err().contains("is a freshly initialised architecture") && fresh.err().contains("--teacher FILE"), fresh.err());

        // shears train --teacher: distils a dense training run from a trained model
        Path trained = dir.resolve("train-kd");
        CliRun t = CliRun.shearsCapturingSystemErr("train", "--model", "lenet-300-100", "--data", data.toString(), "--epochs", "1",
                "--out", trained.toString(), "--backend", "cpu", "--teacher", dense.toString());
        assertEquals(0, t.code(), t.err());
        assertTrue(t.err().contains("epoch 1: train loss") && t.err().contains(" distill "), t.err());
    }

    @Test
    void recipesChecksTheBlock() throws Exception {
        Path good = dir.resolve("kd.yaml"), bad = dir.resolve("bad-kd.yaml");
        String base = "epochs: 3\nbatchSize: 64\noptimizer: {type: sgd}\nlearningRate: [{type: constant, lr: 0.01}]\n";
        Files.writeString(good, base + "distillation: {weight: 0.7, temperature: 4}\n");
        Files.writeString(bad, base + "distillation: {weight: 2}\n");
        CliRun ok = CliRun.shearsCapturingSystemErr("recipes", good.toString());
        assertEquals(0, ok.code(), ok.err());
        assertTrue(ok.out().contains("knowledge distillation: weight 0.7, temperature 4"), ok.out());
        CliRun no = CliRun.shearsCapturingSystemErr("recipes", bad.toString());
        assertEquals(2, no.code(), no.err());
        assertTrue(no.err().contains("distillation.weight: 2 is not in (0, 1]"), no.err());
    }
}
