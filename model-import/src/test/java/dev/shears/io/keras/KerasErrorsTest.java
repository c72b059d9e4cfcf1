package dev.shears.io.keras;

import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.io.ImportException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;

import static dev.shears.io.keras.KerasTestSupport.resource;
import static org.junit.jupiter.api.Assertions.*;

/** Bad input gives an {@link ImportException} naming the file, the layer and what to do. */
class KerasErrorsTest {
    static Backend cpu;
    @TempDir Path dir;

    @BeforeAll static void setUp() { cpu = CpuBackend.create(); }

    @AfterAll static void tearDown() { cpu.close(); }

    static final Path MLP_CONFIG = resource("examples/mnist_mlp/mnist_mlp_tf_keras_2_config.json");
    static final Path MLP_WEIGHTS = resource("examples/mnist_mlp/mnist_mlp_tf_keras_2_weights.h5");

    private ImportException fails(Path model, Optional<Path> weights) {
        return assertThrows(ImportException.class, () -> KerasImporter.load(model, weights, cpu));
    }

    private Path mlpConfigWith(String from, String to) throws Exception {
        String text = Files.readString(MLP_CONFIG);
        assertTrue(text.contains(from), from);
        Path p = dir.resolve("edited_config.json");
        Files.writeString(p, text.replaceFirst(java.util.regex.Pattern.quote(from), to));
        return p;
    }

    /**
     * Writes {@code file}: a functional model of an InputLayer "in" with batch_input_shape
     * [null, {@code inputDims}], then {@code layer} (the JSON of one layer); the model's output is
     * call {@code outputCall} of layer {@code output}.
     */
    private Path modelOfInputAnd(String file, String inputDims, String layer, String output, int outputCall) throws Exception {
        Path p = dir.resolve(file);
        Files.writeString(p, """
                {"class_name": "Model", "config": {"name": "m", "layers": [
                 {"name": "in", "class_name": "InputLayer", "config": {"batch_input_shape": [null, %s], "name": "in"}, "inbound_nodes": []},
                 %s
                ], "input_layers": [["in", 0, 0]], "output_layers": [["%s", %d, 0]]}}
                """.formatted(inputDims, layer, output, outputCall));
        return p;
    }

    /** {@link #modelOfInputAnd(String, String, String, String, int)} whose output is the first call of {@code output}. */
    private Path modelOfInputAnd(String file, String inputDims, String layer, String output) throws Exception {
        return modelOfInputAnd(file, inputDims, layer, output, 0);
    }

