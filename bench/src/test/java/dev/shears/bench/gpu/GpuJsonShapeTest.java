package dev.shears.bench.gpu;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.shears.cli.report.BenchJson;
import dev.shears.kernels.OptimizerKernels;
import dev.shears.pruning.recipe.Recipes;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The GPU benchmarks' JSON keeps its shape and figures now that {@link BenchJson} writes it (the
 * benchmarks themselves need a GPU; their row builders do not). GpuBench formatted its rows with
 * String.format: those format strings are kept below as the golden reference, and every row must
 * read the same to the letter. TrainBench and SparseGpuBench wrote with Jackson's indenting
 * mapper: the same trees must parse back equal. (Since then the throughputs carry 3 decimals, not
 * 1: on the CUDA emulator an update's 0.02 GB/s was written as 0.0.)
 */
class GpuJsonShapeTest {
    static final ObjectMapper M = new ObjectMapper();

    /** The rows of a document, one a line in both layouts, without the separating commas. */
    private static List<String> rowLines(String json) {
        return Arrays.stream(json.split("\n")).map(String::trim).filter(l -> l.startsWith("{\"op\"")).map(l -> l.replaceAll(",$", "")).toList();
    }

    @Test
    void gpuBenchRowsAndDocumentAreTheFormerTextAndTree() throws Exception {
        double copyGBs = 3712.3456;
        List<String> former = new ArrayList<>();
        List<Map<String, Object>> rows = new ArrayList<>();
        long bytes = 8L * (256L << 20);
        former.add(String.format(Locale.ROOT, "{\"op\": \"copy\", \"bytes\": %d, \"GBs\": %.3f}", bytes, copyGBs));
        rows.add(GpuBench.copyRow(bytes, copyGBs));
        for (long n : new long[] {1_000_000L, 1_000_000_000L})
            for (double s : GpuBench.SPARSITIES) {
                double ms = 0.0123456 * n / 1e6 + s;
                double oneReadMs = 4.0 * n / (copyGBs * 1e6);
                former.add(String.format(Locale.ROOT,
                        "{\"op\": \"threshold\", \"scope\": \"single\", \"n\": %d, \"sparsity\": %.2f, \"medianMs\": %.4f, "
                                + "\"readGBs\": %.3f, \"vsOneRead\": %.2f}", n, s, ms, 4.0 * n / (ms * 1e6), ms / oneReadMs));
                rows.add(GpuBench.thresholdSingleRow(n, s, ms, copyGBs));
            }
        for (boolean global : new boolean[] {false, true}) {
            long total = 25_502_912L;
            double s = 0.9, ms = global ? 1.98765 : 3.14159;
            double oneReadMs = 4.0 * total / (copyGBs * 1e6);
            former.add(String.format(Locale.ROOT,
                    "{\"op\": \"threshold\", \"scope\": \"%s\", \"model\": \"%s\", \"tensors\": %d, \"n\": %d, \"sparsity\": %.2f, "
                            + "\"medianMs\": %.4f, \"vsOneRead\": %.2f}", global ? "global" : "layer", "resnet50", 54, total, s, ms, ms / oneReadMs));
            rows.add(GpuBench.thresholdManyRow(global, "resnet50", 54, total, s, ms, copyGBs));
        }
        for (OptimizerKernels.Variant v : new OptimizerKernels.Variant[] {OptimizerKernels.Variant.NAIVE, OptimizerKernels.Variant.VECTORIZED}) {
            long n = 100_000_000L;
            double ms = v == OptimizerKernels.Variant.NAIVE ? 0.71234 : 0.65432;
            int bpp = 21;
            double gbs = (double) bpp * n / (ms * 1e6);
            former.add(String.format(Locale.ROOT, "{\"op\": \"%s\", \"kernel\": \"%s\", \"n\": %d, \"medianMs\": %.4f, \"bytesPerParam\": %d, "
                    + "\"GBs\": %.3f, \"ofCopy\": %.3f}", "sgd_momentum_masked", v.name().toLowerCase(Locale.ROOT), n, ms, bpp, gbs, gbs / copyGBs));
            rows.add(GpuBench.updateRow("sgd_momentum_masked", v, n, ms, bpp, copyGBs));
        }
        Instant date = Instant.parse("2026-11-21T10:00:00.123Z");
        String formerDoc = String.format(Locale.ROOT, "{\"device\": \"%s\", \"driver\": %d, \"date\": \"%s\", \"copyGBs\": %.3f, \"results\": [%n  %s%n]}",
                "NVIDIA H200", 13000, date, copyGBs, String.join(",\n  ", former));
        String doc = BenchJson.write(GpuBench.document("NVIDIA H200", 13000, date, copyGBs, rows));
        assertEquals(former, rowLines(doc));
        assertEquals(M.readTree(formerDoc), M.readTree(doc), doc);
    }

    @Test
    void jacksonWrittenTreesParseBackEqual() throws Exception {
        ObjectMapper former = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        // TrainBench's plan: GmpRunPlan (List<double[]>, double[], booleans) inside maps
        Map<String, Object> plan = new LinkedHashMap<>();
        plan.put("recipe", "gmp-seed");
        plan.put("models", List.of("lenet-300-100", "mnist-cnn"));
        plan.put("batches", List.of(128, 512));
        plan.put("data", Map.of("synthetic", true, "train", 1000, "test", 100));
        plan.put("runs", List.of(GmpRunPlan.of(Recipes.load("gmp-seed").withEpochs(1), 1000).toMap()));
        // a train_step / gmp_run row with the number types TrainBench writes
        Map<String, Object> step = new LinkedHashMap<>();
        step.put("op", "gmp_run");
        step.put("parameters", 266_610L);
        step.put("wallSec", 12.345678901234);
        step.put("imagesPerSec", 1.2345e7);
        step.put("epochSec", new double[] {1.5, 2.25e-5});
        step.put("testAccuracy", 0.8765);
        // SparseGpuBench's document: header strings and a row with its extra fields
        Map<String, Object> sparse = new LinkedHashMap<>();
        sparse.put("device", "NVIDIA H200");
        sparse.put("driver", 13000);
        sparse.put("results", List.of(step, Map.of("op", "spmm", "format", "2:4-fp16", "m", 8192, "compressedBytes", 75_497_472L, "maxRelErr", 3.1e-4)));
        for (Object tree : List.of(plan, sparse))
            assertEquals(M.readTree(former.writeValueAsString(tree)), M.readTree(BenchJson.write(tree)));
        JsonNode p = M.readTree(BenchJson.write(plan));
        assertTrue(p.at("/runs/0/prune").size() > 1 && p.at("/runs/0/prune/0").isArray(), "prune stays a list of [position, target] pairs");
    }
}
