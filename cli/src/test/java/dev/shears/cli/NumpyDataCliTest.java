package dev.shears.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.core.data.DataSources;
import dev.shears.core.data.Dataset;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static dev.shears.cli.CliRun.shears;
import static dev.shears.cli.CliRun.shearsCapturingSystemErr;
import static dev.shears.core.data.NpzFiles.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code --data FILE.npz} through the commands, on real images: slices of the bundled
 * Fashion-MNIST split written both as IDX files and as NumPy arrays (uint8, as Keras'
 * {@code load_data()} gives them), which must give the same results; and a 3-channel version of the
 * same images (channel c of pixel v: v, 1 - v, v * v; derived, not a real RGB set) stored NCHW and
 * NHWC, which must evaluate alike on a CNN taking [3, 28, 28].
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class NumpyDataCliTest {
    @TempDir static Path dir;
    static Path idx, npz, rgbNchw, rgbNhwc, model, cnn;
    static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll
    static void writeData() throws Exception {
        var split = DataSources.bundledFashionMnist();
        Dataset train = split.train().head(2000), test = split.test().head(500);
        idx = Files.createDirectories(dir.resolve("idx"));
        CliTest.writeIdx(idx, "train", train);
        CliTest.writeIdx(idx, "t10k", test);
        npz = dir.resolve("fmnist.npz");
        Map<String, byte[]> m = new LinkedHashMap<>();
        m.put("x_train", u1(new int[]{train.count(), 28, 28}, pixels(train)));
        m.put("y_train", i8(new int[]{train.count()}, train.labels(), '<'));
        m.put("x_test", u1(new int[]{test.count(), 28, 28}, pixels(test)));
        m.put("y_test", i8(new int[]{test.count()}, test.labels(), '<'));
        npz(npz, true, m);

        Dataset rtrain = split.train().head(600), rtest = split.test().head(200);
        rgbNchw = dir.resolve("rgb-nchw.npz");
        rgbNhwc = dir.resolve("rgb-nhwc.npz");
        for (boolean nhwc : new boolean[]{false, true}) {
            Map<String, byte[]> r = new LinkedHashMap<>();
            r.put("x_train", rgb(rtrain, nhwc));
            r.put("y_train", i8(new int[]{rtrain.count()}, rtrain.labels(), '<'));
            r.put("x_test", rgb(rtest, nhwc));
            r.put("y_test", i8(new int[]{rtest.count()}, rtest.labels(), '<'));
            npz(nhwc ? rgbNhwc : rgbNchw, false, r);
        }
    }

    /** The pixel bytes the IDX writer writes for these images. */
    static byte[] pixels(Dataset d) {
        byte[] px = new byte[d.features().length];
        for (int i = 0; i < px.length; i++) px[i] = (byte) Math.round(d.features()[i] * 255);
        return px;
    }

    /** float32 [N, 3, 28, 28] or [N, 28, 28, 3] of channels v, 1 - v, v * v. */
    static byte[] rgb(Dataset d, boolean nhwc) {
        int n = d.count(), p = 28 * 28;
        float[] out = new float[n * 3 * p];
        for (int s = 0; s < n; s++)
            for (int i = 0; i < p; i++) {
                float v = d.features()[s * p + i];
                float[] ch = {v, 1 - v, v * v};
                for (int c = 0; c < 3; c++) out[nhwc ? (s * p + i) * 3 + c : s * 3 * p + c * p + i] = ch[c];
            }
        return f4(nhwc ? new int[]{n, 28, 28, 3} : new int[]{n, 3, 28, 28}, out);
    }

    @Test @Order(1)
    void trainPruneAndEvalTakeAnNpzAndMatchTheIdxFiles() throws Exception {
        Path t = dir.resolve("dense");
        CliRun train = shears("train", "--model", "lenet-300-100", "--data", npz.toString(), "--epochs", "1", "--out", t.toString(), "--backend", "cpu", "--quiet");
        assertEquals(0, train.code(), train.err());
        model = t.resolve("model.shears");
        CliRun fromNpz = shears("eval", "--model", model.toString(), "--data", npz.toString(), "--json", "--backend", "cpu");
        CliRun fromIdx = shears("eval", "--model", model.toString(), "--data", idx.toString(), "--json", "--backend", "cpu");
        assertEquals(0, fromNpz.code(), fromNpz.err());
        assertEquals(0, fromIdx.code(), fromIdx.err());
        JsonNode a = JSON.readTree(fromNpz.out()), b = JSON.readTree(fromIdx.out());
        assertEquals(500, a.get("samples").asInt());
        assertEquals(b.get("accuracy").asDouble(), a.get("accuracy").asDouble(), 0.0, "same images, same accuracy");
        assertEquals(b.get("loss").asDouble(), a.get("loss").asDouble(), 0.0, "to the bit");
        assertTrue(a.get("accuracy").asDouble() > 0.5, "one epoch on 2,000 images learns something: " + a);
        assertEquals(npz + " (test)", a.get("data").asText());

        Path p = dir.resolve("pruned");
        CliRun prune = shears("prune", "--model", model.toString(), "--data", npz.toString(), "--sparsity", "0.5", "--epochs", "1",
                "--out", p.toString(), "--backend", "cpu", "--quiet", "--inference-batches", "0");
        assertEquals(0, prune.code(), prune.err());
        assertEquals(0.5, JSON.readTree(p.resolve("report.json").toFile()).get("sparsity").asDouble(), 1e-4);
    }

    @Test @Order(2)
    void channelsLastImagesAreMovedForAnNchwCnnAndScoreTheSame() throws Exception {
        Path t = dir.resolve("cnn");
        CliRun train = shears("train", "--model", "lenet-5", "--data", rgbNchw.toString(), "--epochs", "1", "--out", t.toString(), "--backend", "cpu", "--quiet");
        assertEquals(0, train.code(), train.err());
        cnn = t.resolve("model.shears");
        CliRun nchw = shearsCapturingSystemErr("eval", "--model", cnn.toString(), "--data", rgbNchw.toString(), "--json", "--backend", "cpu");
        CliRun nhwc = shearsCapturingSystemErr("eval", "--model", cnn.toString(), "--data", rgbNhwc.toString(), "--json", "--backend", "cpu");
        assertEquals(0, nchw.code(), nchw.err());
        assertEquals(0, nhwc.code(), nhwc.err());
        assertFalse(nchw.err().contains("moved to the model's input layout"), nchw.err());
        assertTrue(nhwc.err().contains("samples [28, 28, 3] moved to the model's input layout [3, 28, 28] (channels-last data, last axis first)"), nhwc.err());
        JsonNode a = JSON.readTree(nchw.out()), b = JSON.readTree(nhwc.out());
        assertEquals(a.get("accuracy").asDouble(), b.get("accuracy").asDouble(), 0.0);
        assertEquals(a.get("loss").asDouble(), b.get("loss").asDouble(), 0.0);
        // a built-in CNN trained on the channels-last archive is built for [3, 28, 28] and trains on the same floats in the
        // same order: the same model to the bit, so the same scores
        Path t2 = dir.resolve("cnn-from-nhwc");
        CliRun fromNhwc = shearsCapturingSystemErr("train", "--model", "lenet-5", "--data", rgbNhwc.toString(), "--epochs", "1", "--out", t2.toString(),
                "--backend", "cpu", "--quiet");
        assertEquals(0, fromNhwc.code(), fromNhwc.err());
        assertTrue(fromNhwc.err().contains("moved to the model's input layout [3, 28, 28]"), fromNhwc.err());
        CliRun c = shears("eval", "--model", t2.resolve("model.shears").toString(), "--data", rgbNchw.toString(), "--json", "--backend", "cpu");
        assertEquals(0, c.code(), c.err());
        assertEquals(a.get("loss").asDouble(), JSON.readTree(c.out()).get("loss").asDouble(), 0.0);
        // and the pruner takes the channels-last archive (moved for the model before the first step)
        CliRun again = shears("prune", "--model", cnn.toString(), "--data", rgbNhwc.toString(), "--sparsity", "0.5", "--epochs", "1",
                "--out", dir.resolve("cnn-pruned").toString(), "--backend", "cpu", "--quiet", "--inference-batches", "0");
        assertEquals(0, again.code(), again.err());
        // sensitivity moves them too: the same baseline as from the channels-first archive
        CliRun sn = shears("sensitivity", "--model", cnn.toString(), "--data", rgbNchw.toString(), "--sparsities", "0.5", "--params", "fc3/kernel",
                "--json", "--backend", "cpu");
        CliRun sh = shearsCapturingSystemErr("sensitivity", "--model", cnn.toString(), "--data", rgbNhwc.toString(), "--sparsities", "0.5",
                "--params", "fc3/kernel", "--json", "--backend", "cpu");
        assertEquals(0, sn.code(), sn.err());
        assertEquals(0, sh.code(), sh.err());
        assertTrue(sh.err().contains("moved to the model's input layout [3, 28, 28]"), sh.err());
        assertEquals(a.get("loss").asDouble(), JSON.readTree(sn.out()).get("baseline").get("loss").asDouble(), 1e-6);
        assertEquals(JSON.readTree(sn.out()).get("baseline").get("loss").asDouble(), JSON.readTree(sh.out()).get("baseline").get("loss").asDouble(), 0.0);
    }

    @Test @Order(3)
    void aLabelPastTheModelsOutputsAndAShapeThatDoesNotFitAreUsageErrors() throws Exception {
        // the model was trained on the archive: its input is the archive's sample shape, [28, 28]
        Path bad = dir.resolve("label12.npz");
        Map<String, byte[]> m = new LinkedHashMap<>();
        m.put("x_test", u1(new int[]{3, 28, 28}, new byte[3 * 784]));
        m.put("y_test", i8(new int[]{3}, new int[]{0, 12, 3}, '<'));
        npz(bad, false, m);
        CliRun r = shears("eval", "--model", model.toString(), "--data", bad.toString(), "--backend", "cpu");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("has 10 outputs, but the --data labels go up to 12") && r.err().contains("label 12 has no output"), r.err());

        Path small = dir.resolve("20x20.npz");
        m.put("x_test", u1(new int[]{3, 20, 20}, new byte[3 * 400]));
        m.put("y_test", i8(new int[]{3}, new int[]{0, 1, 2}, '<'));
        npz(small, false, m);
        r = shears("eval", "--model", model.toString(), "--data", small.toString(), "--backend", "cpu");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("takes inputs of shape [28, 28] (784 values), but the --data samples have shape [20, 20] (400 values)"), r.err());

        Path flat = dir.resolve("flat.npz"); // 784 values a sample, but flat: for a [28, 28] model their order is unknown
        m.put("x_test", u1(new int[]{3, 784}, new byte[3 * 784]));
        npz(flat, false, m);
        r = shears("eval", "--model", model.toString(), "--data", flat.toString(), "--backend", "cpu");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("does not fit the --data: the data's samples have shape [784], the model takes [28, 28]"), r.err());

        r = shears("eval", "--model", model.toString(), "--data", dir.resolve("nope.npz").toString(), "--backend", "cpu");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("nope.npz: no such file"), r.err());
    }
}