    /** Cut points: inside the superblock, in the object headers, mid-data, just before the end. */
    @ParameterizedTest
    @ValueSource(doubles = {0.002, 0.05, 0.5, 0.99})
    void truncatedFullModelFile(double keep) throws Exception {
        byte[] all = Files.readAllBytes(resource("fullconfigs/cnn/cnn_batch_norm.h5"));
        Path cut = dir.resolve("cnn_batch_norm_truncated.h5");
        Files.write(cut, Arrays.copyOf(all, (int) (all.length * keep)));
        ImportException e = fails(cut, Optional.empty());
        assertEquals(cut, e.file());
        assertTrue(e.getMessage().contains(cut.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("truncated or corrupt") || e.getMessage().contains("HDF5"), e.getMessage());
    }

    @Test
    void truncatedWeightsFile() throws Exception {
        byte[] all = Files.readAllBytes(MLP_WEIGHTS);
        Path cut = dir.resolve("weights_truncated.h5");
        Files.write(cut, Arrays.copyOf(all, all.length / 3));
        ImportException e = fails(MLP_CONFIG, Optional.of(cut));
        assertEquals(cut, e.file());
        assertTrue(e.getMessage().contains("truncated or corrupt"), e.getMessage());
    }

    @Test
    void garbageAfterAnHdf5Signature() throws Exception {
        byte[] junk = new byte[4000];
        new java.util.Random(3).nextBytes(junk);
        System.arraycopy(KerasFormat.HDF5_SIGNATURE, 0, junk, 0, 8);
        Path p = dir.resolve("junk.h5");
        Files.write(p, junk);
        ImportException e = fails(p, Optional.empty());
        assertEquals(p, e.file());
    }

    @Test
    void notAKerasFile() throws Exception {
        Path p = dir.resolve("model.onnx");
        Files.write(p, new byte[]{0x08, 0x07, 0x12, 0x04, 't', 'e', 's', 't'});
        ImportException e = fails(p, Optional.empty());
        assertTrue(e.getMessage().contains("not a Keras file"), e.getMessage());
        assertFalse(e.supported().isEmpty());
        assertFalse(KerasImporter.canRead(p));
        // a zip that is no Keras archive: the same answer now that the importer, not detection, looks for config.json
        Path zip = dir.resolve("plain.keras");
        Keras3ArchiveTest.zip(zip, java.util.Map.of("readme.txt", new byte[]{'h', 'i'}));
        ImportException z = fails(zip, Optional.empty());
        assertTrue(z.getMessage().contains("not a Keras file") && !z.supported().isEmpty(), z.getMessage());
        assertEquals(zip, z.file());
        assertFalse(KerasImporter.canRead(zip));
        // a zip header with nothing readable behind it
        Path cut = dir.resolve("cut.keras");
        Files.write(cut, new byte[]{'P', 'K', 3, 4, 0, 0});
        ImportException c = fails(cut, Optional.empty());
        assertTrue(c.getMessage().contains("truncated or corrupt"), c.getMessage());
    }

    @Test
    void missingFile() {
        ImportException e = fails(dir.resolve("nope.h5"), Optional.empty());
        assertTrue(e.getMessage().contains("no such file"), e.getMessage());
    }

    @Test
    void unsupportedLayerNamesClassLayerFileAndTheSupportedOnes() throws Exception {
        Path cfg = mlpConfigWith("\"class_name\": \"Dropout\"", "\"class_name\": \"GaussianNoise\"");
        ImportException e = fails(cfg, Optional.of(MLP_WEIGHTS));
        assertEquals("dropout_1", e.node());
        assertEquals(cfg, e.file());
        assertTrue(e.getMessage().contains("GaussianNoise"), e.getMessage());
        assertTrue(e.getMessage().contains(cfg.toString()), e.getMessage());
        assertTrue(e.supported().contains("Dense") && e.supported().contains("Conv2D"), e.supported().toString());
        assertTrue(e.getMessage().contains("supported: "), e.getMessage());
    }

    @Test
    void unsupportedActivation() throws Exception {
        ImportException e = fails(mlpConfigWith("\"activation\": \"relu\"", "\"activation\": \"gelu\""), Optional.of(MLP_WEIGHTS));
        assertEquals("dense_1", e.node());
        assertTrue(e.getMessage().contains("gelu"), e.getMessage());
        assertTrue(e.supported().contains("relu"));
    }

    @Test
    void weightShapesThatDisagreeWithTheConfig() throws Exception {
        ImportException e = fails(mlpConfigWith("\"units\": 512", "\"units\": 256"), Optional.of(MLP_WEIGHTS));
        assertEquals("dense_1", e.node());
        assertEquals(MLP_WEIGHTS, e.file());
        assertTrue(e.getMessage().contains("[784, 512]") && e.getMessage().contains("[784, 256]"), e.getMessage());
        // either file may be the wrong one: the config is named too (KerasCorruptionTest found a damaged config named nowhere)
        assertTrue(e.getMessage().contains("edited_config.json"), e.getMessage());
    }

    /** Found by KerasCorruptionTest (-Dshears.fuzz.seed=1): a value a layer refuses was a bare IllegalArgumentException. */
    @Test
    void layerValueTheLayerRefusesNamesTheLayer() throws Exception {
        Path p = mlpConfigWith("\"units\": 512", "\"units\": -11");
        ImportException e = fails(p, Optional.of(MLP_WEIGHTS));
        assertEquals("dense_1", e.node());
        assertEquals(p, e.file());
        assertTrue(e.getMessage().contains("-11"), e.getMessage());
    }

    /** Found by KerasCorruptionTest (-Dshears.fuzz.seed=5): a ragged ((top, bottom), (left)) padding was a NullPointerException. */
    @Test
    void raggedZeroPaddingNamesTheLayer() throws Exception {
        Path p = modelOfInputAnd("pad.json", "4, 4, 1", """
                {"name": "pad", "class_name": "ZeroPadding2D", "config": {"name": "pad", "padding": [[1, 1], [1]]}, "inbound_nodes": [[["in", 0, 0, {}]]]}""", "pad");
        ImportException e = fails(p, Optional.of(MLP_WEIGHTS));
        assertEquals("pad", e.node());
        assertTrue(e.getMessage().contains("is not ((top, bottom), (left, right))"), e.getMessage());
    }

    /**
     * Integers are read strictly (StrictJson): a fractional value was truncated (units 512.5 loaded as
     * 512) and text read as 0 (a padding of "x" loaded as no padding), so a damaged config passed or a
     * later check failed on something else. The error names the file, the layer, the field and the value.
     */
    @Test
    void fractionalIntegerFieldNamesTheFieldAndValue() throws Exception {
        Path p = mlpConfigWith("\"units\": 512", "\"units\": 512.5");
        ImportException e = fails(p, Optional.of(MLP_WEIGHTS));
        assertEquals("dense_1", e.node());
        assertEquals(p, e.file());
        assertTrue(e.getMessage().contains("'config.units' is 512.5, expected an integer"), e.getMessage());
    }

    /** A field read under its older name (Keras 1's output_dim for units) is named by the name the file uses. */
    @Test
    void fractionalIntegerUnderAnOlderNameNamesThatName() throws Exception {
        Path p = mlpConfigWith("\"units\": 512", "\"output_dim\": 512.5");
        ImportException e = fails(p, Optional.of(MLP_WEIGHTS));
        assertEquals("dense_1", e.node());
        assertTrue(e.getMessage().contains("'config.output_dim' is 512.5, expected an integer"), e.getMessage());
    }

    @Test
    void textWhereAPaddingIntegerBelongsNamesTheFieldAndValue() throws Exception {
        Path p = modelOfInputAnd("pad.json", "4, 4, 1", """
                {"name": "pad", "class_name": "ZeroPadding2D", "config": {"name": "pad", "padding": [1, "x"]}, "inbound_nodes": [[["in", 0, 0, {}]]]}""", "pad");
        ImportException e = fails(p, Optional.of(MLP_WEIGHTS));
        assertEquals("pad", e.node());
        assertEquals(p, e.file());
        assertTrue(e.getMessage().contains("'config.padding[1]' is \"x\", expected an integer"), e.getMessage());
    }

    /** Found by KerasCorruptionTest: a keras_history that is not [layer, call, output] was a NullPointerException. */
    @Test
    void malformedInboundReference() throws Exception {
        Path p = modelOfInputAnd("history.json", "4", """
                {"name": "d", "class_name": "Dense", "config": {"name": "d", "units": 4}, "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": 7}}]}]}""", "d");
        ImportException e = fails(p, Optional.of(MLP_WEIGHTS));
        assertEquals("d", e.node());
        assertEquals(p, e.file());
        assertTrue(e.getMessage().contains("inbound reference layers[1].inbound_nodes[0].args[0].config.keras_history is 7,"
                + " not [layer name, call index, output index]"), e.getMessage());
    }

    /**
     * A damaged index of a Keras 2 inbound reference is named by its index path in the config, not by
     * quoting the whole reference (which carries the call's kwargs); 1.5 is not read as call 1.
     */
    @Test
    void damagedInboundIndexNamesItsPath() throws Exception {
        String[][] cases = {{"1.5", "0", "'layers[1].inbound_nodes[0][1][1]' is 1.5, expected an integer"},
                {"0", "\"x\"", "'layers[1].inbound_nodes[0][1][2]' is \"x\", expected an integer"}};
        for (String[] c : cases) {
            Path p = modelOfInputAnd("index.json", "4", """
                    {"name": "add", "class_name": "Add", "config": {"name": "add"}, "inbound_nodes": [[["in", 0, 0, {"training": false}], ["in", %s, %s, {}]]]}""".formatted(c[0], c[1]), "add");
            ImportException e = fails(p, Optional.of(MLP_WEIGHTS));
            assertEquals("add", e.node());
            assertEquals(p, e.file());
            assertTrue(e.getMessage().contains("inbound reference " + c[2]), e.getMessage());
            assertFalse(e.getMessage().contains("training"), e.getMessage());
        }
    }

    /**
     * Booleans, numbers and strings are read strictly (StrictJson): the error names the file, the layer,
     * the field's path and the value. Jackson's asBoolean() read "yes" and 1 as false; asText() turned a
     * layer name 7 or a keras_version 2.4 into text.
     */
    @Test
    void wrongTypedBooleanNumberOrStringNamesTheFieldAndValue() throws Exception {
        String[][] cases = {
                {"\"use_bias\": true", "\"use_bias\": \"yes\"", "dense_1", "'config.use_bias' is \"yes\", expected true or false"},
                {"\"use_bias\": true", "\"use_bias\": 1", "dense_1", "'config.use_bias' is 1, expected true or false"},
                {"\"rate\": 0.2", "\"rate\": \"0.2\"", "dropout_1", "'config.rate' is \"0.2\", expected a number"},
                {"\"activation\": \"relu\"", "\"activation\": 7", "dense_1", "activation 7 is neither a name"},
                {"\"keras_version\": \"", "\"keras_version\": 2.4, \"x\": \"", null, "'keras_version' is 2.4, expected a string"}};
        for (String[] c : cases) {
            Path p = mlpConfigWith(c[0], c[1]);
            ImportException e = fails(p, Optional.of(MLP_WEIGHTS));
            assertEquals(c[2], e.node(), c[1]);
            assertEquals(p, e.file());
            assertTrue(e.getMessage().contains(c[3]), e.getMessage());
        }
        Path p = modelOfInputAnd("name.json", "4", """
                {"name": 7, "class_name": "Dense", "config": {"name": "d", "units": 4}, "inbound_nodes": [[["in", 0, 0, {}]]]}""", "7");
        ImportException e = fails(p, Optional.of(MLP_WEIGHTS));
        assertEquals(p, e.file());
        assertTrue(e.getMessage().contains("'layers[1].name' is 7, expected a string"), e.getMessage());
    }

    /** BatchNormalization's momentum and epsilon as text are refused with their path, not read as 0.0. */
    @Test
    void textWhereABatchNormFloatBelongsNamesTheField() throws Exception {
        for (String field : new String[]{"momentum", "epsilon"}) {
            Path p = modelOfInputAnd("bn.json", "4", """
                    {"name": "bn", "class_name": "BatchNormalization", "config": {"name": "bn", "axis": -1, "%s": "0.5"}, "inbound_nodes": [[["in", 0, 0, {}]]]}""".formatted(field), "bn");
            ImportException e = fails(p, Optional.of(MLP_WEIGHTS));
            assertEquals("bn", e.node());
            assertEquals(p, e.file());
            assertTrue(e.getMessage().contains("'config." + field + "' is \"0.5\", expected a number"), e.getMessage());
        }
    }

    @Test
    void weightsOfAnotherModel() {
        ImportException e = fails(MLP_CONFIG, Optional.of(resource("examples/mnist_cnn/mnist_cnn_tf_keras_1_weights.h5")));
        assertTrue(e.getMessage().contains("shape") || e.getMessage().contains("no weights"), e.getMessage());
    }

    @Test
    void configWithoutWeightsAndWeightsWithoutConfig() {
        ImportException e = fails(MLP_CONFIG, Optional.empty());
        assertTrue(e.getMessage().contains("--weights"), e.getMessage());
        ImportException w = fails(MLP_WEIGHTS, Optional.empty());
        assertTrue(w.getMessage().contains("only weights"), w.getMessage());
    }

    @Test
    void invalidJson() throws Exception {
        Path p = dir.resolve("broken.json");
        Files.writeString(p, "{\"class_name\": \"Sequential\", \"config\": [");
        ImportException e = fails(p, Optional.of(MLP_WEIGHTS));
        assertTrue(e.getMessage().contains("not valid JSON"), e.getMessage());
    }

    @Test
    void sharedLayerIsRefused() throws Exception {
        Path p = modelOfInputAnd("shared.json", "4", """
                {"name": "d", "class_name": "Dense", "config": {"name": "d", "units": 4}, "inbound_nodes": [[["in", 0, 0, {}]], [["d", 0, 0, {}]]]}""", "d", 1);
        ImportException e = fails(p, Optional.of(MLP_WEIGHTS));
        assertEquals("d", e.node());
        assertTrue(e.getMessage().contains("shared layer"), e.getMessage());
    }
}
