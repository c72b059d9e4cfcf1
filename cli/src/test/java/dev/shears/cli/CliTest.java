package dev.shears.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.core.data.DataSources;
import dev.shears.core.data.Dataset;
import dev.shears.core.data.Idx;
import dev.shears.core.data.Npy;
import dev.shears.io.FloatArray;
import dev.shears.core.tensor.Shape;
import io.jhdf.HdfFile;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static dev.shears.cli.CliRun.shears;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The command-line contract of DESIGN.md, end to end on real data: a 3,000-image slice of the
 * bundled Fashion-MNIST split written as an IDX folder, and the real Keras MNIST MLP.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CliTest {
    @TempDir static Path dir;
    static Path data;
    static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll
    static void writeData() throws Exception {
        data = fashionMnistSlice(dir.resolve("fmnist"), 3000, 1000);
    }

    /**
     * Writes the first {@code train} and {@code test} images of the bundled Fashion-MNIST into
     * {@code folder} (created) as the IDX files {@code --data} reads; returns the folder.
     */
    static Path fashionMnistSlice(Path folder, int train, int test) throws Exception {
        Files.createDirectories(folder);
        var split = DataSources.bundledFashionMnist();
        writeIdx(folder, "train", split.train().head(train));
        writeIdx(folder, "t10k", split.test().head(test));
        return folder;
    }

    static void writeIdx(Path folder, String prefix, Dataset d) throws Exception {
        byte[] px = new byte[d.features().length];
        for (int i = 0; i < px.length; i++) px[i] = (byte) Math.round(d.features()[i] * 255);
        byte[] lab = new byte[d.count()];
        for (int i = 0; i < lab.length; i++) lab[i] = (byte) d.labels()[i];
        int[] dims = d.sampleShape().dims();
        Files.write(folder.resolve(prefix + "-images-idx3-ubyte"), Idx.encode(new int[]{d.count(), dims[dims.length - 2], dims[dims.length - 1]}, px));
        Files.write(folder.resolve(prefix + "-labels-idx1-ubyte"), Idx.encode(new int[]{d.count()}, lab));
    }

    @Test @Order(1)
    void trainThenPruneThenEvalInspectExportPredict() throws Exception {
        Path t = dir.resolve("dense"), p = dir.resolve("pruned");
        CliRun train = shears("train", "--model", "lenet-300-100", "--data", data.toString(), "--epochs", "3", "--out", t.toString(), "--backend", "cpu");
        assertEquals(0, train.code(), train.err());
        JsonNode tr = JSON.readTree(t.resolve("report.json").toFile());
        assertTrue(tr.at("/after/accuracy").asDouble() > 0.70, "3 epochs on 3k Fashion-MNIST images reach > 70%: " + tr.at("/after"));
        assertTrue(Files.readString(t.resolve("report.html")).contains("<svg"), "the HTML report has charts");

        CliRun prune = shears("prune", "--model", t.resolve("model.shears").toString(), "--data", data.toString(), "--sparsity", "0.8",
                "--epochs", "4", "--out", p.toString(), "--backend", "cpu", "--quiet", "--cuda-graphs"); // accepted, ignored on the CPU
        assertEquals(0, prune.code(), prune.err());
        assertTrue(prune.out().contains("pruned accuracy"), prune.out());
        JsonNode pr = JSON.readTree(p.resolve("report.json").toFile());
        assertEquals(tr.at("/after/accuracy").asDouble(), pr.at("/before/accuracy").asDouble(), 1e-12, "before = the input model's accuracy");
        assertEquals(0.8, pr.get("sparsity").asDouble(), 1e-4);
        assertTrue(pr.get("epochs").size() == 5, "epoch 0 + 4 epochs");
        assertTrue(tr.get("inference").isNull(), "plain training prunes nothing, so it times no sparse inference");
        // the default --inference-batches 1,64: the pruned model timed dense against sparse on real test images
        JsonNode inf = pr.get("inference");
        assertTrue(inf.get("device").asText().startsWith("cpu"), inf.toString());
        assertTrue(inf.get("note").isNull(), inf.toString());
        assertEquals(2, inf.get("batches").size(), inf.toString());
        for (JsonNode b : inf.get("batches")) {
            int batch = b.get("batch").asInt();
            assertEquals(batch == 1 ? 256 : 1000, b.get("samples").asInt(), "agreement on the first test images (1000 in all)");
            assertEquals(b.get("samples").asInt(), b.get("samePredictions").asInt(), "sparse and dense classify alike: " + b);
            assertTrue(b.get("maxAbsDifference").asDouble() < 1e-3, b.toString());
            assertTrue(b.get("denseMs").asDouble() > 0 && b.get("sparseMs").asDouble() > 0, b.toString());
            assertEquals(4L * (784 * 300 + 300 * 100 + 100 * 10), b.get("denseWeightBytes").asLong());
            java.util.List<String> planned = new java.util.ArrayList<>();
            for (JsonNode l : b.get("layers")) planned.add(l.get("layer").asText());
            assertEquals(java.util.List.of("fc1", "fc2", "fc3"), planned);
        }
        assertTrue(prune.out().contains("inference on the CPU") && prune.out().contains("batch 64: dense"), prune.out());
        String html = Files.readString(p.resolve("report.html"));
        assertTrue(html.contains("Inference: dense against sparse"));
        assertTrue(html.contains("goes back to dense everywhere"), "the report says what happens to a plan that is not faster as a whole");

        CliRun inspect = shears("inspect", "--model", p.resolve("model.shears").toString(), "--json");
        assertEquals(0, inspect.code(), inspect.err());
        JsonNode in = JSON.readTree(inspect.out());
        assertEquals(784 * 300 + 300 + 300 * 100 + 100 + 100 * 10 + 10, in.get("parameters").asLong());
        assertEquals(0.8, in.get("sparsity").asDouble(), 1e-4);
        // --sparsity runs gmp-tuned (global scope): the layers differ, the report and inspect agree on each
        java.util.Map<String, Double> reported = new java.util.HashMap<>();
        for (JsonNode l : pr.get("layers")) if (l.get("prunable").asLong() > 0) reported.put(l.get("name").asText(), l.get("sparsity").asDouble());
        assertEquals(3, reported.size());
        for (JsonNode l : in.get("layers"))
            if (l.get("type").asText().equals("Dense")) assertEquals(reported.get(l.get("name").asText()), l.get("sparsity").asDouble(), 1e-12, l.toString());
        assertTrue(reported.get("fc1") > 0.8 && reported.get("fc3") < 0.8, "global scope prunes the big layer hardest: " + reported);

        CliRun eval = shears("eval", "--model", p.resolve("model.shears").toString(), "--data", data.toString(), "--json", "--backend", "cpu");
        assertEquals(0, eval.code(), eval.err());
        JsonNode ev = JSON.readTree(eval.out());
        assertEquals(pr.at("/after/accuracy").asDouble(), ev.get("accuracy").asDouble(), 1e-12, "eval agrees with the run's last test evaluation");
        assertEquals(1000, ev.get("samples").asInt());

        Path onnx = dir.resolve("pruned.onnx");
        CliRun export = shears("export", "--model", p.resolve("model.shears").toString(), "--format", "onnx", "--out", onnx.toString());
        assertEquals(0, export.code(), export.err());
        Path x = dir.resolve("x.npy");
        Dataset test = DataSources.bundledFashionMnist().test().head(5);
        Npy.write(x, Shape.of(5, 1, 28, 28), test.features());
        Path y1 = dir.resolve("y1.npy"), y2 = dir.resolve("y2.npy");
        assertEquals(0, shears("predict", "--model", p.resolve("model.shears").toString(), "--input", x.toString(), "--output", y1.toString()).code());
        CliRun pred = shears("predict", "--model", onnx.toString(), "--input", x.toString(), "--output", y2.toString());
        assertEquals(0, pred.code(), pred.err());
        float[] a = FloatArray.of(Npy.read(y1)).data(), b = FloatArray.of(Npy.read(y2)).data();
        assertEquals(50, a.length);
        for (int i = 0; i < a.length; i++) assertEquals(a[i], b[i], 1e-4 + 1e-4 * Math.abs(a[i]), "logit " + i);
        CliRun onnxInspect = shears("inspect", "--model", onnx.toString(), "--json");
        assertEquals(0.8, JSON.readTree(onnxInspect.out()).get("sparsity").asDouble(), 1e-4, "the exported ONNX keeps every zero");
    }

    /** Issue 3, Must show 4: eval on an imported Keras file with an IDX folder, pixels scaled to [0, 1]. */
    @Test @Order(2)
    void evalOnImportedKerasModelMatchesItsStoredPredictions() throws Exception {
        Path res = Path.of("../model-import/src/test/resources/keras/examples/mnist_mlp").toAbsolutePath().normalize();
        Path config = res.resolve("mnist_mlp_tf_keras_2_config.json"), weights = res.resolve("mnist_mlp_tf_keras_2_weights.h5");
        float[][] inputs, preds;
        int[] labels;
        try (HdfFile h = new HdfFile(res.resolve("mnist_mlp_tf_keras_2_inputs_and_outputs.h5"))) {
            inputs = (float[][]) only(h, "inputs").getData();
            preds = (float[][]) only(h, "predictions").getData();
            Object lab = only(h, "outputs").getData();
            labels = labelsOf(lab);
        }
        int n = inputs.length;
        Path mnist = dir.resolve("mnist");
        Files.createDirectories(mnist);
        byte[] px = new byte[n * 784];
        for (int i = 0; i < n; i++) for (int j = 0; j < 784; j++) px[i * 784 + j] = (byte) Math.round(inputs[i][j] * 255);
        byte[] lab = new byte[n];
        int agree = 0;
        for (int i = 0; i < n; i++) {
            lab[i] = (byte) labels[i];
            if (argmax(preds[i]) == labels[i]) agree++;
        }
        for (String prefix : new String[]{"train", "t10k"}) {
            Files.write(mnist.resolve(prefix + "-images-idx3-ubyte"), Idx.encode(new int[]{n, 28, 28}, px));
            Files.write(mnist.resolve(prefix + "-labels-idx1-ubyte"), Idx.encode(new int[]{n}, lab));
        }
        CliRun eval = shears("eval", "--model", config.toString(), "--weights", weights.toString(), "--data", mnist.toString(), "--json", "--backend", "cpu");
        assertEquals(0, eval.code(), eval.err());
        JsonNode ev = JSON.readTree(eval.out());
        assertEquals((double) agree / n, ev.get("accuracy").asDouble(), 1e-12,
                "accuracy of the imported model = accuracy of Keras' own stored predictions against the labels");
        assertTrue(ev.get("accuracy").asDouble() > 0.9);
    }

    /** Issue 3: prune works end to end on imported Keras and ONNX models, and their exports read back. */
    @Test @Order(3)
    void pruneImportedKerasAndOnnxModels() throws Exception {
        Path res = Path.of("../model-import/src/test/resources/keras/examples/mnist_mlp").toAbsolutePath().normalize();
        Path config = res.resolve("mnist_mlp_tf_keras_2_config.json"), weights = res.resolve("mnist_mlp_tf_keras_2_weights.h5");
        Path k = dir.resolve("keras-pruned");
        CliRun prune = shears("prune", "--model", config.toString(), "--weights", weights.toString(), "--data", data.toString(),
                "--sparsity", "0.7", "--epochs", "2", "--out", k.toString(), "--backend", "cpu", "--quiet");
        assertEquals(0, prune.code(), prune.err());
        JsonNode kr = JSON.readTree(k.resolve("report.json").toFile());
        assertEquals(0.7, kr.get("sparsity").asDouble(), 1e-4);
        assertTrue(kr.at("/after/accuracy").asDouble() > kr.at("/before/accuracy").asDouble(),
                "the MNIST MLP fine-tuned on Fashion-MNIST beats its untuned self: " + kr.at("/before") + " -> " + kr.at("/after"));

        // export the pruned model to Keras HDF5 and ONNX; both read back with the same predictions and every zero
        Path h5 = dir.resolve("pruned-mlp.h5"), onnx = dir.resolve("pruned-mlp.onnx");
        assertEquals(0, shears("export", "--model", k.resolve("model.shears").toString(), "--format", "keras", "--out", h5.toString()).code());
        assertEquals(0, shears("export", "--model", k.resolve("model.shears").toString(), "--format", "onnx", "--out", onnx.toString()).code());
        double acc = JSON.readTree(shears("eval", "--model", k.resolve("model.shears").toString(), "--data", data.toString(), "--json").out()).get("accuracy").asDouble();
        for (Path f : new Path[]{h5, onnx}) {
            CliRun ev = shears("eval", "--model", f.toString(), "--data", data.toString(), "--json", "--backend", "cpu");
            assertEquals(0, ev.code(), ev.err());
            assertEquals(acc, JSON.readTree(ev.out()).get("accuracy").asDouble(), 1e-12, f + " gives the checkpoint's accuracy");
            assertEquals(0.7, JSON.readTree(shears("inspect", "--model", f.toString(), "--json").out()).get("sparsity").asDouble(), 1e-4, f + " keeps every zero");
        }

        // and GMP runs on the ONNX file too
        Path o = dir.resolve("onnx-pruned");
        CliRun again = shears("prune", "--model", onnx.toString(), "--data", data.toString(), "--sparsity", "0.85", "--epochs", "2",
                "--out", o.toString(), "--backend", "cpu", "--quiet");
        assertEquals(0, again.code(), again.err());
        assertEquals(0.85, JSON.readTree(o.resolve("report.json").toFile()).get("sparsity").asDouble(), 1e-4);
    }

    /** Every command's help renders cleanly: picocli formats descriptions with String.format, so a bare '%' breaks it. */
    @Test
    void everyHelpRendersWithoutFormatWarnings() {
        java.io.PrintStream saved = System.err;
        ByteArrayOutputStream picocliWarnings = new ByteArrayOutputStream();
        System.setErr(new PrintStream(picocliWarnings, true, StandardCharsets.UTF_8));
        try {
            for (String cmd : new String[]{"demo", "train", "prune", "eval", "predict", "inspect", "export", "bench", "recipes"}) {
                CliRun help = shears(cmd, "--help");
                assertEquals(0, help.code(), cmd + ": " + help.err());
                assertTrue(help.out().contains("Usage: shears " + cmd), cmd + ": " + help.out());
            }
            CliRun version = shears("prune", "--version");
            assertEquals(0, version.code(), version.err());
            assertTrue(version.out().startsWith("shears "), version.out());
        } finally {
            System.setErr(saved);
        }
        assertEquals("", picocliWarnings.toString(StandardCharsets.UTF_8));
    }

    @Test @Order(4)
    void demoPrintsDenseAndPrunedAccuracyAndWritesItsReport() throws Exception {
        Path out = dir.resolve("demo");
        CliRun bad = shears("demo", "--data", data.toString(), "--out", out.toString(), "--inference-batches", "0,4");
        assertEquals(2, bad.code(), bad.err());
        assertTrue(bad.err().contains("--inference-batches [0, 4]") && bad.err().contains("between 1 and 1024"), bad.err());
        CliRun huge = shears("demo", "--data", data.toString(), "--out", out.toString(), "--inference-batches", "1,100000");
        assertEquals(2, huge.code(), huge.err());
        assertTrue(huge.err().contains("between 1 and 1024"), huge.err());
        CliRun demo = shears("demo", "--data", data.toString(), "--epochs", "3", "--out", out.toString(), "--backend", "cpu", "--quiet",
                "--inference-batches", "0");
        assertEquals(0, demo.code(), demo.err());
        assertFalse(demo.out().contains("inference"), "--inference-batches 0 skips the timing: " + demo.out());
        assertTrue(demo.out().contains("dense accuracy:") && demo.out().contains("pruned accuracy:")
                && demo.out().contains("fc1") && demo.out().contains(out.resolve("report.html").toString()), demo.out());
        JsonNode r = JSON.readTree(out.resolve("report.json").toFile());
        assertEquals(0.9, r.get("sparsity").asDouble(), 1e-4);
        assertTrue(r.at("/before/accuracy").asDouble() > 0.7, "six dense epochs on 3k images: " + r.at("/before"));
        assertTrue(r.get("inference").isNull(), r.get("inference").toString());
        assertTrue(Files.isRegularFile(out.resolve("model.shears")) && Files.isRegularFile(out.resolve("dense/model.shears")));
    }

    @Test @Order(5)
    void benchSparseWritesTableJsonAndChart() throws Exception {
        Path json = dir.resolve("bench.json");
        CliRun b = shears("bench", "sparse", "--shape", "64x96", "--sparsity", "0.5,0.9", "--batch", "1,8", "--quick", "--json", json.toString());
        assertEquals(0, b.code(), b.err());
        JsonNode r = JSON.readTree(json.toFile());
        assertTrue(r.get("device").asText().startsWith("cpu"));
        java.util.Set<String> formats = new java.util.HashSet<>();
        for (JsonNode row : r.get("results")) {
            formats.add(row.get("format").asText());
            assertEquals(64, row.get("m").asInt());
            assertEquals(96, row.get("k").asInt());
            assertTrue(row.get("medianMs").asDouble() > 0);
            if (row.get("format").asText().equals("dense")) assertEquals(1.0, row.get("speedupVsDense").asDouble(), 1e-9);
        }
        assertTrue(formats.containsAll(java.util.List.of("dense", "csr", "2:4")), formats.toString());
        byte[] png = Files.readAllBytes(dir.resolve("bench.png"));
        assertEquals((byte) 0x89, png[0]);
        assertEquals('P', png[1]);
        assertTrue(b.out().contains("speedup"), b.out());
        assertEquals(2, shears("bench", "sparse", "--shape", "64by96").code(), "a bad shape is a user error");
    }

    /** bench sparse takes --precision as eval --sparse does: for the cuda backend only, refused on the CPU with the reason. */
    @Test @Order(5)
    void benchSparsePrecisionIsForTheCudaBackend() {
        CliRun cpu = shears("bench", "sparse", "--shape", "64x96", "--batch", "1", "--quick", "--precision", "fp16");
        assertEquals(2, cpu.code(), cpu.err());
        assertTrue(cpu.err().contains("--precision fp16 needs --backend cuda") && cpu.err().contains("fp32 only"), cpu.err());
        CliRun unknown = shears("bench", "sparse", "--shape", "64x96", "--backend", "cuda", "--precision", "fp8");
        assertEquals(2, unknown.code(), unknown.err());
        assertTrue(unknown.err().contains("unknown precision 'fp8'"), unknown.err());
        if (dev.shears.core.cuda.CudaBackend.unavailabilityCause() != null) { // CudaShapeBenchIT runs it where CUDA is
            CliRun shapeOnCuda = shears("bench", "sparse", "--shape", "64x96", "--backend", "cuda", "--precision", "bf16");
            assertTrue(shapeOnCuda.code() != 0, shapeOnCuda.out());
            assertTrue(shapeOnCuda.err().contains("CUDA backend is unavailable: ") && shapeOnCuda.err().contains("not found"),
                    "the cause, not a trace: " + shapeOnCuda.err());
        }
        // checked before any GPU is asked for: the sweep builds each matrix in one Java array
        CliRun huge = shears("bench", "sparse", "--shape", "100000x100000", "--backend", "cuda");
        assertEquals(2, huge.code(), huge.err());
        assertTrue(huge.err().contains("--shape 100000x100000") && huge.err().contains("40000000000 bytes"), huge.err());
        CliRun otherBackend = shears("bench", "sparse", "--shape", "64x96", "--backend", "tpu");
        assertEquals(2, otherBackend.code(), otherBackend.err());
        assertTrue(otherBackend.err().contains("expected cpu or cuda"), otherBackend.err());
        CliRun fp32 = shears("bench", "sparse", "--shape", "16x16", "--sparsity", "0.5", "--batch", "1", "--quick", "--precision", "fp32");
        assertEquals(0, fp32.code(), "fp32, said explicitly, runs on the CPU as before: " + fp32.err());
        assertTrue(shears("bench", "--help").out().contains("--precision"), "the help lists --precision");
    }

    @Test @Order(6)
    void recipesListPrintAndValidate() throws Exception {
        CliRun list = shears("recipes");
        assertEquals(0, list.code(), list.err());
        for (String name : new String[]{"dense", "gmp-seed", "gmp-tuned", "demo"}) assertTrue(list.out().contains(name), list.out());
        CliRun show = shears("recipes", "gmp-tuned");
        assertEquals(0, show.code());
        assertTrue(show.out().contains("finalSparsity: 0.9") && show.out().contains("scope: global"), show.out());
        Path copy = dir.resolve("mine.yaml");
        Files.writeString(copy, show.out());
        CliRun check = shears("recipes", copy.toString());
        assertEquals(0, check.code(), check.err());
        assertTrue(check.out().contains("valid") && check.out().contains("epoch 35"), check.out());
        Files.writeString(copy, show.out().replace("finalSparsity: 0.9", "finalSparsity: 1.2"));
        CliRun bad = shears("recipes", copy.toString());
        assertNotEquals(0, bad.code());
        assertTrue(bad.err().contains("finalSparsity = 1.2"), bad.err());
    }

    /** prune --structure 2:4 on the dense model of test 1: inspect shows the pattern, eval --sparse predicts like dense. */
    @Test @Order(8)
    void pruneWithStructureTwoOfFourThenInspectAndSparseEval() throws Exception {
        Path dense = dir.resolve("dense/model.shears"), p = dir.resolve("pruned-2of4");
        CliRun prune = shears("prune", "--model", dense.toString(), "--data", data.toString(), "--structure", "2:4",
                "--epochs", "3", "--out", p.toString(), "--backend", "cpu", "--quiet");
        assertEquals(0, prune.code(), prune.err());
        JsonNode pr = JSON.readTree(p.resolve("report.json").toFile());
        assertEquals(0.5, pr.get("sparsity").asDouble(), 1e-12, "2:4 on kernels whose input sizes are multiples of 4 is exactly 50%");
        assertTrue(pr.get("recipe").asText().contains("2:4"), pr.get("recipe").asText());
        assertTrue(pr.at("/after/accuracy").asDouble() > 0.7, "2:4 from a trained model keeps its accuracy: " + pr.at("/after"));

        CliRun inspect = shears("inspect", "--model", p.resolve("model.shears").toString(), "--json");
        assertEquals(0, inspect.code(), inspect.err());
        int dense24 = 0;
        for (JsonNode l : JSON.readTree(inspect.out()).get("layers")) {
            if (!l.get("type").asText().equals("Dense")) {
                assertTrue(l.get("pattern").isNull(), l.toString());
                continue;
            }
            assertEquals("2:4", l.get("pattern").asText(), l.toString());
            assertEquals(0.5, l.get("sparsity").asDouble(), 1e-12, l.toString());
            dense24++;
        }
        assertEquals(3, dense24);
        // the dense input model follows no pattern
        for (JsonNode l : JSON.readTree(shears("inspect", "--model", dense.toString(), "--json").out()).get("layers"))
            assertTrue(l.get("pattern").isNull(), l.toString());
        assertTrue(shears("inspect", "--model", p.resolve("model.shears").toString()).out().contains("2:4"));

        CliRun plain = shears("eval", "--model", p.resolve("model.shears").toString(), "--data", data.toString(), "--json", "--backend", "cpu");
        CliRun sparse = shears("eval", "--model", p.resolve("model.shears").toString(), "--data", data.toString(), "--json", "--backend", "cpu", "--sparse");
        assertEquals(0, sparse.code(), sparse.err());
        assertEquals(JSON.readTree(plain.out()).get("accuracy").asDouble(), JSON.readTree(sparse.out()).get("accuracy").asDouble(), 1e-12,
                "the planned sparse model predicts like the dense one");
        assertTrue(JSON.readTree(sparse.out()).get("mode").asText().startsWith("sparse (fc1="), sparse.out());

        CliRun bad = shears("prune", "--model", dense.toString(), "--data", data.toString(), "--structure", "4:2", "--out", dir.resolve("z").toString());
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("--structure") && bad.err().contains("'4:2'") && bad.err().contains("1 <= N < M <= 16"), bad.err());
        CliRun both = shears("prune", "--model", dense.toString(), "--data", data.toString(), "--structure", "2:4", "--sparsity", "0.5",
                "--out", dir.resolve("z").toString());
        assertNotEquals(0, both.code(), "--structure and --sparsity are exclusive");
    }

    /** --precision fp16|bf16 is the GPU planner's opt-in to cuSPARSELt 2:4: refused without --sparse, on the CPU, and for unknown values. */
    @Test @Order(9)
    void reducedPrecisionIsRefusedOnTheCpuAndWithoutSparse() {
        String[] base = {"eval", "--model", "lenet-300-100", "--data", data.toString(), "--json"};
        CliRun cpu = shears(concat(base, "--sparse", "--backend", "cpu", "--precision", "fp16"));
        assertEquals(2, cpu.code(), cpu.err());
        assertTrue(cpu.err().contains("--precision fp16 needs the cuda backend") && cpu.err().contains("fp32 only"), cpu.err());
        assertEquals("", cpu.out(), "--json prints nothing on stdout for a refused run");
        CliRun noSparse = shears(concat(base, "--backend", "cpu", "--precision", "bf16"));
        assertEquals(2, noSparse.code(), noSparse.err());
        assertTrue(noSparse.err().contains("--precision bf16 applies to sparse inference only: add --sparse"), noSparse.err());
        CliRun unknown = shears(concat(base, "--sparse", "--backend", "cpu", "--precision", "fp8"));
        assertEquals(2, unknown.code(), unknown.err());
        assertTrue(unknown.err().contains("unknown precision 'fp8'") && unknown.err().contains("[fp32, fp16, bf16]"), unknown.err());
        // the default, and fp32 said explicitly, run as before on the CPU
        CliRun fp32 = shears(concat(base, "--sparse", "--backend", "cpu", "--precision", "fp32"));
        assertEquals(0, fp32.code(), fp32.err());
        assertTrue(jsonMode(fp32).startsWith("sparse ("), fp32.out());
        assertTrue(shears("eval", "--help").out().contains("--precision"), "the help lists --precision");
    }

    private static String jsonMode(CliRun r) {
        try {
            return JSON.readTree(r.out()).get("mode").asText();
        } catch (Exception e) {
            throw new AssertionError("not JSON: " + r.out(), e);
        }
    }

    /** {@code a} followed by {@code b}: a command line with more options. */
    static String[] concat(String[] a, String... b) {
        String[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test @Order(7)
    void badInputGetsClearErrors() throws Exception {
        CliRun r = shears("prune", "--model", "lenet-300-100", "--data", data.toString(), "--sparsity", "1.5", "--out", dir.resolve("x").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--sparsity 1.5") && r.err().contains("[0, 1)"), r.err());

        r = shears("eval", "--model", "lenet-300-100", "--data", dir.resolve("nope").toString());
        assertNotEquals(0, r.code());
        assertTrue(r.err().contains("nope"), r.err());

        r = shears("eval", "--model", dir.resolve("dense/model.shears").toString(), "--data", data.toString(), "--batch", "0");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--batch 0: the batch size must be at least 1"), r.err());

        Path bad = dir.resolve("broken.shears");
        Files.write(bad, new byte[]{'P', 'K', 3, 4, 1, 2, 3});
        r = shears("inspect", "--model", bad.toString());
        assertNotEquals(0, r.code());
        assertTrue(r.err().contains("broken.shears") && !r.err().contains("\tat "), r.err());

        Path recipe = dir.resolve("bad.yaml");
        Files.writeString(recipe, """
                name: bad
                epochs: 4
                batchSize: 64
                optimizer: {type: sgd, momentum: 0.9}
                learningRate:
                  - {type: constant, lr: 0.01, startEpoch: 0, endEpoch: 4}
                pruning:
                  - {type: gmp, initSparsity: 0.5, finalSparsity: 0.3, startEpoch: 1, endEpoch: 3, updateFrequency: 0.5}
                """);
        r = shears("prune", "--model", "lenet-300-100", "--data", data.toString(), "--recipe", recipe.toString(), "--out", dir.resolve("y").toString());
        assertNotEquals(0, r.code());
        assertTrue(r.err().contains("finalSparsity") && r.err().contains("0.3"), r.err());

        // a learning rate that diverges: the run stops, names where, and keeps the last good state
        Path nanRecipe = dir.resolve("nan.yaml");
        Files.writeString(nanRecipe, """
                name: diverge
                epochs: 3
                batchSize: 64
                optimizer: {type: sgd, momentum: 0.9}
                learningRate:
                  - {type: constant, lr: 1.0e+9, startEpoch: 0, endEpoch: 3}
                pruning:
                  - {type: gmp, initSparsity: 0.1, finalSparsity: 0.5, startEpoch: 0, endEpoch: 2, updateFrequency: 0.5}
                """);
        Path nanOut = dir.resolve("nan");
        Path dense = dir.resolve("dense/model.shears");
        r = shears("prune", "--model", dense.toString(), "--data", data.toString(), "--recipe", nanRecipe.toString(),
                "--out", nanOut.toString(), "--backend", "cpu", "--quiet");
        assertNotEquals(0, r.code());
        assertTrue(r.err().contains("epoch 1") && r.err().contains("last good state") && r.err().contains(nanOut.resolve("model.shears").toString()), r.err());
        CliRun kept = shears("eval", "--model", nanOut.resolve("model.shears").toString(), "--data", data.toString(), "--json");
        CliRun original = shears("eval", "--model", dense.toString(), "--data", data.toString(), "--json");
        assertEquals(JSON.readTree(original.out()).get("accuracy").asDouble(), JSON.readTree(kept.out()).get("accuracy").asDouble(), 1e-12,
                "the saved checkpoint is the last good state (the input model, before the first epoch diverged)");
        assertTrue(JSON.readTree(nanOut.resolve("report.json").toFile()).get("stopReason").asText().contains("epoch 1"));

        Path model = dir.resolve("dense/model.shears");
        r = shears("export", "--model", model.toString(), "--format", "onnx", "--out", model.toString());
        assertNotEquals(0, r.code());
        assertTrue(r.err().contains("--out " + model + " is an input of this run (the --model file)"), r.err());
        assertTrue(Files.size(model) > 1000, "the input was not touched");

        // a Keras config's separate weights file is an input too
        Path res = Path.of("../model-import/src/test/resources/keras/examples/mnist_mlp").toAbsolutePath().normalize();
        Path weightsCopy = dir.resolve("w.h5");
        Files.copy(res.resolve("mnist_mlp_tf_keras_2_weights.h5"), weightsCopy);
        byte[] before = Files.readAllBytes(weightsCopy);
        r = shears("export", "--model", res.resolve("mnist_mlp_tf_keras_2_config.json").toString(), "--weights", weightsCopy.toString(),
                "--format", "keras", "--out", weightsCopy.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("is an input of this run (the --weights file)"), r.err());
        assertArrayEquals(before, Files.readAllBytes(weightsCopy), "the weights file was not touched");
    }

    /** The one dataset in a group of the Keras example file. */
    static io.jhdf.api.Dataset only(HdfFile h, String group) {
        var g = (io.jhdf.api.Group) h.getByPath(group);
        return (io.jhdf.api.Dataset) g.getChildren().values().iterator().next();
    }

    static int argmax(float[] v) {
        int b = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[b]) b = i;
        return b;
    }

    static int[] labelsOf(Object o) {
        if (o instanceof float[][] oneHot) {
            int[] l = new int[oneHot.length];
            for (int i = 0; i < l.length; i++) l[i] = argmax(oneHot[i]);
            return l;
        }
        if (o instanceof double[][] d) {
            int[] l = new int[d.length];
            for (int i = 0; i < l.length; i++) {
                float[] f = new float[d[i].length];
                for (int j = 0; j < f.length; j++) f[j] = (float) d[i][j];
                l[i] = argmax(f);
            }
            return l;
        }
        if (o instanceof long[] a) return java.util.Arrays.stream(a).mapToInt(x -> (int) x).toArray();
        if (o instanceof int[] a) return a;
        throw new IllegalStateException("unexpected label array " + o.getClass());
    }
}
