package dev.shears.cli;

import dev.shears.cli.report.BenchJson;
import dev.shears.cli.report.PngChart;
import dev.shears.core.backend.Backend;
import dev.shears.core.backend.Backends;
import dev.shears.core.cuda.sparse.CudaSparseModel;
import dev.shears.core.cuda.sparse.CudaSparsePlanner;
import dev.shears.core.cuda.sparse.Precision;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.Parameter;
import dev.shears.core.nn.layers.Conv2D;
import dev.shears.core.nn.layers.Dense;
import dev.shears.core.sparse.SparseBench;
import dev.shears.core.sparse.SparseModel;
import dev.shears.core.sparse.SparsePlanner;
import dev.shears.core.util.AtomicFiles;
import dev.shears.pruning.MagnitudePruner;
import dev.shears.pruning.WeightBackup;
import dev.shears.pruning.recipe.Scope;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code shears bench sparse (--model FILE | --shape MxK --sparsity LIST) --batch LIST
 * [--backend cpu|cuda [--precision fp32|fp16|bf16]] --json FILE}: dense against CSR, Blocked-ELL
 * and 2:4 for a layer shape or for every layer of a model. On {@code --backend cuda} a model's
 * layers are timed with CUDA events as the GPU planner's candidates (cuBLAS against cuSPARSE, and
 * with {@code --precision fp16|bf16} cuSPARSELt 2:4 as {@code eval --sparse} offers it), and a
 * shape by gpu-core's CudaShapeSweep, the sweep bench's SparseGpuBench runs ({@link CudaShapeBench}).
 */
