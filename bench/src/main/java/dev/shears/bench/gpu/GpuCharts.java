package dev.shears.bench.gpu;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.cli.report.PngChart;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * PNG charts of the joined GPU results ({@code compare.py}'s gpu-bench.json), drawn in Java so
 * they exist even where matplotlib does not: training throughput against batch size (Shears and
 * each PyTorch mode, per model and op), and the sparse sweep's speed-up over cuBLAS against
 * sparsity for one layer shape (every format and batch).
 *
 * <pre>
 *   GpuCharts --in gpu-bench.json [--train-png gpu-train.png] [--sparse-png gpu-sparse.png] [--shape square-4096]
 * </pre>
 */
public final class GpuCharts {
    private GpuCharts() {}

    public static void main(String[] args) throws IOException {
        Path in = null, trainPng = null, sparsePng = null;
        String shape = "square-4096";
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (i + 1 >= args.length) fail(a + " needs a value");
            switch (a) {
                case "--in" -> in = Path.of(args[++i]);
                case "--train-png" -> trainPng = Path.of(args[++i]);
                case "--sparse-png" -> sparsePng = Path.of(args[++i]);
                case "--shape" -> shape = args[++i];
                default -> fail("unknown argument " + a);
            }
        }
        if (in == null) fail("--in gpu-bench.json is required");
        JsonNode root = new ObjectMapper().readTree(in.toFile());
        String device = root.path("device").asText("?");
        if (trainPng != null) {
            List<PngChart.Line> lines = trainLines(root.path("results"));
            if (lines.isEmpty()) System.err.println("GpuCharts: no training rows in " + in + "; " + trainPng + " not drawn");
            else Files.write(trainPng, PngChart.render("Training throughput, " + device, "batch size", "images / s", lines, true));
        }
        if (sparsePng != null) {
            List<PngChart.Line> lines = sparseLines(root.path("sparse").path("results"), shape);
            if (lines.isEmpty()) System.err.println("GpuCharts: no sparse rows for " + shape + " in " + in + "; " + sparsePng + " not drawn");
            else Files.write(sparsePng, PngChart.render("Sparse " + shape + " vs cuBLAS SGEMM, " + device, "sparsity",
                    "speed-up over dense", lines, true));
        }
    }

    private static void fail(String message) {
        System.err.println("GpuCharts: " + message
                + "; usage: GpuCharts --in gpu-bench.json [--train-png FILE] [--sparse-png FILE] [--shape square-4096]");
        System.exit(2);
    }

    /** One line per (op, model, implementation): images/s against batch; PyTorch figures come from the joined torch_* fields. */
    static List<PngChart.Line> trainLines(JsonNode results) {
        Map<String, TreeMap<Double, Double>> series = new TreeMap<>();
        for (JsonNode r : results) {
            String op = r.path("op").asText();
            if (!op.equals("train_step") && !op.equals("gmp_run")) continue;
            double batch = r.path("batch").asDouble();
            String what = (op.equals("train_step") ? "step " : "run ") + r.path("model").asText(); // short: the legend is 250 px wide
            String shears = r.path("cudaGraphs").asBoolean(false) ? "Shears graphs " : "Shears ";
            if (r.has("imagesPerSec")) series.computeIfAbsent(shears + what, k -> new TreeMap<>()).put(batch, r.get("imagesPerSec").asDouble());
            for (var it = r.fieldNames(); it.hasNext(); ) {
                String f = it.next();
                if (f.startsWith("torch_") && f.endsWith("_imagesPerSec")) {
                    String impl = f.substring("torch_".length(), f.length() - "_imagesPerSec".length());
                    series.computeIfAbsent("torch " + impl + " " + what, k -> new TreeMap<>()).put(batch, r.get(f).asDouble());
                }
            }
        }
        return lines(series);
    }

    /** One line per (op, format, batch) of {@code shape}: speed-up over dense against sparsity, plus the dense = 1 line. */
    static List<PngChart.Line> sparseLines(JsonNode results, String shape) {
        Map<String, TreeMap<Double, Double>> series = new TreeMap<>();
        double lo = Double.MAX_VALUE, hi = -Double.MAX_VALUE;
        for (JsonNode r : results) {
            if (!shape.equals(r.path("shape").asText()) || !r.has("speedupVsDense") || r.path("op").asText().equals("gemm")) continue;
            double s = r.path("sparsity").asDouble();
            lo = Math.min(lo, s);
            hi = Math.max(hi, s);
            series.computeIfAbsent(r.path("op").asText() + " " + r.path("format").asText() + " n=" + r.path("n").asInt(), k -> new TreeMap<>())
                    .put(s, r.get("speedupVsDense").asDouble());
        }
        List<PngChart.Line> out = lines(series);
        if (!out.isEmpty()) out.add(new PngChart.Line("cuBLAS SGEMM (1.0)", new double[] {lo, hi}, new double[] {1, 1}));
        return out;
    }

    private static List<PngChart.Line> lines(Map<String, TreeMap<Double, Double>> series) {
        List<PngChart.Line> out = new ArrayList<>();
        series.forEach((name, pts) -> out.add(new PngChart.Line(name, pts.keySet().stream().mapToDouble(Double::doubleValue).toArray(),
                pts.values().stream().mapToDouble(Double::doubleValue).toArray())));
        return out;
    }
}
