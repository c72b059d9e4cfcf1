package dev.shears.io.keras;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.core.backend.Activation;
import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.Layer;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.Parameter;
import dev.shears.core.nn.layers.*;
import dev.shears.core.tensor.Shape;
import dev.shears.io.FloatArray;
import dev.shears.io.ImportException;
import dev.shears.core.data.Npy;
import io.jhdf.HdfFile;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import static dev.shears.io.keras.KerasTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Export to a Keras 3 {@code .keras} archive and read back with Shears' own importer: identical
 * weights (pruned zeros included) and identical outputs, on real Keras models (a Keras 3.15 file
 * with every layer class the exporter writes, the Keras 2 MNIST MLP and the Keras 1 MNIST CNN)
 * and on a model built natively in NCHW. Also the choice of format by file name, the refusals,
 * and the atomic write.
 *
 * <p>With {@code -Dshears.keras3.dump=DIR} each exported archive is also copied to DIR with an
 * input batch and Shears' output as {@code .npy}, for {@code src/test/python/keras_load_check.py}
 * to load with Keras itself.
 */
class KerasArchiveExporterTest {
    static Backend cpu;
    @TempDir Path dir;

    @BeforeAll static void setUp() { cpu = CpuBackend.create(); }

    @AfterAll static void tearDown() { cpu.close(); }

