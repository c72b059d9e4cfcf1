package dev.shears.bench;

import dev.shears.cli.report.BenchJson;
import dev.shears.core.cpu.Parallel;
import jdk.incubator.vector.FloatVector;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Runs the CPU benchmarks through JMH and writes one JSON file with the machine, the JDK, the
 * date, every measurement and the derived figures (GFLOP/s, seconds per epoch, sparse speed-ups,
 * break-even sparsity). Usage (see bench/README.md):
 * <pre>
 *   java --add-modules jdk.incubator.vector -jar bench/target/benchmarks.jar [--quick] [--sweep]
 *        [--only sgemm,sparse,ort,models,train] [--out FILE] [--note TEXT]
 * </pre>
 * Anything else on the command line goes to JMH itself ({@code java -jar benchmarks.jar jmh -h}).
 */
public final class RunBenchmarks {
    private RunBenchmarks() {}

    static final String[] SWEEP = {"0.5", "0.6", "0.7", "0.8", "0.9", "0.95", "0.98", "0.99"};
    static final int STEPS_PER_EPOCH = 469; // ceil(60000 / 128)
    static final List<String> GROUPS = List.of("sgemm", "sparse", "ort", "models", "train");
    /** Every figure is written with 6 significant digits ({@code %.6g}): JMH's own error bars are far wider. */
    static final int SIGNIFICANT_DIGITS = 6;

