package dev.shears.io.keras;

import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.layers.AvgPool2D;
import dev.shears.core.nn.layers.Conv2D;
import dev.shears.core.nn.layers.MaxPool2D;
import dev.shears.core.tensor.Shape;
import dev.shears.io.keras.NhwcReference.Img;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static dev.shears.io.keras.KerasTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Layers and layouts the real example files do not cover, on hand-written Keras configs (in the
 * exact form Keras 2 / Keras 1 write them) with seeded random weights, checked against
 * {@link NhwcReference}: a channels_last Functional graph with ZeroPadding2D, strided 'same'
 * convolutions, Add, BatchNormalization, PReLU, 'same' max and average pooling, Concatenate,
 * Permute, LeakyReLU, GlobalAveragePooling2D, Reshape and fused activations; and a Keras 1
 * 'th' (channels_first) model, also as if saved by the Theano backend.
 */
class KerasFunctionalTest {
    static final double ATOL = 1e-5, RTOL = 1e-5;
    static Backend cpu;
    @TempDir Path dir;

    @BeforeAll static void setUp() { cpu = CpuBackend.create(); }

    @AfterAll static void tearDown() { cpu.close(); }

    static final String FUNCTIONAL = """
            {"class_name": "Model", "keras_version": "2.2.4", "backend": "tensorflow", "config": {"name": "model_1", "layers": [
             {"name": "input_1", "class_name": "InputLayer", "config": {"batch_input_shape": [null, 7, 6, 3], "dtype": "float32", "sparse": false, "name": "input_1"}, "inbound_nodes": []},
             {"name": "zp", "class_name": "ZeroPadding2D", "config": {"name": "zp", "trainable": true, "padding": [[1, 0], [0, 2]], "data_format": "channels_last"}, "inbound_nodes": [[["input_1", 0, 0, {}]]]},
             {"name": "c1", "class_name": "Conv2D", "config": {"name": "c1", "trainable": true, "filters": 4, "kernel_size": [3, 3], "strides": [2, 2], "padding": "same", "data_format": "channels_last", "dilation_rate": [1, 1], "activation": "relu", "use_bias": true}, "inbound_nodes": [[["zp", 0, 0, {}]]]},
             {"name": "c2", "class_name": "Conv2D", "config": {"name": "c2", "trainable": true, "filters": 4, "kernel_size": [3, 3], "strides": [1, 1], "padding": "same", "data_format": "channels_last", "dilation_rate": [1, 1], "activation": "tanh", "use_bias": false}, "inbound_nodes": [[["c1", 0, 0, {}]]]},
             {"name": "sum", "class_name": "Add", "config": {"name": "sum", "trainable": true}, "inbound_nodes": [[["c1", 0, 0, {}], ["c2", 0, 0, {}]]]},
             {"name": "bn", "class_name": "BatchNormalization", "config": {"name": "bn", "trainable": true, "axis": -1, "momentum": 0.99, "epsilon": 0.001, "center": true, "scale": true}, "inbound_nodes": [[["sum", 0, 0, {}]]]},
             {"name": "pr", "class_name": "PReLU", "config": {"name": "pr", "trainable": true, "shared_axes": [1, 2]}, "inbound_nodes": [[["bn", 0, 0, {}]]]},
             {"name": "mp", "class_name": "MaxPooling2D", "config": {"name": "mp", "trainable": true, "pool_size": [3, 3], "padding": "same", "strides": [2, 2], "data_format": "channels_last"}, "inbound_nodes": [[["pr", 0, 0, {}]]]},
             {"name": "ap", "class_name": "AveragePooling2D", "config": {"name": "ap", "trainable": true, "pool_size": [2, 2], "padding": "same", "strides": [1, 1], "data_format": "channels_last"}, "inbound_nodes": [[["pr", 0, 0, {}]]]},
             {"name": "cat", "class_name": "Concatenate", "config": {"name": "cat", "trainable": true, "axis": -1}, "inbound_nodes": [[["ap", 0, 0, {}], ["c2", 0, 0, {}]]]},
             {"name": "pm", "class_name": "Permute", "config": {"name": "pm", "trainable": true, "dims": [2, 1, 3]}, "inbound_nodes": [[["cat", 0, 0, {}]]]},
             {"name": "lr", "class_name": "LeakyReLU", "config": {"name": "lr", "trainable": true, "alpha": 0.1}, "inbound_nodes": [[["pm", 0, 0, {}]]]},
             {"name": "c3", "class_name": "Conv2D", "config": {"name": "c3", "trainable": true, "filters": 2, "kernel_size": [2, 3], "strides": [1, 1], "padding": "valid", "data_format": "channels_last", "dilation_rate": [1, 1], "activation": "linear", "use_bias": true}, "inbound_nodes": [[["lr", 0, 0, {}]]]},
             {"name": "gap", "class_name": "GlobalAveragePooling2D", "config": {"name": "gap", "trainable": true, "data_format": "channels_last"}, "inbound_nodes": [[["lr", 0, 0, {}]]]},
             {"name": "fl1", "class_name": "Flatten", "config": {"name": "fl1", "trainable": true}, "inbound_nodes": [[["mp", 0, 0, {}]]]},
             {"name": "fl2", "class_name": "Flatten", "config": {"name": "fl2", "trainable": true}, "inbound_nodes": [[["c3", 0, 0, {}]]]},
             {"name": "cat2", "class_name": "Concatenate", "config": {"name": "cat2", "trainable": true, "axis": -1}, "inbound_nodes": [[["gap", 0, 0, {}], ["fl1", 0, 0, {}], ["fl2", 0, 0, {}]]]},
             {"name": "d1", "class_name": "Dense", "config": {"name": "d1", "trainable": true, "units": 5, "activation": "elu", "use_bias": true}, "inbound_nodes": [[["cat2", 0, 0, {}]]]},
             {"name": "rs", "class_name": "Reshape", "config": {"name": "rs", "trainable": true, "target_shape": [1, -1]}, "inbound_nodes": [[["d1", 0, 0, {}]]]},
             {"name": "fl3", "class_name": "Flatten", "config": {"name": "fl3", "trainable": true}, "inbound_nodes": [[["rs", 0, 0, {}]]]},
             {"name": "dr", "class_name": "Dropout", "config": {"name": "dr", "trainable": true, "rate": 0.3}, "inbound_nodes": [[["fl3", 0, 0, {}]]]},
             {"name": "out", "class_name": "Dense", "config": {"name": "out", "trainable": true, "units": 3, "activation": "softmax", "use_bias": true}, "inbound_nodes": [[["dr", 0, 0, {}]]]}
            ], "input_layers": [["input_1", 0, 0]], "output_layers": [["out", 0, 0]]}}
            """;