    /** A file written by real Keras 3 (see src/test/resources/keras3/README.md). */
    static Path keras3Resource(String name) {
        var url = KerasArchiveExporterTest.class.getResource("/keras3/" + name);
        assertNotNull(url, "test resource keras3/" + name);
        try {
            return Path.of(url.toURI());
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static JsonNode configOf(Path archive) throws Exception {
        try (ZipFile z = new ZipFile(archive.toFile())) {
            return new ObjectMapper().readTree(new String(z.getInputStream(z.getEntry("config.json")).readAllBytes(), StandardCharsets.UTF_8));
        }
    }

    static byte[] weightsOf(Path archive) throws Exception {
        try (ZipFile z = new ZipFile(archive.toFile())) {
            return z.getInputStream(z.getEntry("model.weights.h5")).readAllBytes();
        }
    }

    static float[] dataset(Path archive, String path) throws Exception {
        try (HdfFile h5 = HdfFile.fromBytes(weightsOf(archive))) {
            return (float[]) h5.getDatasetByPath(path).getDataFlat();
        }
    }

    /** Exports, checks the file is a clean archive with nothing left beside it, and imports it back. */
    private KerasModel roundTrip(Model m, String name, Path... inputs) throws Exception {
        Path out = dir.resolve(name + ".keras");
        KerasExporter.export(m, out, inputs);
        assertEquals(Optional.of(KerasFormat.KERAS_ARCHIVE), KerasFormat.detect(out));
        try (var files = Files.list(dir)) {
            assertEquals(List.of(), files.filter(p -> p.getFileName().toString().startsWith(".")).toList(), "no temporary file left behind");
        }
        KerasModel back = KerasImporter.importModel(out, Optional.empty(), cpu);
        assertEquals(Keras3Config.KERAS_VERSION, back.kerasVersion());
        assertEquals(m.parameterCount(), back.model().parameterCount());
        return back;
    }

    /** Every parameter of {@code a} has an equally named one in {@code b} with bit-identical values. */
    private static void assertSameParameters(Model a, Model b) {
        for (Parameter p : a.parameters()) {
            Parameter q = b.parameter(p.name());
            assertNotNull(q, "parameter " + p.name() + " after the round trip; have " + b.parameters().stream().map(Parameter::name).toList());
            assertArrayEquals(cpu.download(p.value()), cpu.download(q.value()), p.name());
        }
    }

    private static void dump(Path archive, String name, float[] x, Shape inputShape, int batch, float[] y, Shape outputShape) throws Exception {
        String to = System.getProperty("shears.keras3.dump");
        if (to == null) return;
        Path d = Files.createDirectories(Path.of(to));
        Files.copy(archive, d.resolve(name + ".keras"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Npy.write(d.resolve(name + "_input.npy"), inputShape.withBatch(batch), x);
        Npy.write(d.resolve(name + "_output.npy"), outputShape.withBatch(batch), y);
    }

    @Test
    void realKeras3ModelWithEveryLayerClassRoundTrips() throws Exception {
        Path src = keras3Resource("all_layers.keras");
        Model first = KerasImporter.load(src, Optional.empty(), cpu);
        KerasModel back = roundTrip(first, "all_layers", src);
        assertSameParameters(first, back.model());
        FloatArray x = FloatArray.of(Npy.read(keras3Resource("all_layers_input.npy"))), want = FloatArray.of(Npy.read(keras3Resource("all_layers_output.npy")));
        int n = x.shape().dim(0);
        float[] a = predict(first, cpu, x.data(), n), b = predict(back.model(), cpu, x.data(), n);
        assertArrayEquals(a, b, "same weights and graph: bit-identical outputs");
        assertClose(want.data(), b, 1e-5, 1e-4, "round trip vs Keras 3's own predictions");
        dump(dir.resolve("all_layers.keras"), "all_layers", x.data(), first.inputs().get(0).shape(), n, b, first.outputShape());
    }

    @Test
    void keras2MnistMlpRoundTripKeepsStoredPredictions() throws Exception {
        Path cfg = resource("examples/mnist_mlp/mnist_mlp_tf_keras_2_config.json");
        Path w = resource("examples/mnist_mlp/mnist_mlp_tf_keras_2_weights.h5");
        Model first = KerasImporter.load(cfg, Optional.of(w), cpu);
        KerasModel back = roundTrip(first, "mlp", cfg, w);
        assertSameParameters(first, back.model());
        Path io = resource("examples/mnist_mlp/mnist_mlp_tf_keras_2_inputs_and_outputs.h5");
        Array x = read(io, "inputs/dense_1_input"), want = read(io, "predictions/dense_3");
        float[] a = predict(first, cpu, x.data(), x.batch()), b = predict(back.model(), cpu, x.data(), x.batch());
        assertArrayEquals(a, b, "bit-identical outputs");
        assertClose(want.data(), b, 1e-5, "round trip vs stored Keras predictions");
        dump(dir.resolve("mlp.keras"), "mnist_mlp", x.data(), first.inputs().get(0).shape(), x.batch(), b, first.outputShape());
    }

    @Test
    void keras1MnistCnnRoundTripIsChannelsLastWithKerasLayoutKernels() throws Exception {
        Path cfg = resource("examples/mnist_cnn/mnist_cnn_tf_keras_1_config.json");
        Path w = resource("examples/mnist_cnn/mnist_cnn_tf_keras_1_weights.h5");
        Model first = KerasImporter.load(cfg, Optional.of(w), cpu);
        KerasModel back = roundTrip(first, "cnn", cfg, w);
        assertSameParameters(first, back.model());
        JsonNode config = configOf(dir.resolve("cnn.keras"));
        List<String> classes = new ArrayList<>();
        for (JsonNode l : config.get("config").get("layers")) classes.add(l.get("class_name").asText());
        assertFalse(classes.contains("Permute"), "the IR's NHWC<->NCHW permutes need no Keras layer: " + classes);
        // The second convolution is the second Conv2D of model.layers: group conv2d_1, kernel (kh, kw, in, out).
        assertArrayEquals(read(w, "convolution2d_2/convolution2d_2_W:0").data(), dataset(dir.resolve("cnn.keras"), "layers/conv2d_1/vars/0"));
        float[] x = random(2 * 784, 3, 0.5f);
        for (int i = 0; i < x.length; i++) x[i] += 0.5f;
        float[] b = predict(back.model(), cpu, x, 2);
        assertArrayEquals(predict(first, cpu, x, 2), b);
        dump(dir.resolve("cnn.keras"), "mnist_cnn", x, first.inputs().get(0).shape(), 2, b, first.outputShape());
    }

    /**
     * A model built natively in NCHW with what the real Keras file lacks: paddings Keras cannot
     * say with 'same'/'valid' (written as ZeroPadding2D), count-include-pad average pooling, a
     * grouped convolution, bias-less Dense, per-element PReLU, GlobalAveragePooling with
     * keepdims, sigmoid/tanh/selu/softplus/softsign/elu, log-softmax over a rank-2 tensor.
     */
    @Test
    void nativeNchwModelRoundTrip() throws Exception {
        Model m = Model.builder()
                .input("image", Shape.of(2, 12, 12))
                .then(new Conv2D("conv1", 2, 4, 3, 3, 1, 1, 1, 0, 2, 1, 1, 1, 2, true))         // grouped, asymmetric pad -> [4, 13, 11]
                .then(new BatchNorm("bn", 4, 1e-3f, 0.99f))
                .then(new ActivationLayer("sig", Activation.SIGMOID))
                .then(new AvgPool2D("ap", 2, 2, 2, 2, 1, 1, 1, 1, false, true))                    // -> [4, 7, 6]
                .then(new ActivationLayer("selu", Activation.SELU))
                .add(new GlobalAvgPool2D("gap", true), "selu")                                     // -> [4, 1, 1]
                .add(new Multiply("mul"), "selu", "selu")
                .then(new ActivationLayer("softplus", Activation.SOFTPLUS))
                .then(new PReLU("pr", Shape.of(4, 7, 6)))
                .then(new Conv2D("conv2", 4, 4, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, false))
                .then(new ActivationLayer("softsign", Activation.SOFTSIGN))
                .then(new Flatten("flat"))                                                          // -> [168]
                .add(new Flatten("gap_flat"), "gap")                                                // -> [4]
                .add(new Concat("cat", 0), "flat", "gap_flat")                                      // -> [172]
                .then(new Dense("fc", 172, 12, false))
                .then(new ActivationLayer("elu", Activation.ELU, 1f))
                .then(new ActivationLayer("tanh", Activation.TANH))
                .then(new Reshape("rs", Shape.of(3, 4)))
                .then(new Softmax("lsm", true))
                .build();
        m.bind(cpu, 42);
        BatchNorm bn = (BatchNorm) m.layer("bn");
        cpu.write(new float[]{0.1f, -0.2f, 0.3f, 0f}, 0, bn.movingMean().value(), 0, 4);
        cpu.write(new float[]{0.5f, 1.5f, 0.8f, 2f}, 0, bn.movingVariance().value(), 0, 4);
        cpu.write(random(168, 5, 0.5f), 0, ((PReLU) m.layer("pr")).slope().value(), 0, 168);

        KerasModel back = roundTrip(m, "native");
        assertSameParameters(m, back.model());
        assertEquals(m.inputs().get(0).shape(), back.model().inputs().get(0).shape());
        assertEquals(m.outputShape(), back.model().outputShape());
        float[] x = random(3 * 288, 8, 1f);
        float[] b = predict(back.model(), cpu, x, 3);
        assertClose(predict(m, cpu, x, 3), b, 1e-6, 1e-5, "native model round trip");
        dump(dir.resolve("native.keras"), "native", x, m.inputs().get(0).shape(), 3, b, m.outputShape());
    }

    @Test
    void prunedZerosSurviveExactly() throws Exception {
        Path cfg = resource("examples/mnist_mlp/mnist_mlp_tf_keras_2_config.json");
        Path w = resource("examples/mnist_mlp/mnist_mlp_tf_keras_2_weights.h5");
        Model m = KerasImporter.load(cfg, Optional.of(w), cpu);
        // Magnitude-prune 90% of every kernel, as GMP leaves it: exact zeros in the IR.
        List<float[]> kernels = new ArrayList<>();
        for (Layer l : m.layers()) {
            if (!(l instanceof Dense d)) continue;
            float[] k = cpu.download(d.kernel().value());
            float[] mags = new float[k.length];
            for (int i = 0; i < k.length; i++) mags[i] = Math.abs(k[i]);
            java.util.Arrays.sort(mags);
            float threshold = mags[(int) (0.9 * k.length)];
            for (int i = 0; i < k.length; i++) if (Math.abs(k[i]) < threshold) k[i] = 0f;
            cpu.write(k, 0, d.kernel().value(), 0, k.length);
            kernels.add(k);
        }
        assertEquals(3, kernels.size());
        KerasModel back = roundTrip(m, "pruned", cfg, w);
        String[] groups = {"dense", "dense_1", "dense_2"};
        for (int i = 0; i < 3; i++) {
            float[] stored = dataset(dir.resolve("pruned.keras"), "layers/" + groups[i] + "/vars/0");
            assertArrayEquals(kernels.get(i), stored, "kernel " + groups[i] + " stored with every zero");
            int zeros = 0;
            for (float v : stored) if (v == 0f) zeros++;
            assertTrue(zeros >= 0.9 * stored.length - 1, groups[i] + ": " + zeros + " zeros of " + stored.length);
        }
        assertSameParameters(m, back.model());
        Path io = resource("examples/mnist_mlp/mnist_mlp_tf_keras_2_inputs_and_outputs.h5");
        Array x = read(io, "inputs/dense_1_input");
        float[] b = predict(back.model(), cpu, x.data(), x.batch());
        assertArrayEquals(predict(m, cpu, x.data(), x.batch()), b);
        dump(dir.resolve("pruned.keras"), "pruned_mlp", x.data(), m.inputs().get(0).shape(), x.batch(), b, m.outputShape());
    }

    @Test
    void fileNameChoosesTheFormat() throws Exception {
        Path cfg = resource("examples/mnist_mlp/mnist_mlp_tf_keras_2_config.json");
        Path w = resource("examples/mnist_mlp/mnist_mlp_tf_keras_2_weights.h5");
        Model m = KerasImporter.load(cfg, Optional.of(w), cpu);
        KerasExporter.export(m, dir.resolve("a.h5"));
        KerasExporter.export(m, dir.resolve("b.hdf5"));
        KerasExporter.export(m, dir.resolve("c.KERAS"));
        assertEquals(Optional.of(KerasFormat.HDF5_FULL_MODEL), KerasFormat.detect(dir.resolve("a.h5")));
        assertEquals(Optional.of(KerasFormat.HDF5_FULL_MODEL), KerasFormat.detect(dir.resolve("b.hdf5")));
        assertEquals(Optional.of(KerasFormat.KERAS_ARCHIVE), KerasFormat.detect(dir.resolve("c.KERAS")));
        for (String bad : List.of("model.zip", "model.keras.bak", "model")) {
            ImportException e = assertThrows(ImportException.class, () -> KerasExporter.export(m, dir.resolve(bad)));
            String ext = bad.contains(".") ? bad.substring(bad.lastIndexOf('.')) : "no extension";
            assertTrue(e.getMessage().contains(ext), e.getMessage());
            assertTrue(e.getMessage().contains(".keras") && e.getMessage().contains(".h5"), e.getMessage());
            assertEquals(KerasExporter.EXTENSIONS, e.supported());
            assertFalse(Files.exists(dir.resolve(bad)));
        }
    }

    @Test
    void refusesToOverwriteItsInputAndLeavesItIntact() throws Exception {
        Path src = dir.resolve("model.keras");
        Files.copy(keras3Resource("mlp_sequential.keras"), src);
        byte[] before = Files.readAllBytes(src);
        Model m = KerasImporter.load(src, Optional.empty(), cpu);
        ImportException e = assertThrows(ImportException.class, () -> KerasExporter.export(m, src, src));
        assertTrue(e.getMessage().contains("input"), e.getMessage());
        assertArrayEquals(before, Files.readAllBytes(src));
        try (var files = Files.list(dir)) {
            assertEquals(List.of(src), files.toList());
        }
    }

    @Test
    void kerasTwoHardSigmoidIsRefusedForKeras3ButWrittenToHdf5() {
        Model m = Model.builder().input("x", Shape.of(4)).then(new ActivationLayer("hs", Activation.HARD_SIGMOID)).build().bind(cpu, 1);
        ImportException e = assertThrows(ImportException.class, () -> KerasExporter.export(m, dir.resolve("hs.keras")));
        assertEquals("hs", e.node());
        assertTrue(e.getMessage().contains("relu6") && e.getMessage().contains(".h5") && e.getMessage().contains("slope 0.2, offset 0.5"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("hs.keras")));
        KerasExporter.export(m, dir.resolve("hs.h5"));
        float[] x = {-3f, -1f, 0.5f, 4f};
        assertArrayEquals(predict(m, cpu, x, 1), predict(KerasImporter.load(dir.resolve("hs.h5"), Optional.empty(), cpu), cpu, x, 1));
    }

    @Test
    void layerWithoutKerasEquivalentIsRefused() {
        Model m = Model.builder().input("x", Shape.of(3, 4, 4)).then(new LRN("norm", 3, 1e-4f, 0.75f, 1f)).build().bind(cpu, 1);
        ImportException e = assertThrows(ImportException.class, () -> KerasExporter.export(m, dir.resolve("lrn.keras")));
        assertEquals("norm", e.node());
        assertTrue(e.getMessage().contains("LRN"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("lrn.keras")));
    }

    @Test
    void archiveEntriesAreStoredAsKerasWritesThem() throws Exception {
        Path cfg = resource("examples/mnist_mlp/mnist_mlp_tf_keras_2_config.json");
        Path w = resource("examples/mnist_mlp/mnist_mlp_tf_keras_2_weights.h5");
        Path out = dir.resolve("m.keras");
        KerasExporter.export(KerasImporter.load(cfg, Optional.of(w), cpu), out);
        try (ZipFile z = new ZipFile(out.toFile())) {
            assertEquals(List.of("metadata.json", "config.json", "model.weights.h5"), z.stream().map(ZipEntry::getName).toList());
            for (ZipEntry e : z.stream().toList()) assertEquals(ZipEntry.STORED, e.getMethod(), e.getName());
            JsonNode meta = new ObjectMapper().readTree(z.getInputStream(z.getEntry("metadata.json")));
            assertEquals(Keras3Config.KERAS_VERSION, meta.get("keras_version").asText());
            assertTrue(meta.get("date_saved").asText().matches("\\d{4}-\\d\\d-\\d\\d@\\d\\d:\\d\\d:\\d\\d"), meta.toString());
        }
    }
}
