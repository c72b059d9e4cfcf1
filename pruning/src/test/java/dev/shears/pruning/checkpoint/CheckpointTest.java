package dev.shears.pruning.checkpoint;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.core.backend.Activation;
import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.Parameter;
import dev.shears.core.nn.layers.*;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

class CheckpointTest {
    final Backend be = CpuBackend.create();

    /** A DAG that uses every layer type the checkpoint stores, with a branch and a join. */
    Model everyLayer() {
        return Model.builder().input("x", Shape.of(3, 12, 12))
                .add(new ZeroPad2D("pad", 1, 1, 1, 1), "x")
                .add(new Conv2D("conv", 3, 8, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 1, true), "pad")
                .add(new BatchNorm("bn", 8, 1e-3f, 0.99f), "conv")
                .add(new PReLU("prelu", Shape.of(8)), "bn")
                .add(new Conv2D("dw", 8, 8, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 4, false), "prelu")
                .add(new ActivationLayer("elu", Activation.ELU, 1f), "dw")
                .add(new Add("add"), "prelu", "elu")
                .add(new Multiply("mul"), "add", "prelu")
                .add(new LRN("lrn", 3, 1e-4f, 0.75f, 1f), "mul")
                .add(new Concat("cat", 0), "lrn", "add")
                .add(new MaxPool2D("max", 2, 2, 2, 2, 0, 0, 0, 0, false), "cat")
                .add(new AvgPool2D("avg", 3, 3, 1, 1, 1, 1, 1, 1, false, false), "max")
                .add(new Permute("perm", 1, 2, 0), "avg")
                .add(new Reshape("reshape", Shape.of(16, 36)), "perm")
                .add(new Flatten("flat"), "reshape")
                .add(new Dropout("drop", 0.5f), "flat")
                .add(new Identity("id"), "drop")
                .add(new Dense("fc", 576, 10, true), "id")
                .add(new Softmax("softmax", false), "fc")
                .build();
    }

    @Test
    void roundTripKeepsOutputsMasksRecipeAndMetrics(@TempDir Path dir) throws Exception {
        Model m = everyLayer().bind(be, 7);
        // non-trivial batch-norm statistics and a pruned kernel with its mask
        be.write(new float[]{.1f, .2f, .3f, .4f, .5f, .6f, .7f, .8f}, 0, m.parameter("bn/moving_mean").value(), 0, 8);
        Parameter k = m.parameter("fc/kernel");
        float[] w = be.download(k.value());
        byte[] mask = new byte[w.length];
        for (int i = 0; i < w.length; i++) { mask[i] = (byte) (i % 3 == 0 ? 0 : 1); if (mask[i] == 0) w[i] = 0; }
        be.write(w, 0, k.value(), 0, w.length);
        k.setMask(be.uploadBytes(mask, k.shape()));
        var metrics = new ObjectMapper().readTree("{\"accuracy\": 0.9}");
        Path file = dir.resolve("m.shears");
        new Checkpoint(m, "name: r\n", metrics).write(file);

        Checkpoint back = Checkpoint.read(file, CpuBackend.create());
        assertEquals("name: r\n", back.recipeYaml());
        assertEquals(0.9, back.metrics().get("accuracy").asDouble());
        assertEquals(m.nodes().size(), back.model().nodes().size());
        for (int i = 0; i < m.nodes().size(); i++) {
            assertEquals(m.nodes().get(i).name(), back.model().nodes().get(i).name());
            assertEquals(m.nodes().get(i).layer().type(), back.model().nodes().get(i).layer().type());
            assertEquals(m.nodes().get(i).inputs(), back.model().nodes().get(i).inputs());
        }
        assertArrayEquals(mask, back.model().backend().downloadBytes(back.model().parameter("fc/kernel").mask()));
        assertNull(back.model().parameter("conv/kernel").mask());
        float[] x = new float[2 * 3 * 12 * 12];
        SplittableRandom r = new SplittableRandom(1);
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        float[] y0 = out(m, x), y1 = out(back.model(), x);
        assertArrayEquals(y0, y1, "identical outputs after the round trip");
    }

    private static float[] out(Model m, float[] x) {
        Backend b = m.backend();
        Tensor t = b.upload(x, m.inputs().get(0).shape().withBatch(2));
        return b.download(m.forward(ExecContext.inference(b), t));
    }

    @Test
    void truncatedOrForeignFilesAreNamed(@TempDir Path dir) throws Exception {
        Model m = everyLayer().bind(be, 1);
        Path file = dir.resolve("m.shears");
        new Checkpoint(m, null, null).write(file);
        byte[] all = Files.readAllBytes(file);
        Path cut = dir.resolve("cut.shears");
        Files.write(cut, Arrays.copyOf(all, all.length / 2));
        var e = assertThrows(CheckpointException.class, () -> Checkpoint.read(cut, be));
        assertTrue(e.getMessage().contains("cut.shears"), e.getMessage());
        Path txt = dir.resolve("notes.shears");
        Files.writeString(txt, "hello");
        e = assertThrows(CheckpointException.class, () -> Checkpoint.read(txt, be));
        assertTrue(e.getMessage().contains("notes.shears"), e.getMessage());
    }

    @Test
    void refusesToWriteOverAnInput(@TempDir Path dir) throws Exception {
        Model m = everyLayer().bind(be, 1);
        Path file = dir.resolve("m.shears");
        new Checkpoint(m, null, null).write(file);
        long size = Files.size(file);
        assertThrows(IllegalArgumentException.class, () -> new Checkpoint(m, "x", null).write(file, file));
        assertEquals(size, Files.size(file));
        try (var s = Files.list(dir)) {
            assertEquals(1, s.count(), "no temporary file left behind");
        }
    }
}