    /** Seeded weights for {@link #FUNCTIONAL}, in Keras layout. */
    static KerasH5Writer.Weights functionalWeights() {
        var w = new KerasH5Writer.Weights();
        w.put("c1", "c1/kernel:0", new int[]{3, 3, 3, 4}, random(108, 1, 0.5f)).put("c1", "c1/bias:0", new int[]{4}, random(4, 2, 0.2f));
        w.put("c2", "c2/kernel:0", new int[]{3, 3, 4, 4}, random(144, 3, 0.4f));
        float[] var = random(4, 4, 0.4f);
        for (int i = 0; i < 4; i++) var[i] = Math.abs(var[i]) + 0.5f;
        w.put("bn", "bn/gamma:0", new int[]{4}, random(4, 5, 1f)).put("bn", "bn/beta:0", new int[]{4}, random(4, 6, 0.5f))
                .put("bn", "bn/moving_mean:0", new int[]{4}, random(4, 7, 0.5f)).put("bn", "bn/moving_variance:0", new int[]{4}, var);
        w.put("pr", "pr/alpha:0", new int[]{1, 1, 4}, random(4, 8, 0.5f));
        w.put("c3", "c3/kernel:0", new int[]{2, 3, 8, 2}, random(96, 9, 0.4f)).put("c3", "c3/bias:0", new int[]{2}, random(2, 10, 0.2f));
        w.put("d1", "d1/kernel:0", new int[]{36, 5}, random(180, 11, 0.5f)).put("d1", "d1/bias:0", new int[]{5}, random(5, 12, 0.2f));
        w.put("out", "out/kernel:0", new int[]{5, 3}, random(15, 13, 1f)).put("out", "out/bias:0", new int[]{3}, random(3, 14, 0.2f));
        return w;
    }

