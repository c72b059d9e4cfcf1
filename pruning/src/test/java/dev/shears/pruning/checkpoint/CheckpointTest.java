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
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

class CheckpointTest {
    final Backend be = CpuBackend.create();

    /** A DAG that uses every layer type the checkpoint stores, with a branch and a join. */
    Model everyLayer() {
        return Model.builder().input("x", Shape.of(3, 12, 12))
                .add(new Rescale("rescale", 1f / 127.5f, -1f), "x")
                .add(new ZeroPad2D("pad", 1, 1, 1, 1), "rescale")
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

    /** Global pooling layers (MobileNet's heads) keep their type and keepDims through a checkpoint. */
    @Test
    void globalPoolingRoundTrips(@TempDir Path dir) throws Exception {
        Model m = Model.builder().input("x", Shape.of(4, 5, 5))
                .add(new Conv2D("dw", 4, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 4, true), "x")
                .add(new GlobalMaxPool2D("gmp", true), "dw")
                .add(new GlobalAvgPool2D("gap", false), "gmp")
                .add(new Dense("fc", 4, 3, true), "gap")
                .build().bind(be, 5);
        Path file = dir.resolve("g.shears");
        new Checkpoint(m, "name: r\n", new ObjectMapper().createObjectNode()).write(file);
        Model back = Checkpoint.read(file, be).model();
        assertEquals(List.of("Conv2D", "GlobalMaxPool2D", "GlobalAvgPool2D", "Dense"), back.nodes().stream().map(n -> n.layer().type()).toList());
        assertTrue(((GlobalMaxPool2D) back.nodes().get(1).layer()).keepDims());
        assertEquals(Shape.of(4, 1, 1), back.shapeOf("gmp"));
        float[] x = new float[2 * 4 * 5 * 5];
        SplittableRandom r = new SplittableRandom(2);
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        assertArrayEquals(out(m, x), out(back, x), "identical outputs after the round trip");
    }

    /**
     * A model's class names (what each output means) survive the round trip; a model without names is
     * written without the field (as every checkpoint before it) and reads back without names; damaged
     * names are refused naming the field.
     */
    @Test
    void classNamesRoundTripAndAreOptional(@TempDir Path dir) throws Exception {
        var names = java.util.List.of("Ankle boot", "Bag", "Coat", "Dress", "Pullover", "Sandal", "Shirt", "Sneaker", "T-shirt", "Trouser");
        Model m = everyLayer().bind(be, 3).setClassNames(names);
        Path file = dir.resolve("named.shears");
        new Checkpoint(m, null, null).write(file);
        assertEquals(names, Checkpoint.read(file, be).model().classNames());

        Path plain = dir.resolve("plain.shears");
        new Checkpoint(everyLayer().bind(be, 3), null, null).write(plain);
        try (var zip = new java.util.zip.ZipFile(plain.toFile())) {
            String json = new String(zip.getInputStream(zip.getEntry("model.json")).readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            assertFalse(json.contains("classNames"), json);
        }
        assertEquals(java.util.List.of(), Checkpoint.read(plain, be).model().classNames());

        String[][] cases = {
                {"notArray", "\"classNames\"\\s*:\\s*\\[[^\\]]*\\]", "\"classNames\" : \"Bag\"", "'classNames' is \"Bag\", expected an array of class names"},
                {"number", "\"Ankle boot\"", "7", "'classNames[0]' is 7, expected a string"},
                {"twice", "\"Bag\"", "\"Ankle boot\"", "class name 'Ankle boot' given twice"},
                {"tooMany", "\"Trouser\"", "\"Trouser\", \"Extra\"", "11 class names for a model with 10 outputs"}};
        assertEditsRefused(file, dir, "model.json", cases);
    }

    /** readEntry gives one entry's bytes without reading the model, null for an entry the file lacks, and refuses a file it cannot open. */
    @Test
    void readEntryReadsOneEntry(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("m.shears");
        new Checkpoint(everyLayer().bind(be, 3), "name: r\n", null).write(file);
        assertEquals("name: r\n", new String(Checkpoint.readEntry(file, "recipe.yaml"), java.nio.charset.StandardCharsets.UTF_8));
        assertArrayEquals(readEntry(file, "model.json"), Checkpoint.readEntry(file, "model.json"));
        assertNull(Checkpoint.readEntry(file, "training.json"));
        Path missing = dir.resolve("missing.shears");
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.readEntry(missing, "recipe.yaml"));
        assertTrue(e.getMessage().startsWith(missing + ": not a readable Shears checkpoint"), e.getMessage());
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
    /** A file written by version 1 (no training state) loads as before: same weights and masks. */
    @Test
    void versionOneCheckpointStillLoads() throws Exception {
        Path v1 = Path.of(getClass().getResource("/checkpoints/v1-mlp.shears").toURI());
        Backend one = new CpuBackend(1);
        Checkpoint c = Checkpoint.read(v1, one);
        assertNull(c.training());
        assertFalse(c.partial());
        assertEquals("name: v1\n", c.recipeYaml());
        assertEquals("prune", c.metrics().get("command").asText());
        // the same model and pruning, rebuilt now (see resources/checkpoints/README.md)
        Model m = Model.builder().input("x", Shape.of(16))
                .then(new Dense("dense_1", 16, 12, true))
                .then(new ActivationLayer("relu_1", Activation.RELU))
                .then(new Dense("dense_2", 12, 4, true)).build().bind(one, 3);
        new dev.shears.pruning.MagnitudePruner(one).update(java.util.List.of(m.parameter("dense_1/kernel"), m.parameter("dense_2/kernel")),
                0.5, dev.shears.pruning.recipe.Scope.LAYER);
        for (Parameter p : m.parameters()) {
            Parameter q = c.model().parameter(p.name());
            assertArrayEquals(one.download(p.value()), one.download(q.value()), p.name());
            if (p.mask() == null) assertNull(q.mask(), p.name());
            else assertArrayEquals(one.downloadBytes(p.mask()), one.downloadBytes(q.mask()), p.name());
        }
        // written again, it becomes a version 2 file without training state
        Path again = Files.createTempFile("v2", ".shears");
        try {
            c.write(again);
            String json = new String(readEntry(again, "model.json"), java.nio.charset.StandardCharsets.UTF_8);
            assertTrue(json.contains("\"version\" : 2"), json);
            assertNull(readEntry(again, "training.json"));
            assertNull(Checkpoint.read(again, one).training());
        } finally {
            Files.deleteIfExists(again);
        }
    }

    @Test
    void newerVersionIsRefusedWithBothNumbers(@TempDir Path dir) throws Exception {
        Model m = everyLayer().bind(be, 1);
        Path file = dir.resolve("m.shears");
        new Checkpoint(m, null, null).write(file);
        Path future = dir.resolve("future.shears");
        rewriteEntry(file, future, "model.json", t -> t.replace("\"version\" : 2", "\"version\" : 3"));
        var e = assertThrows(CheckpointException.class, () -> Checkpoint.read(future, be));
        assertTrue(e.getMessage().contains("version 3") && e.getMessage().contains("(2)"), e.getMessage());
    }

    /** Every field of a training state survives the file, NaN, N:M updates, labels and a distillation loss included. */
    @Test
    void trainingStateRoundTrips(@TempDir Path dir) {
        Model m = everyLayer().bind(be, 1);
        var layers = new java.util.LinkedHashMap<String, Double>();
        layers.put("fc/kernel", 0.5);
        layers.put("conv/kernel", 1.0 / 3);
        var epochs = java.util.List.of(
                new dev.shears.pruning.train.EpochMetrics(0, 0.05, Double.NaN, Double.NaN, 2.3, 0.1, 0, 0, layers, 0),
                new dev.shears.pruning.train.EpochMetrics(1, 0.1 + 0.2, 1.1, 0.7, Double.POSITIVE_INFINITY, 0.8, 0.25, 0.24999999999999997, layers, 1.5,
                        0.123456789)); // a distillation loss (the others have none: NaN, not written)
        var nm = new dev.shears.pruning.MaskUpdate(0.3, dev.shears.pruning.recipe.Scope.LAYER, dev.shears.pruning.recipe.NmStructure.TWO_FOUR, 3,
                java.util.List.of(new dev.shears.pruning.LayerSparsity("fc/kernel", 5760, 1440)));
        var plain = new dev.shears.pruning.MaskUpdate(0.123456789, dev.shears.pruning.recipe.Scope.GLOBAL,
                java.util.List.of(new dev.shears.pruning.LayerSparsity("fc/kernel", 5760, 711), new dev.shears.pruning.LayerSparsity("conv/kernel", 216, 27)));
        var events = java.util.List.of(new dev.shears.pruning.train.PruningEvent(0, 19, 1.0, plain, false),
                new dev.shears.pruning.train.PruningEvent(1, 29, 29 / 19.0, nm, true));
        var opt = new java.util.LinkedHashMap<String, float[]>();
        opt.put("fc/kernel/m", new float[]{1f, -0f, Float.MIN_VALUE, 3.4e38f});
        opt.put("fc/kernel/v", new float[]{0.5f});
        var s = new dev.shears.pruning.train.TrainingState(1, 4, 19, -7, "adam(beta1=0.9)", 19, opt,
                new dev.shears.pruning.train.TrainingState.History(epochs, events, new dev.shears.core.nn.Evaluator.Result(0.4, 0.85, 300)),
                false, java.util.Map.of("command", "prune", "data", "fashion-mnist"));
        Path file = dir.resolve("m.shears");
        new Checkpoint(m, "name: r\n", null, s).write(file);
        Checkpoint back = Checkpoint.read(file, be);
        assertTrue(back.partial());
        var t = back.training();
        assertEquals(s.epoch(), t.epoch());
        assertEquals(s.epochs(), t.epochs());
        assertEquals(s.stepsPerEpoch(), t.stepsPerEpoch());
        assertEquals(s.seed(), t.seed());
        assertEquals(s.optimizer(), t.optimizer());
        assertEquals(s.optimizerSteps(), t.optimizerSteps());
        assertEquals(s.labels(), t.labels());
        assertEquals(s.complete(), t.complete());
        assertEquals(java.util.List.copyOf(s.optimizerState().keySet()), java.util.List.copyOf(t.optimizerState().keySet()));
        for (var e : s.optimizerState().entrySet()) assertArrayEquals(e.getValue(), t.optimizerState().get(e.getKey()), e.getKey());
        assertEquals(s.history(), t.history());
        assertEquals(java.util.List.copyOf(layers.keySet()), java.util.List.copyOf(t.history().epochs().get(1).layerSparsity().keySet()), "layer order kept");
        // the finished form keeps the history, drops the optimizer tensors and is no longer partial
        new Checkpoint(m, "name: r\n", null, s.finished()).write(file);
        Checkpoint done = Checkpoint.read(file, be);
        assertFalse(done.partial());
        assertTrue(done.training().complete());
        assertTrue(done.training().optimizerState().isEmpty());
        assertEquals(s.history(), done.training().history());
    }

    /**
     * The right answers per class of the run's first and last test passes (the report's per-class before and after) are
     * kept in training.json's history; a file without them (as Shears wrote before) reads back without them, and
     * impossible counts are refused naming the field.
     */
    @Test
    void perClassCountsRoundTripAndAreOptional(@TempDir Path dir) throws Exception {
        Model m = everyLayer().bind(be, 1);
        var layers = new java.util.LinkedHashMap<String, Double>();
        var epochs = java.util.List.of(
                new dev.shears.pruning.train.EpochMetrics(0, 0.05, Double.NaN, Double.NaN, 2.3, 0.5, 0, 0, layers, 0),
                new dev.shears.pruning.train.EpochMetrics(1, 0.05, 1.1, 0.7, 1.2, 0.6, 0, 0, layers, 1.5));
        var initial = new dev.shears.core.nn.ClassCounts(new long[]{3, 0, 2}, new long[]{4, 1, 5});
        var last = new dev.shears.core.nn.ClassCounts(new long[]{4, 1, 1}, new long[]{4, 1, 5});
        for (var pair : java.util.List.of(java.util.Arrays.asList(initial, last), java.util.Arrays.asList(initial, null),
                java.util.Arrays.<dev.shears.core.nn.ClassCounts>asList(null, null))) {
            var s = new dev.shears.pruning.train.TrainingState(1, 1, 19, 3, "sgd(momentum=0.9)", 19, new java.util.LinkedHashMap<>(),
                    new dev.shears.pruning.train.TrainingState.History(epochs, java.util.List.of(), null, pair.get(0), pair.get(1)), false, java.util.Map.of());
            Path file = dir.resolve("m.shears");
            new Checkpoint(m, null, null, s).write(file);
            var h = Checkpoint.read(file, be).training().history();
            assertEquals(pair.get(0), h.initialPerClass());
            assertEquals(pair.get(1), h.finalPerClass());
            String json = new String(Checkpoint.readEntry(file, "training.json"), java.nio.charset.StandardCharsets.UTF_8);
            assertEquals(pair.get(0) != null, json.contains("\"perClass\""), "written only when counted: " + json);
        }
        // more right than samples: refused, naming the file, the class and the counts
        var s = new dev.shears.pruning.train.TrainingState(1, 1, 19, 3, "sgd(momentum=0.9)", 19, new java.util.LinkedHashMap<>(),
                new dev.shears.pruning.train.TrainingState.History(epochs, java.util.List.of(), null, initial, last), false, java.util.Map.of());
        Path file = dir.resolve("good.shears"), bad = dir.resolve("bad.shears");
        new Checkpoint(m, null, null, s).write(file);
        rewriteEntry(file, bad, "training.json", t -> t.replaceFirst("\"correct\"\\s*:\\s*\\[\\s*3", "\"correct\" : [ 9"));
        var e = assertThrows(CheckpointException.class, () -> Checkpoint.read(bad, be));
        assertTrue(e.getMessage().contains(bad.toString()) && e.getMessage().contains("class 0 has 9 right of 4 samples"), e.getMessage());
        rewriteEntry(file, bad, "training.json", t -> t.replaceFirst("\"total\"\\s*:\\s*\\[\\s*4", "\"total\" : [ \"x\""));
        e = assertThrows(CheckpointException.class, () -> Checkpoint.read(bad, be));
        assertTrue(e.getMessage().contains("history.perClass.initial.total[0]"), e.getMessage());
    }

    /** A damaged training state is a CheckpointException naming the file and what is wrong, never a raw runtime error. */
    @Test
    void damagedTrainingStateIsNamed(@TempDir Path dir) throws Exception {
        Model m = everyLayer().bind(be, 1);
        var opt = new java.util.LinkedHashMap<String, float[]>();
        opt.put("fc/kernel/velocity", new float[]{1f, 2f, 3f, 4f});
        var layers = new java.util.LinkedHashMap<String, Double>();
        var epochs = java.util.List.of(
                new dev.shears.pruning.train.EpochMetrics(0, 0.05, Double.NaN, Double.NaN, 2.3, 0.1, 0, 0, layers, 0),
                new dev.shears.pruning.train.EpochMetrics(1, 0.05, 1.1, 0.7, 1.2, 0.6, 0, 0, layers, 1.5));
        var s = new dev.shears.pruning.train.TrainingState(1, 4, 19, 3, "sgd(momentum=0.9)", 19, opt,
                new dev.shears.pruning.train.TrainingState.History(epochs, java.util.List.of(), null), false, java.util.Map.of());
        Path file = dir.resolve("m.shears");
        new Checkpoint(m, null, null, s).write(file);
        assertTrue(Checkpoint.isPartial(file));
        String[][] cases = {{"-4", "negative size -4"}, {"5", "optimizer.bin is truncated"}, {"3", "4 bytes more than training.json describes"},
                // integers are read strictly (StrictJson): "x" was read as 0 (then "16 bytes more"), 4.5 as 4 and loaded
                {"\"x\"", "'optimizer.state[0].size' is \"x\", expected an integer"},
                {"4.5", "'optimizer.state[0].size' is 4.5, expected an integer"}};
        int k = 0;
        for (String[] c : cases) {
            Path bad = dir.resolve("bad" + k++ + ".shears");
            rewriteEntry(file, bad, "training.json", t -> t.replaceFirst("\"size\"\\s*:\\s*4", "\"size\" : " + c[0]));
            var e = assertThrows(CheckpointException.class, () -> Checkpoint.read(bad, be), "size " + c[0]);
            assertTrue(e.getMessage().contains(bad.toString()) && e.getMessage().contains(c[1]), e.getMessage());
        }
    }

    /**
     * A model.json that parses but describes an impossible model (found by CheckpointCorruptionTest)
     * is a CheckpointException naming the file, not the IllegalArgumentException of Shape or Model.
     */
    @Test
    void impossibleModelJsonIsNamed(@TempDir Path dir) throws Exception {
        Model m = everyLayer().bind(be, 1);
        Path file = dir.resolve("m.shears");
        new Checkpoint(m, null, null).write(file);
        String[][] cases = {
                {"negative", "\\[\\s*3,", "[ -3,", "negative dimension"},
                {"undefined", "\"inputs\"\\s*:\\s*\\[\\s*\"x\"\\s*\\]", "\"inputs\" : [ \"nowhere\" ]", "nowhere"},
                {"huge", "\\[\\s*3,", "[ 1e308,", "[0]' is 1.0E308, expected an integer"},
                {"text", "\\[\\s*3,", "[ \"three\",", "[0]' is \"three\", expected an integer"},
                // integers are read strictly (StrictJson): "x" was read as version 0 and loaded, 1.5 groups as 1 and loaded
                {"version", "\"version\"\\s*:\\s*2", "\"version\" : \"x\"", "model.json field 'version' is \"x\", expected an integer"},
                {"fraction", "\"groups\"\\s*:\\s*1", "\"groups\" : 1.5", ".config.groups' is 1.5, expected an integer"}};
        assertEditsRefused(file, dir, "model.json", cases);
    }

    /**
     * Booleans, floats and strings of model.json are read strictly (StrictJson): asBoolean() read "yes"
     * and 1 as false (a Dense without its bias, a mask dropped), a text momentum was not named, and
     * asText() turned a number into a layer name. The error names the file, the field's path and the value.
     */
    @Test
    void wrongTypedModelJsonFieldsAreNamed(@TempDir Path dir) throws Exception {
        Model m = everyLayer().bind(be, 1);
        Path file = dir.resolve("m.shears");
        new Checkpoint(m, null, null).write(file);
        String[][] cases = {
                {"bias", "\"bias\"\\s*:\\s*true", "\"bias\" : \"yes\"", ".config.bias' is \"yes\", expected true or false"},
                {"bias1", "\"bias\"\\s*:\\s*true", "\"bias\" : 1", ".config.bias' is 1, expected true or false"},
                {"momentum", "\"momentum\"\\s*:\\s*[0-9.eE-]+", "\"momentum\" : \"0.9\"", ".config.momentum' is \"0.9\", expected a number"},
                {"epsilon", "\"epsilon\"\\s*:\\s*[0-9.eE-]+", "\"epsilon\" : \"tiny\"", ".config.epsilon' is \"tiny\", expected a number"},
                {"rate", "\"rate\"\\s*:\\s*[0-9.eE-]+", "\"rate\" : \"half\"", ".config.rate' is \"half\", expected a number"},
                {"floatRange", "\"rate\"\\s*:\\s*[0-9.eE-]+", "\"rate\" : 1e39", ".config.rate' is 1.0E39, expected a number within float range"},
                {"masked", "\"masked\"\\s*:\\s*(true|false)", "\"masked\" : \"no\"", "'parameters[0].masked' is \"no\", expected true or false"},
                {"name", "\"output\"\\s*:\\s*\"[^\"]*\"", "\"output\" : 12", "'output' is 12, expected a string"},
                {"format", "\"format\"\\s*:\\s*\"[^\"]*\"", "\"format\" : 1", "model.json has format 1, expected \"shears-checkpoint\""}};
        assertEditsRefused(file, dir, "model.json", cases);
    }

    /** training.json's booleans and metrics are strict too: "yes" is not false, and "x" is not parsed as a number. */
    @Test
    void wrongTypedTrainingJsonFieldsAreNamed(@TempDir Path dir) throws Exception {
        Model m = everyLayer().bind(be, 1);
        var layers = new java.util.LinkedHashMap<String, Double>();
        var epochs = java.util.List.of(new dev.shears.pruning.train.EpochMetrics(0, 0.05, Double.NaN, 0.5, 2.3, 0.1, 0, 0, layers, 0));
        var s = new dev.shears.pruning.train.TrainingState(0, 4, 19, 3, "sgd(momentum=0.9)", 19, new java.util.LinkedHashMap<>(),
                new dev.shears.pruning.train.TrainingState.History(epochs, java.util.List.of(), null), false, java.util.Map.of("command", "train"));
        Path file = dir.resolve("m.shears");
        new Checkpoint(m, null, null, s).write(file);
        assertEquals(s.history(), Checkpoint.read(file, be).training().history()); // "NaN" as text is how a NaN metric is written
        String[][] cases = {
                {"complete", "\"complete\"\\s*:\\s*false", "\"complete\" : \"yes\"", "'complete' is \"yes\", expected true or false"},
                {"lr", "\"lr\"\\s*:\\s*[0-9.eE-]+", "\"lr\" : \"x\"", "'history.epochs[0].lr' is \"x\", expected a number"},
                {"lrHex", "\"lr\"\\s*:\\s*[0-9.eE-]+", "\"lr\" : \"0x1p3\"", "'history.epochs[0].lr' is \"0x1p3\""},
                {"describe", "\"describe\"\\s*:\\s*\"[^\"]*\"", "\"describe\" : {}", "'optimizer.describe' is {}, expected a string"},
                {"label", "\"command\"\\s*:\\s*\"train\"", "\"command\" : 3", "'labels.command' is 3, expected a string"}};
        assertEditsRefused(file, dir, "training.json", cases);
    }

    /** A "partial" that is not true or false is a damaged file: read() names it rather than isPartial calling it finished silently. */
    @Test
    void wrongTypedPartialIsRefusedByRead(@TempDir Path dir) throws Exception {
        Model m = everyLayer().bind(be, 1);
        Path file = dir.resolve("m.shears"), bad = dir.resolve("bad.shears");
        new Checkpoint(m, null, null).write(file);
        rewriteEntry(file, bad, "model.json", t -> t.replaceFirst("\\{", "{ \"partial\" : \"yes\","));
        assertFalse(Checkpoint.isPartial(bad));
        var e = assertThrows(CheckpointException.class, () -> Checkpoint.read(bad, be));
        assertTrue(e.getMessage().contains("'partial' is \"yes\", expected true or false"), e.getMessage());
    }

    @Test
    void isPartialOnlyForAnUnfinishedRun(@TempDir Path dir) throws Exception {
        Model m = everyLayer().bind(be, 1);
        Path plain = dir.resolve("plain.shears"), notZip = dir.resolve("x.shears");
        new Checkpoint(m, null, null).write(plain);
        Files.writeString(notZip, "not a zip");
        assertFalse(Checkpoint.isPartial(plain));
        assertFalse(Checkpoint.isPartial(notZip));
        assertFalse(Checkpoint.isPartial(dir.resolve("missing.shears")));
    }

    private static byte[] readEntry(Path zipFile, String name) throws Exception {
        try (var zip = new java.util.zip.ZipFile(zipFile.toFile())) {
            var e = zip.getEntry(name);
            return e == null ? null : zip.getInputStream(e).readAllBytes();
        }
    }

    static void rewriteEntry(Path from, Path to, String name, java.util.function.UnaryOperator<String> edit) throws Exception {
        try (var in = new java.util.zip.ZipFile(from.toFile());
             var out = new java.util.zip.ZipOutputStream(Files.newOutputStream(to))) {
            for (var e : java.util.Collections.list(in.entries())) {
                byte[] b = in.getInputStream(e).readAllBytes();
                if (e.getName().equals(name)) b = edit.apply(new String(b, java.nio.charset.StandardCharsets.UTF_8)).getBytes(java.nio.charset.StandardCharsets.UTF_8);
                out.putNextEntry(new java.util.zip.ZipEntry(e.getName()));
                out.write(b);
                out.closeEntry();
            }
        }
    }

    /**
     * For each case {name, regex, replacement, expected message part}: a copy of {@code file} whose
     * {@code entry} has the regex's first match replaced must fail to read, naming the copy and the part.
     */
    private void assertEditsRefused(Path file, Path dir, String entry, String[][] cases) throws Exception {
        for (String[] c : cases) {
            Path bad = dir.resolve(c[0] + ".shears");
            rewriteEntry(file, bad, entry, t -> {
                String edited = t.replaceFirst(c[1], java.util.regex.Matcher.quoteReplacement(c[2]));
                assertNotEquals(t, edited, c[0]);
                return edited;
            });
            var e = assertThrows(CheckpointException.class, () -> Checkpoint.read(bad, be), c[0]);
            assertTrue(e.getMessage().contains(bad.toString()) && e.getMessage().contains(c[3]), e.getMessage());
        }
    }
}
