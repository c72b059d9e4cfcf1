package dev.shears.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.data.DataSources;
import dev.shears.core.data.Dataset;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Model;
import dev.shears.core.tensor.Tensor;
import dev.shears.io.keras.KerasImporter;
import dev.shears.io.onnx.OnnxImporter;
import dev.shears.pruning.checkpoint.Checkpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

import static dev.shears.cli.CliRun.shears;
import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code prune --structure channels --sparsity 0.5} on LeNet-300-100 (Fashion-MNIST, bundled
 * subset), then {@code inspect} shows the zero channels and {@code export --thin} writes a smaller
 * ONNX and Keras model that, read back, computes what the pruned checkpoint computes.
 */
class ChannelThinCliTest {
    @TempDir Path dir;
    static final ObjectMapper JSON = new ObjectMapper();

    private static float[] logits(Model m, Dataset d, Backend be) {
        try (Tensor x = be.upload(d.features(), m.inputs().getFirst().shape().withBatch(d.count()))) {
            return be.download(m.forward(ExecContext.inference(be), x)).clone();
        }
    }

    @Test void channelPruneThenThinExportComputesTheSame() throws Exception {
        Path data = dir.resolve("fmnist");
        Files.createDirectories(data);
        var split = DataSources.bundledFashionMnist();
        CliTest.writeIdx(data, "train", split.train().head(600));
        CliTest.writeIdx(data, "t10k", split.test().head(200));
        Path p = dir.resolve("pruned");
        CliRun prune = shears("prune", "--model", "lenet-300-100", "--data", data.toString(), "--structure", "channels", "--sparsity", "0.5",
                "--epochs", "2", "--out", p.toString(), "--backend", "cpu", "--quiet", "--inference-batches", "0");
        assertEquals(0, prune.code(), prune.err());
        // LeNet-300-100: fc1 loses 150 of 300 units, fc2 50 of 100, fc3 (the output) none
        long thinParams = 784 * 150 + 150 + 150 * 50 + 50 + 50 * 10 + 10;
        assertTrue(prune.out().contains("thinned: " + thinParams + " parameters instead of 266610"), prune.out());

        Path ckpt = p.resolve("model.shears");
        CliRun inspect = shears("inspect", "--model", ckpt.toString());
        assertTrue(inspect.out().lines().anyMatch(l -> l.startsWith("fc1 ") && l.endsWith("150/300 zero")), inspect.out());
        assertTrue(inspect.out().lines().anyMatch(l -> l.startsWith("fc3 ") && l.endsWith("0/10 zero")), inspect.out());
        JsonNode in = JSON.readTree(shears("inspect", "--model", ckpt.toString(), "--json").out());
        Map<String, JsonNode> layers = new HashMap<>();
        for (JsonNode l : in.get("layers")) layers.put(l.get("name").asText(), l);
        assertEquals(50, layers.get("fc2").get("zeroChannels").asInt());
        assertEquals(100, layers.get("fc2").get("channels").asInt());

        Path onnx = dir.resolve("thin.onnx"), keras = dir.resolve("thin.h5");
        CliRun export = CliRun.shearsCapturingSystemErr("export", "--model", ckpt.toString(), "--thin", "--format", "onnx", "--out", onnx.toString());
        assertEquals(0, export.code(), export.err());
        assertTrue(export.err().contains("thinned 200 output channels"), export.err());
        CliRun exportKeras = shears("export", "--model", ckpt.toString(), "--thin", "--format", "keras", "--out", keras.toString());
        assertEquals(0, exportKeras.code(), exportKeras.err());

        Dataset test = split.test().head(100);
        try (Backend be = new CpuBackend(1)) {
            Model masked = Checkpoint.read(ckpt, be).model();
            float[] want = logits(masked, test, be);
            for (Model thin : new Model[]{OnnxImporter.load(onnx, be), KerasImporter.load(keras, Optional.empty(), be)}) {
                assertEquals(thinParams, thin.parameterCount());
                float[] got = logits(thin, test, be);
                assertEquals(want.length, got.length);
                for (int i = 0; i < want.length; i++)
                    assertEquals(want[i], got[i], 1e-4 + 1e-4 * Math.abs(want[i]), "logit " + i);
            }
        }
    }
}