    /** The Keras semantics of {@link #FUNCTIONAL}, layer by layer, on NHWC arrays. */
    static Map<String, float[]> functionalReference(float[] x, int n, KerasH5Writer.Weights w) {
        var L = w.layers;
        Img in = new Img(x, n, 7, 6, 3);
        Img zp = NhwcReference.zeroPad(in, 1, 0, 0, 2); // (8, 8, 3)
        // 'same', stride 2 on 8: output 4, total pad 1, all of it at the bottom/right (TensorFlow rule)
        Img c1 = NhwcReference.conv(zp, L.get("c1").get("c1/kernel:0").data(), L.get("c1").get("c1/bias:0").data(), 3, 3, 4, 2, 2, 0, 0, 4, 4, 1, 1);
        c1 = new Img(NhwcReference.relu(c1.d()), n, 4, 4, 4);
        Img c2 = NhwcReference.conv(c1, L.get("c2").get("c2/kernel:0").data(), null, 3, 3, 4, 1, 1, 1, 1, 4, 4, 1, 1);
        c2 = new Img(NhwcReference.tanh(c2.d()), n, 4, 4, 4);
        float[] sum = NhwcReference.add(c1.d(), c2.d());
        var bn = L.get("bn");
        float[] b = NhwcReference.batchNorm(sum, 4, bn.get("bn/gamma:0").data(), bn.get("bn/beta:0").data(),
                bn.get("bn/moving_mean:0").data(), bn.get("bn/moving_variance:0").data(), 1e-3);
        Img pr = new Img(NhwcReference.prelu(b, 4, L.get("pr").get("pr/alpha:0").data()), n, 4, 4, 4);
        Img mp = NhwcReference.pool(pr, true, 3, 3, 2, 2, 0, 0, 2, 2);     // 'same': out 2, pad 1 at the end
        Img ap = NhwcReference.pool(pr, false, 2, 2, 1, 1, 0, 0, 4, 4);    // 'same': out 4, pad 1 at the end, not counted
        Img cat = NhwcReference.concatChannels(ap, c2);                     // (4, 4, 8)
        Img pm = NhwcReference.swapHW(cat);
        Img lr = new Img(NhwcReference.leakyRelu(pm.d(), 0.1f), n, 4, 4, 8);
        Img c3 = NhwcReference.conv(lr, L.get("c3").get("c3/kernel:0").data(), L.get("c3").get("c3/bias:0").data(), 2, 3, 2, 1, 1, 0, 0, 3, 2, 1, 1);
        float[] gap = NhwcReference.globalAvg(lr);
        float[] cat2 = new float[n * 36]; // gap 8 + flatten(mp) 2*2*4 + flatten(c3) 3*2*2
        for (int i = 0; i < n; i++) {
            System.arraycopy(gap, i * 8, cat2, i * 36, 8);
            System.arraycopy(mp.d(), i * 16, cat2, i * 36 + 8, 16);
            System.arraycopy(c3.d(), i * 12, cat2, i * 36 + 24, 12);
        }
        float[] d1 = NhwcReference.elu(NhwcReference.dense(cat2, n, 36, L.get("d1").get("d1/kernel:0").data(), L.get("d1").get("d1/bias:0").data(), 5));
        float[] out = NhwcReference.softmaxRows(NhwcReference.dense(d1, n, 5, L.get("out").get("out/kernel:0").data(), L.get("out").get("out/bias:0").data(), 3), 3);
        return Map.ofEntries(Map.entry("zp", zp.d()), Map.entry("c1", c1.d()), Map.entry("c2", c2.d()), Map.entry("sum", sum),
                Map.entry("bn", b), Map.entry("pr", pr.d()), Map.entry("mp", mp.d()), Map.entry("ap", ap.d()), Map.entry("cat", cat.d()),
                Map.entry("pm", pm.d()), Map.entry("lr", lr.d()), Map.entry("c3", c3.d()), Map.entry("gap", gap),
                Map.entry("cat2", cat2), Map.entry("d1", d1), Map.entry("rs", d1), Map.entry("fl3", d1), Map.entry("dr", d1), Map.entry("out", out));
    }

    static KerasModel importFunctional(Path dir, KerasH5Writer.Weights w) throws Exception {
        Path cfg = dir.resolve("functional.json"), wf = dir.resolve("functional_weights.h5");
        Files.writeString(cfg, FUNCTIONAL);
        KerasH5Writer.writeLegacy(wf, w, "2.2.4", "tensorflow");
        return KerasImporter.importModel(cfg, Optional.of(wf), cpu);
    }

    @Test
    void channelsLastFunctionalGraphMatchesKerasSemanticsLayerByLayer() throws Exception {
        var w = functionalWeights();
        KerasModel km = importFunctional(dir, w);
        Model m = km.model();
        assertEquals(Shape.of(7, 6, 3), m.inputs().get(0).shape());
        // 'same' resolved to explicit pads with the extra pixel at the bottom/right.
        Conv2D c1 = (Conv2D) m.layer("c1");
        assertArrayEquals(new int[]{0, 0, 1, 1}, new int[]{c1.padTop(), c1.padLeft(), c1.padBottom(), c1.padRight()});
        MaxPool2D mp = (MaxPool2D) m.layer("mp");
        assertArrayEquals(new int[]{0, 0, 1, 1}, new int[]{mp.padTop(), mp.padLeft(), mp.padBottom(), mp.padRight()});
        assertFalse(((AvgPool2D) m.layer("ap")).countIncludePad(), "Keras 'same' average pooling ignores the padding");

        int n = 3;
        float[] x = random(n * 7 * 6 * 3, 21, 1f);
        Map<String, float[]> got = forwardAll(m, cpu, List.of(cpu.upload(x, Shape.of(n, 7, 6, 3))));
        Map<String, float[]> want = functionalReference(x, n, w);
        for (var e : want.entrySet()) {
            var where = km.layerOutputs().get(e.getKey());
            assertNotNull(where, e.getKey());
            float[] ir = where.node().equals("input_1") ? x : got.get(where.node());
            assertClose(e.getValue(), where.toKerasLayout(ir, n), ATOL, RTOL, "layer " + e.getKey());
        }
        assertClose(want.get("out"), predict(m, cpu, x, n), ATOL, RTOL, "model output");
    }

