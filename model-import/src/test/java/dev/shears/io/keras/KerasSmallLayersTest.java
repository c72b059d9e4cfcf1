package dev.shears.io.keras;

import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.Model;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import static dev.shears.io.keras.KerasTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Flat-input layers on hand-written configs: the Keras 1 functional {@code Merge} (sum, mul,
 * concat), Keras 2's Multiply and the ReLU / ELU / Softmax layer classes, each checked against
 * plain-Java arithmetic and through an export round trip.
 */
class KerasSmallLayersTest {
    static Backend cpu;
    @TempDir Path dir;

    @BeforeAll static void setUp() { cpu = CpuBackend.create(); }

    @AfterAll static void tearDown() { cpu.close(); }

    static final String KERAS1_MERGE = """
            {"class_name": "Model", "keras_version": "1.2.1", "config": {"name": "model_1", "layers": [
             {"name": "in", "class_name": "InputLayer", "config": {"batch_input_shape": [null, 4], "input_dtype": "float32", "sparse": false, "name": "in"}, "inbound_nodes": []},
             {"name": "a", "class_name": "Dense", "config": {"name": "a", "output_dim": 3, "bias": true, "activation": "linear", "input_dim": 4}, "inbound_nodes": [[["in", 0, 0]]]},
             {"name": "b", "class_name": "Dense", "config": {"name": "b", "output_dim": 3, "bias": false, "activation": "softplus", "input_dim": 4}, "inbound_nodes": [[["in", 0, 0]]]},
             {"name": "s", "class_name": "Merge", "config": {"name": "s", "mode": "sum", "concat_axis": -1}, "inbound_nodes": [[["a", 0, 0], ["b", 0, 0]]]},
             {"name": "m", "class_name": "Merge", "config": {"name": "m", "mode": "mul", "concat_axis": -1}, "inbound_nodes": [[["s", 0, 0], ["b", 0, 0]]]},
             {"name": "c", "class_name": "Merge", "config": {"name": "c", "mode": "concat", "concat_axis": -1}, "inbound_nodes": [[["m", 0, 0], ["a", 0, 0]]]},
             {"name": "act", "class_name": "Activation", "config": {"name": "act", "activation": "selu"}, "inbound_nodes": [[["c", 0, 0]]]}
            ], "input_layers": [["in", 0, 0]], "output_layers": [["act", 0, 0]]}}
            """;

    @Test
    void keras1FunctionalMerge() throws Exception {
        float[] ka = random(12, 1, 1f), ba = random(3, 2, 0.5f), kb = random(12, 3, 1f);
        var w = new KerasH5Writer.Weights().put("a", "a_W:0", new int[]{4, 3}, ka).put("a", "a_b:0", new int[]{3}, ba)
                .put("b", "b_W:0", new int[]{4, 3}, kb);
        Path cfg = dir.resolve("merge.json"), wf = dir.resolve("merge.h5");
        Files.writeString(cfg, KERAS1_MERGE);
        KerasH5Writer.writeLegacy(wf, w, "1.2.1", null);
        Model m = KerasImporter.load(cfg, Optional.of(wf), cpu);
        int n = 3;
        float[] x = random(n * 4, 4, 1f);
        float[] a = NhwcReference.dense(x, n, 4, ka, ba, 3), b = NhwcReference.dense(x, n, 4, kb, null, 3);
        float[] want = new float[n * 6];
        for (int r = 0; r < n; r++)
            for (int j = 0; j < 3; j++) {
                double sp = Math.log1p(Math.exp(b[r * 3 + j]));
                want[r * 6 + j] = selu((a[r * 3 + j] + sp) * sp);
                want[r * 6 + 3 + j] = selu(a[r * 3 + j]);
            }
        assertClose(want, predict(m, cpu, x, n), 1e-5, 1e-5, "Keras 1 Merge sum/mul/concat");
        roundTrip(m, x, n);
    }

    private static float selu(double v) {
        return (float) (1.0507009873554805 * (v > 0 ? v : 1.6732632423543772 * Math.expm1(v)));
    }