@Command(name = "bench", description = "Benchmark sparse against dense inference: a table, a JSON file and a PNG chart.")
final class BenchCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(index = "0", description = "What to benchmark: sparse.", defaultValue = "sparse")
    String what;

    @Option(names = "--model", description = "A model, pruned (or dense, with --sparsity): plan and time each of its Dense/Conv layers. Give --model or --shape.")
    String model;

    @Option(names = "--shape", description = "Weight matrix MxK (output features x input features), e.g. 4096x4096.")
    String shape;

    @Option(names = "--sparsity", split = ",", defaultValue = "0.5,0.7,0.8,0.9,0.95,0.99",
            description = "Sparsities for --shape. Default: ${DEFAULT-VALUE}. With --model (no default there): prune a copy of the "
                    + "model one-shot by magnitude to each of these in every Dense/Conv2D kernel before timing it, to see the speed "
                    + "a dense model would have pruned (its accuracy is not kept: prune with shears prune for that).")
    double[] sparsity;

    @Option(names = "--batch", split = ",", defaultValue = "1,64", description = "Batch sizes. Default: ${DEFAULT-VALUE}.")
    int[] batch;

    @Option(names = "--backend", defaultValue = "cpu",
            description = "cpu, or cuda to time on the GPU with CUDA events: a --model's layers as the GPU planner offers them, or a "
                    + "--shape as cuBLAS SGEMM (dense, the baseline of the speed-up, and dense-tf32) against cuSPARSE CSR (SpMM, SpMV at "
                    + "batch 1) and Blocked-ELL (16x16 blocks), each sparse result checked against cuBLAS's; a case that fails or does "
                    + "not match is listed and the exit status is 1. Default: ${DEFAULT-VALUE}.")
    String backend;

    @Option(names = "--precision", defaultValue = "fp32", paramLabel = "fp32|fp16|bf16",
            description = "With --backend cuda: fp16 or bf16 opts in to reduced precision. With --shape it adds cuSPARSELt 2:4 "
                    + "(\"2:4-fp16\", sparsity 0.5, pruned on the device) against cuBLAS in the same type (\"dense-fp16\") for each batch "
                    + "rounded up to a multiple of 8 (M and K must be multiples of 16). "
                    + "With --model it adds cuSPARSELt 2:4 (\"2:4-lt fp16\") "
                    + "as a candidate for Dense and Conv2D layers pruned 2:4, as eval --sparse does; such a layer rounds its inputs, "
                    + "weights and outputs to 16 bits (FP32 accumulation). With fp16, a layer whose activations on a random batch "
                    + "in [0, 1) exceed half of FP16's range is not offered it. The CPU runs fp32 only. Default: ${DEFAULT-VALUE}.")
    String precision;

    @Option(names = "--quick", description = "Fewer repetitions and no JIT warm-up: a smoke test of the command, whose figures are not reliable.")
    boolean quick;

    @Option(names = "--json", description = "Write {\"device\": ..., \"results\": [...]} here (and a PNG chart beside it).")
    Path json;

    @Override public Integer call() throws Exception {
        if (!what.equals("sparse")) throw new UserError("bench " + what + ": only 'bench sparse' exists");
        if (!backend.equals("cpu") && !backend.equals("cuda")) throw new UserError("--backend " + backend + ": expected cpu or cuda");
        boolean cuda = backend.equals("cuda");
        Precision p = SparseEval.precision(precision);
        if (p != Precision.FP32 && !cuda)
            throw new UserError("--precision " + p.id() + " needs --backend cuda (cuSPARSELt's 2:4 products); bench sparse on the cpu"
                    + " runs fp32 only: drop --precision, or add --backend cuda on a machine with CUDA");
        if ((model == null) == (shape == null)) throw new UserError("give either --model FILE or --shape MxK");
        for (int n : batch) if (n < 1) throw new UserError("--batch " + n + " must be at least 1");
        if (json != null) OutputFile.requireFile(json, "--json");
        Path png = json == null ? null : json.resolveSibling(json.getFileName().toString().replaceFirst("\\.json$", "") + ".png");
        Path modelFile = model == null ? null : Path.of(model);
        // the JSON must never replace the model being measured (bench --model m.shears --json m.shears did);
        // the chart is only drawn for --shape, where there is no model file
        if (json != null && modelFile != null && json.toAbsolutePath().normalize().equals(modelFile.toAbsolutePath().normalize()))
            throw new UserError("--json " + json + " is the --model file; choose another path");
        SparsePlanner.Options opt = quick ? SparsePlanner.Options.quick() : SparsePlanner.Options.defaults();
        List<Group> groups = new ArrayList<>();
        List<String> failures = List.of();
        var err = spec.commandLine().getErr();
        String device = SparseBench.cpuDevice();
        if (shape != null) {
            int[] mk;
            try {
                mk = SparseBench.parseShape(shape);
            } catch (IllegalArgumentException e) {
                throw new UserError(e.getMessage());
            }
            requireSparsities();
            err.printf(Locale.ROOT, "bench sparse: %dx%d, sparsity %s, batch %s%n", mk[0], mk[1], java.util.Arrays.toString(sparsity), java.util.Arrays.toString(batch));
            if (cuda) {
                CudaShapeBench.Result r = CudaShapeBench.run(mk[0], mk[1], sparsity, batch, p, quick);
                device = r.device();
                groups.add(new Group(null, r.rows()));
                failures = r.failures();
            } else {
                groups.add(new Group(null, SparseBench.sweep(mk[0], mk[1], sparsity, batch, 42, opt)));
            }
        } else if (cuda) {
            double[] levels = modelSparsities();
            try (Backend be = Backends.create("cuda").backend()) {
                requireCusparse();
                device = be.name();
                CudaSparsePlanner planner = new CudaSparsePlanner(
                        (quick ? CudaSparsePlanner.Options.quick() : CudaSparsePlanner.Options.defaults()).withPrecision(p));
                groups.addAll(timeModel(be, levels, err, (m, n, planLine) -> {
                    try (CudaSparseModel sm = CudaSparseModel.plan(m, n, planner, null, planLine)) {
                        return SparseBench.modelRows(sm.plans());
                    }
                }));
            }
        } else {
            double[] levels = modelSparsities();
            try (Backend be = CpuBackend.create()) {
                groups.addAll(timeModel(be, levels, err,
                        (m, n, planLine) -> SparseBench.modelRows(SparseModel.plan(m, n, new SparsePlanner(opt), null, planLine))));
            }
        }
        List<SparseBench.Row> rows = groups.stream().flatMap(g -> g.rows().stream()).toList();
        if (rows.isEmpty() && !failures.isEmpty())
            throw new IllegalStateException("bench sparse: every case failed on " + device + ": " + String.join("; ", failures));
        var out = spec.commandLine().getOut();
        out.printf(Locale.ROOT, "%-8s %-22s %6s %6s %5s %9s %11s %9s%n", "op", "format", "m", "k", "n", "sparsity", "median ms", "speedup");
        for (Group g : groups) {
            if (g.heading() != null) out.println(g.heading());
            for (SparseBench.Row r : g.rows())
                out.printf(Locale.ROOT, "%-8s %-22s %6d %6d %5d %8.2f%% %11.4f %8.2fx%n", r.op(), r.format(), r.m(), r.k(), r.n(),
                        100 * r.sparsity(), r.medianMs(), r.speedupVsDense());
        }
        if (json != null) {
            String timedOn = device;
            BenchJson.writeFile(json, json(timedOn, rows), modelFile);
            if (shape != null) {
                AtomicFiles.write(png, o -> o.write(chart(rows, timedOn)));
                err.println("bench sparse: wrote " + json + " and " + png);
            } else {
                err.println("bench sparse: wrote " + json);
            }
        }
        if (!failures.isEmpty()) {
            err.println("bench sparse: " + failures.size() + " case(s) failed or did not match cuBLAS (left out of the table and JSON):");
            for (String f : failures) err.println("  " + f);
            return 1;
        }
        return 0;
    }

    /**
     * The sparsities a --model is timed at: each of --sparsity when it is given (a one-shot pruned
     * copy each), else {@link #AS_IS} alone (the weights as they are). --sparsity with --model used
     * to be ignored without a word, so a dense ResNet-50 "at 0.9" was timed dense, every layer.
     */
    private double[] modelSparsities() {
        if (!spec.commandLine().getParseResult().hasMatchedOption("--sparsity")) return new double[] {AS_IS};
        requireSparsities();
        return sparsity;
    }

    private void requireSparsities() {
        for (double s : sparsity) if (!(s >= 0 && s < 1)) throw new UserError("--sparsity " + s + " must be in [0, 1)");
    }

    /** {@link #modelSparsities}' mark for "the model as it is, not pruned here". */
    private static final double AS_IS = -1;

    /**
     * Rows of the table under one heading line ({@code heading} null: none, as for --shape). A
     * --model's rows do not show their batch (n is a convolution's output positions, timed on one
     * image), so each (level, batch) of a model is a group headed by {@link #sectionLine}.
     */
    private record Group(String heading, List<SparseBench.Row> rows) {}

    /** The heading of one --model group: "-- batch 64, pruned one-shot to 90.0% --", or the weights as they are. */
    static String sectionLine(double level, int batch) {
        return String.format(Locale.ROOT, "-- batch %d, %s --", batch,
                level == AS_IS ? "weights as they are" : String.format(Locale.ROOT, "pruned one-shot to %.1f%%", 100 * level));
    }

    /** One backend's planner: {@code m}'s planned layers at batch {@code n} as bench rows. */
    private interface ModelPlan {
        List<SparseBench.Row> rows(Model m, int n, PlanLine planLine);
    }

    /**
     * --model on {@code be} at each of {@code levels} ({@link #modelSparsities}) and each --batch, timed by {@code plan}: one headed group per (level, batch).
     * The model is loaded once: each level prunes its kernels one-shot from the weights as loaded,
     * which a {@link WeightBackup} of each kernel puts back before the next level.
     */
    private List<Group> timeModel(Backend be, double[] levels, java.io.PrintWriter err, ModelPlan plan) {
        List<Group> groups = new ArrayList<>();
        PlanLine planLine = new PlanLine(new Progress(err, false));
        Model m = ModelSource.load(model, null, be, null, 0, 0).model();
        List<Parameter> kernels = m.parameters().stream().filter(Parameter::prunableByDefault).toList();
        List<WeightBackup> backups = new ArrayList<>();
        try {
            if (levels.length > 1) for (Parameter k : kernels) backups.add(new WeightBackup(be, k));
            String layers = plannedLayers(m);
            for (double level : levels) {
                prepare(m, kernels, be, level, err);
                for (int n : batch) {
                    err.printf(Locale.ROOT, "bench sparse: timing %s at batch %d%n", layers, n);
                    groups.add(new Group(sectionLine(level, n), plan.rows(m, n, planLine)));
                }
                for (WeightBackup b : backups) b.restore();
            }
        } finally {
            for (WeightBackup b : backups) b.close();
        }
        return groups;
    }

    /**
     * At a {@code level} in [0, 1) prunes each of {@code kernels} (the Dense/Conv2D kernels of
     * {@code m}) one-shot to that sparsity by magnitude (layer scope: the threshold training's masks
     * use); at {@link #AS_IS} leaves them as they are, saying on {@code err} when they have no zero
     * weight to gain from (all dense).
     */
    private void prepare(Model m, List<Parameter> kernels, Backend be, double level, java.io.PrintWriter err) {
        if (level != AS_IS) {
            MagnitudePruner pruner = new MagnitudePruner(be);
            for (Parameter k : kernels) pruner.update(List.of(k), level, Scope.LAYER);
            err.printf(Locale.ROOT, "bench sparse: %s pruned one-shot by magnitude to %.1f%% in each of its %s (a copy, for timing:"
                    + " its accuracy is not kept; shears prune keeps it)%n", model, 100 * level, Plural.of(kernels.size(), "Dense/Conv2D kernel"));
        } else if (!kernels.isEmpty() && !SparseEval.hasPrunedWeights(m)) {
            err.printf(Locale.ROOT, "bench sparse: note: %s has no pruned (zero) weight, so every layer times dense; prune it first"
                    + " (shears prune), or add --sparsity 0.9 to time a copy pruned one-shot to 90%%%n", model);
        }
    }

    /**
     * The layers the planners time, as the progress line names them: Dense and single-group Conv2D;
     * grouped convolutions (AlexNet's) keep their dense forward, and are counted apart so that
     * "8 kernels pruned" and "timing 5 layers" read as one story.
     */
    static String plannedLayers(Model m) {
        int planned = 0, grouped = 0;
        for (Model.Node node : m.nodes()) {
            if (node.layer() instanceof Dense || node.layer() instanceof Conv2D c && c.groups() == 1) planned++;
            else if (node.layer() instanceof Conv2D) grouped++;
        }
        return Plural.of(planned, "layer") + (grouped == 0 ? ""
                : " (" + Plural.of(grouped, "grouped convolution") + " not planned: they keep their dense forward)");
    }

    /**
     * DESIGN.md's bench JSON, {@code {"device": ..., "results": [{"op", "format", "m", "k", "n",
     * "sparsity", "medianMs", "speedupVsDense"}, ...]}}: sparsity to 4 places, milliseconds to 5,
     * the speed-up to 3 (a CPU timing's noise is far above that).
     */
    static Map<String, Object> json(String device, List<SparseBench.Row> rows) {
        List<Map<String, Object>> results = new ArrayList<>();
        for (SparseBench.Row r : rows) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("op", r.op());
            o.put("format", r.format());
            o.put("m", r.m());
            o.put("k", r.k());
            o.put("n", r.n());
            o.put("sparsity", BenchJson.fixed(r.sparsity(), 4));
            o.put("medianMs", BenchJson.fixed(r.medianMs(), 5));
            o.put("speedupVsDense", BenchJson.fixed(r.speedupVsDense(), 3));
            results.add(o);
        }
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("device", device);
        doc.put("results", results);
        return doc;
    }

    /** Time against sparsity, one line per (format, batch); the format's nominal name (block size kept). */
    static byte[] chart(List<SparseBench.Row> rows, String device) {
        Map<String, List<SparseBench.Row>> series = new LinkedHashMap<>();
        double sparseMin = rows.stream().filter(r -> !r.op().equals("gemm")).mapToDouble(SparseBench.Row::sparsity).min().orElse(0);
        double sparseMax = rows.stream().filter(r -> !r.op().equals("gemm")).mapToDouble(SparseBench.Row::sparsity).max().orElse(0);
        for (SparseBench.Row r : rows) series.computeIfAbsent(r.format() + " n=" + r.n(), k -> new ArrayList<>()).add(r);
        List<PngChart.Line> lines = new ArrayList<>();
        for (var e : series.entrySet()) {
            // dense rows carry the matrix's actual sparsity; plot them at the sweep's nominal points too
            List<SparseBench.Row> rs = e.getValue();
            double[] x = rs.stream().mapToDouble(SparseBench.Row::sparsity).toArray();
            double[] y = rs.stream().mapToDouble(SparseBench.Row::medianMs).toArray();
            if (rs.size() == 1 && rs.getFirst().op().equals("gemm") && sparseMin < sparseMax) {
                // the GPU times cuBLAS once a batch (it does not look at the values): a flat line across the sweep
                x = new double[] {sparseMin, sparseMax};
                y = new double[] {y[0], y[0]};
            }
            lines.add(new PngChart.Line(e.getKey(), x, y));
        }
        SparseBench.Row first = rows.getFirst();
        return PngChart.render("Sparse vs dense, " + first.m() + "x" + first.k() + " (" + device + ")", "sparsity", "median ms", lines, true);
    }

    /** Refuses (exit 2) when cuSPARSE, which both CUDA benches time against cuBLAS, cannot be loaded. */
    static void requireCusparse() {
        String cause = CudaSparseModel.unavailabilityCause();
        if (cause != null) throw new UserError("bench sparse --backend cuda needs cuSPARSE: " + cause + "; or use --backend cpu");
    }
}