    /** Keras 1 'th' ordering: inputs, kernels (out, in, kh, kw) and Flatten all channels-first. */
    static final String TH_SEQUENTIAL = """
            {"class_name": "Sequential", "keras_version": "1.2.1", "config": [
             {"class_name": "Convolution2D", "config": {"name": "conv", "nb_filter": 3, "nb_row": 3, "nb_col": 2, "subsample": [1, 1],
               "border_mode": "same", "dim_ordering": "th", "activation": "relu", "bias": true, "batch_input_shape": [null, 2, 5, 6]}},
             {"class_name": "MaxPooling2D", "config": {"name": "pool", "pool_size": [2, 2], "strides": [2, 2], "border_mode": "valid", "dim_ordering": "th"}},
             {"class_name": "Flatten", "config": {"name": "flat"}},
             {"class_name": "Dense", "config": {"name": "dense", "output_dim": 4, "bias": true, "activation": "sigmoid", "input_dim": 18}}
            ]}
            """;

    @ParameterizedTest(name = "theano backend: {0}")
    @ValueSource(booleans = {false, true})
    void keras1ThOrderingModel(boolean theano) throws Exception {
        float[] kOihw = random(3 * 2 * 3 * 2, 31, 0.5f), bias = random(3, 32, 0.2f);
        float[] dk = random(18 * 4, 33, 0.5f), db = random(4, 34, 0.2f);
        var w = new KerasH5Writer.Weights()
                .put("conv", "conv_W:0", new int[]{3, 2, 3, 2}, kOihw).put("conv", "conv_b:0", new int[]{3}, bias)
                .put("dense", "dense_W:0", new int[]{18, 4}, dk).put("dense", "dense_b:0", new int[]{4}, db);
        Path cfg = dir.resolve("th.json"), wf = dir.resolve("th.h5");
        Files.writeString(cfg, TH_SEQUENTIAL);
        KerasH5Writer.writeLegacy(wf, w, "1.2.1", theano ? "theano" : null);
        KerasModel km = KerasImporter.importModel(cfg, Optional.of(wf), cpu);
        Model m = km.model();
        assertEquals(Shape.of(2, 5, 6), m.inputs().get(0).shape(), "'th' input is NCHW already");
        assertTrue(m.layers().stream().noneMatch(l -> l.type().equals("Permute")), "no permutes for a channels-first model");

        int n = 2;
        float[] x = random(n * 2 * 5 * 6, 35, 1f);
        // Reference: to NHWC, kernel (out, in, kh, kw) -> (kh, kw, in, out), flipped when Theano wrote it.
        float[] kHwio = new float[kOihw.length];
        for (int o = 0; o < 3; o++)
            for (int i = 0; i < 2; i++)
                for (int y = 0; y < 3; y++)
                    for (int xx = 0; xx < 2; xx++) {
                        int sy = theano ? 2 - y : y, sx = theano ? 1 - xx : xx;
                        kHwio[((y * 2 + xx) * 2 + i) * 3 + o] = kOihw[((o * 2 + i) * 3 + sy) * 2 + sx];
                    }
        Img in = new Img(NhwcReference.nchwToNhwc(x, n, 2, 5, 6), n, 5, 6, 2);
        // 'same' for a 3x2 kernel: rows pad 1/1, columns pad 0/1.
        Img c = NhwcReference.conv(in, kHwio, bias, 3, 2, 3, 1, 1, 1, 0, 5, 6, 1, 1);
        c = new Img(NhwcReference.relu(c.d()), n, 5, 6, 3);
        Img p = NhwcReference.pool(c, true, 2, 2, 2, 2, 0, 0, 2, 3);
        float[] flatChw = new float[n * 18];
        for (int b = 0; b < n; b++)
            for (int ch = 0; ch < 3; ch++)
                for (int y = 0; y < 2; y++)
                    for (int xx = 0; xx < 3; xx++) flatChw[b * 18 + (ch * 2 + y) * 3 + xx] = p.at(b, y, xx, ch);
        float[] d = NhwcReference.dense(flatChw, n, 18, dk, db, 4);
        float[] want = new float[d.length];
        for (int i = 0; i < d.length; i++) want[i] = (float) (1 / (1 + Math.exp(-d[i])));
        assertClose(want, predict(m, cpu, x, n), ATOL, RTOL, "th model output");
    }
}