    static final String KERAS2_ACTIVATION_LAYERS = """
            {"class_name": "Sequential", "keras_version": "2.2.4", "backend": "tensorflow", "config": {"name": "sequential_1", "layers": [
             {"class_name": "Dense", "config": {"name": "d1", "units": 6, "activation": "linear", "use_bias": true, "batch_input_shape": [null, 5]}},
             {"class_name": "ReLU", "config": {"name": "r", "max_value": null, "negative_slope": 0.1, "threshold": 0.0}},
             {"class_name": "ELU", "config": {"name": "e", "alpha": 0.5}},
             {"class_name": "Dense", "config": {"name": "d2", "units": 4, "activation": "hard_sigmoid", "use_bias": true}},
             {"class_name": "Softmax", "config": {"name": "sm", "axis": -1}}
            ]}}
            """;

    @Test
    void keras2ActivationLayerClasses() throws Exception {
        float[] k1 = random(30, 5, 1f), b1 = random(6, 6, 0.3f), k2 = random(24, 7, 1f), b2 = random(4, 8, 0.3f);
        var w = new KerasH5Writer.Weights().put("d1", "d1/kernel:0", new int[]{5, 6}, k1).put("d1", "d1/bias:0", new int[]{6}, b1)
                .put("d2", "d2/kernel:0", new int[]{6, 4}, k2).put("d2", "d2/bias:0", new int[]{4}, b2);
        Path cfg = dir.resolve("acts.json"), wf = dir.resolve("acts.h5");
        Files.writeString(cfg, KERAS2_ACTIVATION_LAYERS);
        KerasH5Writer.writeLegacy(wf, w, "2.2.4", "tensorflow");
        Model m = KerasImporter.load(cfg, Optional.of(wf), cpu);
        int n = 4;
        float[] x = random(n * 5, 9, 2f);
        float[] h = NhwcReference.leakyRelu(NhwcReference.dense(x, n, 5, k1, b1, 6), 0.1f);
        for (int i = 0; i < h.length; i++) h[i] = h[i] > 0 ? h[i] : (float) (0.5 * Math.expm1(h[i]));
        float[] z = NhwcReference.dense(h, n, 6, k2, b2, 4);
        for (int i = 0; i < z.length; i++) z[i] = Math.max(0f, Math.min(1f, 0.2f * z[i] + 0.5f)); // Keras 2 hard_sigmoid
        assertClose(NhwcReference.softmaxRows(z, 4), predict(m, cpu, x, n), 1e-5, 1e-5, "ReLU/ELU/hard_sigmoid/Softmax layers");
        roundTrip(m, x, n);
    }

    @Test
    void keras2Multiply() throws Exception {
        String cfgText = """
                {"class_name": "Model", "config": {"name": "m", "layers": [
                 {"name": "in", "class_name": "InputLayer", "config": {"batch_input_shape": [null, 3], "name": "in"}, "inbound_nodes": []},
                 {"name": "d", "class_name": "Dense", "config": {"name": "d", "units": 3, "use_bias": false}, "inbound_nodes": [[["in", 0, 0, {}]]]},
                 {"name": "t", "class_name": "Activation", "config": {"name": "t", "activation": "sigmoid"}, "inbound_nodes": [[["d", 0, 0, {}]]]},
                 {"name": "p", "class_name": "Multiply", "config": {"name": "p"}, "inbound_nodes": [[["d", 0, 0, {}], ["t", 0, 0, {}]]]}
                ], "input_layers": [["in", 0, 0]], "output_layers": [["p", 0, 0]]}}
                """;
        Path cfg = dir.resolve("mul.json"), wf = dir.resolve("mul.h5");
        Files.writeString(cfg, cfgText);
        float[] k = random(9, 12, 1f);
        KerasH5Writer.writeLegacy(wf, new KerasH5Writer.Weights().put("d", "d/kernel:0", new int[]{3, 3}, k), "2.2.4", "tensorflow");
        Model m = KerasImporter.load(cfg, Optional.of(wf), cpu);
        float[] x = {-2f, 0.5f, 3f, 1f, -1f, 0f};
        float[] d = NhwcReference.dense(x, 2, 3, k, null, 3);
        float[] want = new float[6];
        for (int i = 0; i < 6; i++) want[i] = (float) (d[i] / (1 + Math.exp(-d[i]))); // d * sigmoid(d)
        assertClose(want, predict(m, cpu, x, 2), 1e-6, 1e-6, "Multiply");
        roundTrip(m, x, 2);
    }

    private void roundTrip(Model m, float[] x, int n) {
        Path out = dir.resolve("round_trip.h5");
        KerasExporter.export(m, out);
        Model back = KerasImporter.load(out, Optional.empty(), cpu);
        assertArrayEquals(predict(m, cpu, x, n), predict(back, cpu, x, n), "export round trip");
    }
}