    public static void main(String[] args) throws RunnerException, IOException {
        if (args.length > 0 && args[0].equals("jmh")) {
            org.openjdk.jmh.Main.main(java.util.Arrays.copyOfRange(args, 1, args.length));
            return;
        }
        boolean quick = false, sweep = false;
        List<String> only = GROUPS;
        Path out = null;
        String note = "";
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--quick" -> quick = true;
                case "--sweep" -> sweep = true;
                case "--only" -> only = List.of(value(args, ++i, "--only").split(","));
                case "--out" -> out = Path.of(value(args, ++i, "--out"));
                case "--note" -> note = value(args, ++i, "--note");
                default -> throw new IllegalArgumentException("unknown option '" + args[i]
                        + "'; options: --quick --sweep --only " + String.join(",", GROUPS) + " --out FILE --note TEXT (or 'jmh ARGS...')");
            }
        }
        for (String o : only)
            if (!GROUPS.contains(o))
                throw new IllegalArgumentException("--only takes " + String.join(", ", GROUPS) + "; got '" + o + "'");
        if (out == null) out = Path.of("bench/results/cpu-" + DateTimeFormatter.ofPattern("yyyy-MM-dd-HHmm").format(ZonedDateTime.now()) + ".json");

        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("date", ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME));
        doc.put("machine", machine());
        doc.put("jdk", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        doc.put("mode", quick ? "quick (2 x 0.5 s warm-up, 3 x 0.5 s measurement, 1 fork)" : "full (3 x 1 s warm-up, 5 x 1 s measurement, 1 fork)");
        doc.put("note", note);

        if (only.contains("sgemm")) doc.put("sgemm", sgemm(run(quick, SgemmBench.class, Map.of())));
        Map<String, Object> sparse = new LinkedHashMap<>();
        if (only.contains("sparse")) {
            Map<String, String[]> p = new TreeMap<>();
            if (sweep) p.put("sparsity", SWEEP);
            List<Object> layers = sparseRows(run(quick, SparseLayerBench.class, p));
            sparse.put("layers", layers);
            sparse.put("breakEvenSparsity", breakEven(layers));
        }
        if (only.contains("ort")) sparse.put("onnxRuntimeDense", ortRows(run(quick, OrtDenseBench.class, Map.of())));
        if (!sparse.isEmpty()) doc.put("sparse4096", sparse);
        if (only.contains("models")) doc.put("sparseModels", modelRows(run(quick, SparseModelBench.class, Map.of())));
        if (only.contains("train")) {
            List<Map<String, Object>> rows = new ArrayList<>();
            for (RunResult r : run(quick, TrainStepBench.class, Map.of())) rows.add(train(r));
            // "trainStep" keeps its earlier meaning (the LeNet-300-100 row) for readers of older files
            rows.stream().filter(r -> "lenet-300-100".equals(r.get("model"))).findFirst().ifPresent(r -> doc.put("trainStep", r));
            doc.put("trainSteps", rows);
        }

        String json = BenchJson.write(doc, SIGNIFICANT_DIGITS);
        Path parent = out.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        Files.writeString(out, json);
        System.out.println(json);
        System.err.println("wrote " + out);
    }

    private static String value(String[] args, int i, String opt) {
        if (i >= args.length) throw new IllegalArgumentException(opt + " needs a value");
        return args[i];
    }

    private static Collection<RunResult> run(boolean quick, Class<?> bench, Map<String, String[]> params) throws RunnerException {
        ChainedOptionsBuilder o = new OptionsBuilder().include("\\." + bench.getSimpleName() + "\\.").shouldFailOnError(true);
        if (quick) {
            o.warmupIterations(2).warmupTime(TimeValue.milliseconds(500))
                    .measurementIterations(3).measurementTime(TimeValue.milliseconds(500)).forks(1);
        }
        for (Map.Entry<String, String[]> p : params.entrySet()) o.param(p.getKey(), p.getValue());
        return new Runner(o.build()).run();
    }

    private static double ms(RunResult r) { return r.getPrimaryResult().getScore(); }

    private static double err(RunResult r) {
        double e = r.getPrimaryResult().getScoreError();
        return Double.isNaN(e) ? 0 : e;
    }

    private static List<Object> sgemm(Collection<RunResult> results) {
        List<Object> rows = new ArrayList<>();
        for (RunResult r : results) {
            GemmShape s = GemmShape.named(r.getParams().getParam("shape"));
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("shape", s.name());
            row.put("transA", s.transA());
            row.put("transB", s.transB());
            row.put("m", s.m());
            row.put("n", s.n());
            row.put("k", s.k());
            row.put("ms", ms(r));
            row.put("msError99", err(r));
            row.put("gflops", s.flops() / (ms(r) * 1e6));
            rows.add(row);
        }
        return rows;
    }

    private static List<Object> sparseRows(Collection<RunResult> results) {
        Map<String, Double> dense = new LinkedHashMap<>();
        for (RunResult r : results)
            if (r.getParams().getParam("format").equals("dense"))
                dense.put(r.getParams().getParam("sparsity") + "/" + r.getParams().getParam("batch"), ms(r));
        List<Object> rows = new ArrayList<>();
        for (RunResult r : results) {
            Map<String, Object> row = new LinkedHashMap<>();
            String sp = r.getParams().getParam("sparsity"), batch = r.getParams().getParam("batch");
            row.put("size", Integer.parseInt(r.getParams().getParam("size")));
            row.put("sparsity", Double.parseDouble(sp));
            row.put("batch", Integer.parseInt(batch));
            row.put("format", r.getParams().getParam("format"));
            row.put("ms", ms(r));
            row.put("msError99", err(r));
            Double d = dense.get(sp + "/" + batch);
            if (d != null) row.put("speedupVsDense", d / ms(r));
            rows.add(row);
        }
        return rows;
    }

    /**
     * Per batch size: the lowest measured sparsity from which CSR is faster than dense at every
     * higher measured sparsity (null when it never is).
     */
    @SuppressWarnings("unchecked")
    static Map<String, Object> breakEven(List<Object> layers) {
        Map<Integer, TreeMap<Double, Double>> speedups = new TreeMap<>();
        for (Object o : layers) {
            Map<String, Object> row = (Map<String, Object>) o;
            if (!"csr".equals(row.get("format")) || !(row.get("speedupVsDense") instanceof Double sp)) continue;
            speedups.computeIfAbsent((Integer) row.get("batch"), b -> new TreeMap<>()).put((Double) row.get("sparsity"), sp);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        for (Map.Entry<Integer, TreeMap<Double, Double>> e : speedups.entrySet()) {
            Double from = null;
            for (Map.Entry<Double, Double> s : e.getValue().descendingMap().entrySet()) {
                if (s.getValue() > 1.0) from = s.getKey();
                else break;
            }
            out.put("batch" + e.getKey(), from);
        }
        return out;
    }

    private static List<Object> ortRows(Collection<RunResult> results) {
        List<Object> rows = new ArrayList<>();
        for (RunResult r : results) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("size", Integer.parseInt(r.getParams().getParam("size")));
            row.put("batch", Integer.parseInt(r.getParams().getParam("batch")));
            row.put("ms", ms(r));
            row.put("msError99", err(r));
            rows.add(row);
        }
        return rows;
    }

    private static List<Object> modelRows(Collection<RunResult> results) {
        Map<String, Double> dense = new LinkedHashMap<>();
        for (RunResult r : results)
            if (r.getParams().getParam("mode").equals("dense"))
                dense.put(r.getParams().getParam("model") + "/" + r.getParams().getParam("sparsity") + "/" + r.getParams().getParam("batch"), ms(r));
        List<Object> rows = new ArrayList<>();
        for (RunResult r : results) {
            Map<String, Object> row = new LinkedHashMap<>();
            String key = r.getParams().getParam("model") + "/" + r.getParams().getParam("sparsity") + "/" + r.getParams().getParam("batch");
            row.put("model", r.getParams().getParam("model"));
            row.put("sparsity", Double.parseDouble(r.getParams().getParam("sparsity")));
            row.put("batch", Integer.parseInt(r.getParams().getParam("batch")));
            row.put("mode", r.getParams().getParam("mode"));
            row.put("ms", ms(r));
            row.put("msError99", err(r));
            Double d = dense.get(key);
            if (d != null) row.put("speedupVsDense", d / ms(r));
            rows.add(row);
        }
        return rows;
    }

    private static Map<String, Object> train(RunResult r) {
        Map<String, Object> row = new LinkedHashMap<>();
        int batch = Integer.parseInt(r.getParams().getParam("batch"));
        row.put("model", r.getParams().getParam("model"));
        row.put("batch", batch);
        row.put("msPerStep", ms(r));
        row.put("imagesPerSecond", batch * 1000.0 / ms(r));
        row.put("msError99", err(r));
        row.put("stepsPerEpoch", STEPS_PER_EPOCH);
        row.put("secondsPerEpoch", ms(r) * STEPS_PER_EPOCH / 1000);
        return row;
    }

    static Map<String, Object> machine() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("nproc", Runtime.getRuntime().availableProcessors());
        m.put("threads", Parallel.threads());
        String cpu = System.getProperty("os.arch");
        String flags = "";
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name") && cpu.equals(System.getProperty("os.arch"))) cpu = line.substring(line.indexOf(':') + 1).trim();
                if (line.startsWith("flags") && flags.isEmpty()) {
                    List<String> simd = new ArrayList<>();
                    for (String f : line.substring(line.indexOf(':') + 1).trim().split(" "))
                        if (f.equals("avx2") || f.equals("fma") || f.equals("avx512f")) simd.add(f);
                    flags = String.join(" ", simd);
                }
            }
        } catch (IOException | RuntimeException ignored) {
            // not Linux
        }
        m.put("cpu", cpu);
        m.put("simd", flags);
        m.put("vectorBits", FloatVector.SPECIES_PREFERRED.vectorBitSize());
        m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version"));
        try {
            m.put("loadAverageAtStart", Files.readString(Path.of("/proc/loadavg")).trim());
        } catch (IOException | RuntimeException ignored) {
            // not Linux
        }
        return m;
    }
}
