package dev.shears.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.Architectures;
import dev.shears.core.nn.Model;
import dev.shears.core.tensor.Shape;
import dev.shears.pruning.checkpoint.Checkpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code eval --json}'s {@code seconds} included the sparse planning without saying so: it stays
 * (existing readers), and {@code planningSeconds} and {@code evaluationSeconds} split it.
 */
class EvalSecondsCliTest {
    @Test void evalJsonSplitsPlanningFromEvaluation(@TempDir Path dir) throws Exception {
        Path data = CliTest.fashionMnistSlice(dir.resolve("fmnist"), 10, 64);
        Path model = dir.resolve("half.shears");
        try (CpuBackend be = CpuBackend.create()) {
            Model m = Architectures.create("lenet-300-100", Shape.of(784), 10).bind(be, 1);
            for (var l : m.layers()) // every other weight of each kernel zero: a pruned model, which --sparse plans
                for (var p : l.parameters())
                    if (p.prunableByDefault()) {
                        float[] w = be.download(p.value());
                        for (int i = 0; i < w.length; i += 2) w[i] = 0;
                        p.setValue(be.upload(w, p.shape()));
                    }
            new Checkpoint(m, null, null).write(model);
        }
        ObjectMapper json = new ObjectMapper();
        String[] base = {"eval", "--model", model.toString(), "--data", data.toString(), "--json", "--backend", "cpu", "--batch", "32"};

        CliRun dense = CliRun.shears(base);
        assertEquals(0, dense.code(), dense.err());
        JsonNode d = json.readTree(dense.out());
        assertEquals(0.0, d.get("planningSeconds").asDouble(), "nothing planned without --sparse");
        assertEquals(d.get("seconds").asDouble(), d.get("evaluationSeconds").asDouble(), 1e-12);

        CliRun s = CliRun.shears(CliTest.concat(base, "--sparse"));
        assertEquals(0, s.code(), s.err());
        JsonNode o = json.readTree(s.out());
        double total = o.get("seconds").asDouble(), plan = o.get("planningSeconds").asDouble(), run = o.get("evaluationSeconds").asDouble();
        assertTrue(plan > 0 && run > 0, s.out());
        assertEquals(total, plan + run, 1e-9, "the parts add up to seconds: " + s.out());
        assertTrue(o.get("mode").asText().startsWith("sparse ("), s.out());
    }
}
