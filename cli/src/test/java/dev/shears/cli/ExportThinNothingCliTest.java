package dev.shears.cli;

import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.Architectures;
import dev.shears.core.nn.Model;
import dev.shears.core.tensor.Shape;
import dev.shears.pruning.checkpoint.Checkpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static dev.shears.cli.CliRun.shears;
import static org.junit.jupiter.api.Assertions.*;

/** {@code export --thin} of a model with no all-zero output channel says so instead of "thinned 0 output channels {}". */
class ExportThinNothingCliTest {
    @TempDir Path dir;

    @Test void thinningADenseModelSaysThereIsNothingToRemoveAndHowToGetThere() throws Exception {
        Path ckpt = dir.resolve("dense.shears");
        try (CpuBackend be = CpuBackend.create()) {
            Model m = Architectures.create("lenet-300-100", Shape.of(784), 10).bind(be, 1);
            new Checkpoint(m, null, null).write(ckpt);
        }
        Path onnx = dir.resolve("thin.onnx");
        CliRun r = CliRun.shearsCapturingSystemErr("export", "--model", ckpt.toString(), "--thin", "--format", "onnx", "--out", onnx.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("export: --thin removed nothing: no Dense/Conv2D layer of dense.shears has an all-zero output channel"
                + " (prune it with --structure channels first); the model is written as it is"), r.err());
        assertFalse(r.err().contains("thinned 0"), r.err());
        assertTrue(Files.size(onnx) > 0);
    }
}
