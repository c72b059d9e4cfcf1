package dev.shears.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.cli.report.PngChart;
import dev.shears.cli.report.ReportWriter;
import dev.shears.core.backend.Backend;
import dev.shears.core.data.DataSources;
import dev.shears.core.data.Dataset;
import dev.shears.core.nn.Evaluator;
import dev.shears.core.nn.Parameter;
import dev.shears.core.util.AtomicFiles;
import dev.shears.pruning.recipe.ChannelStructure;
import dev.shears.pruning.recipe.NmStructure;
import dev.shears.pruning.recipe.Structure;
import dev.shears.pruning.recipe.ParamSelection;
import dev.shears.pruning.recipe.Recipe;
import dev.shears.pruning.recipe.RecipeException;
import dev.shears.pruning.recipe.RecipeWriter;
import dev.shears.pruning.recipe.Recipes;
import dev.shears.pruning.sensitivity.LayerSensitivity;
import dev.shears.pruning.sensitivity.SensitivityAnalysis;
import dev.shears.pruning.sensitivity.SensitivityListener;
import dev.shears.pruning.sensitivity.SensitivityPlan;
import dev.shears.pruning.sensitivity.SensitivityPoint;
import dev.shears.pruning.sensitivity.SensitivityResult;
import dev.shears.pruning.sensitivity.SparsitySuggestion;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code shears sensitivity --model FILE --data DATA [--sparsities LIST] [--structure N:M|channels|block:RxC] [--params LIST]
 * [--samples N] [--max-drop POINTS] [--write-recipe FILE] [--backend B] [--json] [--out DIR]}: how
 * much test accuracy the model loses when each prunable layer alone is pruned by magnitude, and
 * the per-layer sparsities that stay within an accuracy budget (optionally as a recipe).
 */
@Command(name = "sensitivity", description = "Per-layer pruning sensitivity: prune each layer alone (one-shot, by magnitude) at each sparsity,"
        + " measure the test accuracy, and suggest per-layer sparsities within an accuracy budget.")
final class SensitivityCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Mixin ModelOption modelOption;

    @Option(names = "--data", defaultValue = "fashion-mnist", description = "fashion-mnist, a .npz file (x_test, y_test are read), a folder of IDX or .npy files, or a folder of image class folders (DIR/test/CLASS/*.png; also val/; the test set is used). Default: ${DEFAULT-VALUE}.")
    String data;

    @Option(names = "--sparsities", split = ",", paramLabel = "LIST",
            description = "Sparsities to measure each layer at, each in [0, 1). Default: 0.5,0.7,0.8,0.9,0.95,0.98.")
    List<Double> sparsities;

    @Option(names = "--structure", paramLabel = "STRUCTURE", description = "Prune in a structure: N:M (e.g. 2:4: 2 kept of every 4 inputs; its sparsity"
            + " is 1 - N/M, so no --sparsities), channels (whole output channels; never the output layer, nor a depthwise convolution) or block:RxC (e.g. block:4x4), each at every"
            + " --sparsities. Default: single weights.")
    String structure;

    @Option(names = "--params", paramLabel = "LIST",
            description = "Parameters to analyse: names or regular expressions matched against the whole name, as a recipe's params"
                    + " (default: every Dense/Conv2D kernel; shears inspect lists them). Repeatable; each value may list several,"
                    + " comma-separated: a comma inside {}, [] or () belongs to its pattern, so conv\\d{1,2}/kernel (conv1 to conv99) is one pattern.")
    List<String> paramValues;

    /** --params split into patterns ({@link PatternList}); null when not given. */
    private List<String> params;

    @Option(names = "--samples", paramLabel = "N", description = "Evaluate on the first N test samples only (faster, noisier). Default: all.")
    Integer samples;

    @Option(names = "--max-drop", defaultValue = "1.0", paramLabel = "POINTS",
            description = "Accuracy budget per layer, in percentage points, for the suggested sparsities. Default: ${DEFAULT-VALUE}.")
    double maxDrop;

    @Option(names = "--write-recipe", paramLabel = "FILE",
            description = "Write the suggestion as a recipe YAML: one gradual (gmp) modifier per layer with its own finalSparsity, on gmp-seed's schedule (gmp-2of4's with an N:M --structure).")
    Path writeRecipe;

    @Option(names = "--batch", defaultValue = "256", description = "Evaluation batch size. Default: ${DEFAULT-VALUE}.")
    int batch;

    @Option(names = "--json", description = "Print one JSON object on stdout and nothing else.")
    boolean json;

    @Option(names = "--out", paramLabel = "DIR", description = "Also write sensitivity.json and sensitivity.png (accuracy against sparsity, a line per layer) here.")
    Path out;

    @Mixin BackendOption backendOption;

    @Override public Integer call() throws Exception {
        PrintStream err = System.err;
        // every check that reads nothing first: a typo fails at once, not after the data loaded
        if (batch < 1) throw new UserError("--batch " + batch + ": the batch size must be at least 1");
        if (samples != null && samples < 1) throw new UserError("--samples " + samples + ": give at least 1 test sample, or leave it out to use them all");
        if (!(maxDrop >= 0) || Double.isInfinite(maxDrop))
            throw new UserError("--max-drop " + maxDrop + ": give the accuracy budget as a finite number of percentage points >= 0, e.g. 1.0");
        SensitivityPlan plan = plan();
        params = paramValues == null ? null : PatternList.split(paramValues);
        ParamSelection selection;
        try {
            selection = params == null ? ParamSelection.ALL_PRUNABLE : new ParamSelection(params);
        } catch (RecipeException e) {
            throw new UserError("--params " + String.join(",", params) + ": " + e.getMessage().replaceFirst("^params\\[\\d+\\] = ", "")
                    .replaceFirst("^params\\[\\d+\\] is empty", "an empty pattern (two commas in a row?)"));
        }
        modelOption.check(false); // an untrained architecture has nothing to measure
        Path json = out == null ? null : out.resolve("sensitivity.json"), png = out == null ? null : out.resolve("sensitivity.png");
        if (writeRecipe != null) {
            OutputFile.requireFile(writeRecipe, "--write-recipe");
            modelOption.refuseAsOutput(writeRecipe, "--write-recipe");
        }
        if (out != null) {
            RunOptions.requireOutFolder(out);
            modelOption.refuseAsOutput(json, "--out " + out + " holds the model file:");
            modelOption.refuseAsOutput(png, "--out " + out + " holds the model file:");
        }
        DataSources.check(data);
        try (Backend be = backendOption.open(err)) {
            Progress bar = new Progress(err, false);
            Interruption onSignal = Interruption.forLoading(null, null, err, bar);
            Dataset all = DecodeLine.loadTest(data, bar, onSignal);
            Dataset test = samples != null && samples < all.count() ? all.head(samples) : all;
            onSignal.working("loading --model " + modelOption.model, 0, null);
            ModelSource src = modelOption.load(be, test.sampleShape(), test.classes(), 0);
            test = src.arrange(test); // channels-last images for an NCHW model: moved once, here (as eval does)
            SensitivityAnalysis analysis = new SensitivityAnalysis(src.model(), test, SparseEval.evalBatch(batch, test));
            List<Parameter> resolved, selected;
            try {
                resolved = selection.resolve(src.model()); // an unmatched pattern fails here, naming the model's kernels
                selected = analysis.measured(selection, plan); // channels: a selection of output layers only fails here
            } catch (RecipeException e) {
                if (params == null) throw new UserError("--model " + modelOption.model + ": " + e.getMessage()); // no Dense/Conv2D kernel at all
                throw new UserError("--params " + String.join(",", params) + ": " + e.getMessage());
            }
            List<List<Parameter>> together = analysis.prunedTogether(resolved, plan); // channels: tied sets, one evaluation each
            int evaluations = 1 + together.size() * plan.sparsities().size();
            String subset = test.count() < all.count()
                    ? String.format(Locale.ROOT, "the first %d of %d test samples (--samples %d)", test.count(), all.count(), test.count())
                    : Plural.of(test.count(), "test sample") + (samples != null ? " (all of them: --samples " + samples + " is not fewer)" : "");
            err.printf(Locale.ROOT, "sensitivity: %s x %s = %d evaluations (and the baseline) of %s%n", Plural.of(selected.size(), "layer")
                            + (together.size() < selected.size() ? " in " + Plural.of(together.size(), "set") + " pruned together" : ""),
                    plan.nm() != null ? plan.nm() + " pruning" : (plan.sparsities().size() == 1 ? "1 sparsity" : plan.sparsities().size() + " sparsities")
                            + (plan.structure() != null ? " of " + plan.structure() + " pruning" : ""),
                    evaluations - 1, subset);
            for (var why : byReason(analysis.leftOut(resolved, selected)).entrySet())
                err.println("sensitivity: leaving out " + String.join(", ", why.getValue()) + ": " + why.getKey());
            for (List<Parameter> set : together)
                if (set.size() > 1)
                    err.println("sensitivity: pruning " + set.stream().map(Parameter::name).toList() + " together (their channels are tied by an Add"
                            + " or Multiply, as a channels recipe prunes them): one evaluation per sparsity, the same accuracy for each");
            Progress progress = new Progress(err, false);
            // minutes of prune-and-evaluate passes: a Ctrl-C says which layer and level it was on, and that nothing was written
            // (the pruned weights are in memory only; --model's file is only read). Shears.execute removes the hook on return.
            Interruption measuring = Interruption.forLoading(null, null, err, progress);
            measuring.working("measuring the sensitivity of " + src.description() + " on " + test.name(), evaluations, "evaluation");
            measuring.at("the baseline (nothing pruned)");
            SensitivityResult r = analysis.run(selection, plan, new SensitivityListener() {
                @Override public void evaluated(int done, int total, String param, double target, Evaluator.Result res) {
                    measuring.decoded(done);
                    progress.update("sensitivity", done, total,
                            "evaluations" + (param == null ? " (baseline)" : " (" + param + " at " + label(plan, target) + ")"));
                }

                @Override public void pruned(Parameter p, double target) {
                    measuring.at(p.name() + " pruned to " + label(plan, target));
                }
            });
            measuring.disarm(); // what follows writes the outputs: "nothing was written" would no longer be true
            SparsitySuggestion suggestion = SparsitySuggestion.of(r, maxDrop);

            String recipeNote = null;
            if (writeRecipe != null) {
                List<String> prunable = src.model().parameters().stream().filter(Parameter::prunableByDefault).map(Parameter::name).toList();
                Recipe template = Recipes.builtIn(plan.nm() == null ? "gmp-seed" : "gmp-2of4");
                try {
                    Recipe recipe = suggestion.toRecipe(template, recipeName(src), prunable);
                    String yaml = "# Written by shears sensitivity from " + src.description() + " on " + test.name() + ",\n# " + subset + ";\n"
                            + "# each layer's finalSparsity the highest measured within " + SparsitySuggestion.points(maxDrop) + " of accuracy.\n"
                            + "# Each layer was measured pruned alone (one-shot, no fine-tuning): drops do not add up exactly\n"
                            + "# when the layers are pruned together; check the pruned model's accuracy.\n" + RecipeWriter.toYaml(recipe);
                    AtomicFiles.writeString(writeRecipe, yaml, src.inputs());
                } catch (RecipeException e) {
                    recipeNote = "no recipe written: " + e.getMessage();
                }
            }
            ObjectNode o = json(r, suggestion, src, be, test, all.count(), recipeNote);
            if (writeRecipe != null && recipeNote == null) o.put("recipe", writeRecipe.toString()); else o.putNull("recipe");
            var stdout = spec.commandLine().getOut();
            if (this.json) stdout.println(ReportWriter.JSON.writeValueAsString(o));
            else table(stdout, r, suggestion, src, test, subset, be);
            if (out != null) {
                AtomicFiles.writeString(json, ReportWriter.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(o) + "\n", src.inputs());
                byte[] chart = chart(r, src.description(), test.count());
                AtomicFiles.write(png, s -> s.write(chart), src.inputs());
                err.println("sensitivity: wrote " + json + " and " + png);
            }
            if (writeRecipe != null) err.println(recipeNote != null ? "sensitivity: " + recipeNote : "sensitivity: wrote the recipe " + writeRecipe);
            return 0;
        }
    }

    /** --sparsities and --structure as a validated plan; their mistakes as usage errors naming the option. */
    private SensitivityPlan plan() {
        Structure s = null;
        if (structure != null) {
            try {
                s = Structure.parse(structure);
            } catch (RecipeException e) {
                throw new UserError("--structure " + e.getMessage().replaceFirst("^structure = ", ""));
            }
            if (s instanceof NmStructure nm) {
                if (sparsities != null)
                    throw new UserError("--sparsities and --structure " + structure + " both given: an N:M structure measures each layer at its own"
                            + " sparsity (1 - N/M); give one of them");
                return SensitivityPlan.nm(nm);
            }
        }
        try {
            List<Double> targets = sparsities == null ? SensitivityPlan.DEFAULT_SPARSITIES : sparsities;
            return s == null ? SensitivityPlan.unstructured(targets) : SensitivityPlan.structured(s, targets);
        } catch (IllegalArgumentException e) {
            throw new UserError("--sparsities " + (sparsities == null ? "" : String.join(",", sparsities.stream().map(String::valueOf).toList()))
                    + ": " + e.getMessage());
        }
    }

    /** "sensitivity-mlp" for mlp.shears; a run's runs/dense/model.shears gives "sensitivity-dense". */
    private static String recipeName(ModelSource src) {
        Path p = src.path();
        String n = p == null ? src.description()
                : p.getFileName().toString().equals("model.shears") && p.toAbsolutePath().getParent() != null
                ? p.toAbsolutePath().getParent().getFileName().toString() : p.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return "sensitivity-" + (dot > 0 ? n.substring(0, dot) : n);
    }

    /** A target as a column heading: "90%", "97.5%", or the N:M pattern. */
    static String label(SensitivityPlan plan, double target) {
        if (plan.nm() != null) return plan.nm().recipeName();
        return new BigDecimal(Double.toString(100 * target)).round(new java.math.MathContext(4)).stripTrailingZeros().toPlainString() + "%";
    }

    private static void table(PrintWriter o, SensitivityResult r, SparsitySuggestion s, ModelSource src, Dataset test, String subset, Backend be) {
        SensitivityPlan plan = r.plan();
        o.printf(Locale.ROOT, "%s on %s, %s, %s%n", src.description(), test.name(), subset, be.name());
        o.printf(Locale.ROOT, "baseline: accuracy %.2f%%, loss %.4f%n", 100 * r.baselineAccuracy(), r.baselineLoss());
        o.println("accuracy drop in points with only that layer pruned (one-shot, by magnitude; negative: it rose):");
        boolean anySparse = r.layers().stream().anyMatch(l -> l.originalSparsity() > 0);
        int w = Math.max(5, r.layers().stream().mapToInt(l -> l.name().length()).max().orElse(5));
        StringBuilder head = new StringBuilder(String.format(Locale.ROOT, "%-" + w + "s %11s", "layer", "parameters"));
        if (anySparse) head.append(String.format(Locale.ROOT, " %8s", "now"));
        for (double t : plan.sparsities()) head.append(String.format(Locale.ROOT, " %7s", label(plan, t)));
        head.append(String.format(Locale.ROOT, "   within %s", SparsitySuggestion.points(s.maxDropPoints())));
        o.println(head);
        for (int i = 0; i < r.layers().size(); i++) {
            LayerSensitivity l = r.layers().get(i);
            StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "%-" + w + "s %11d", l.name(), l.size()));
            if (anySparse) row.append(String.format(Locale.ROOT, " %7.2f%%", 100 * l.originalSparsity()));
            for (SensitivityPoint p : l.points()) row.append(String.format(Locale.ROOT, " %7.2f", p.dropPoints(r.baselineAccuracy())));
            SparsitySuggestion.Layer sl = s.layers().get(i);
            row.append("   ").append(sl.pruned() ? label(plan, sl.sparsity()) : "dense");
            o.println(row);
        }
        for (LayerSensitivity l : r.layers()) {
            if (plan.nm() != null) {
                for (SensitivityPoint p : l.points())
                    if (Math.abs(p.sparsity() - p.target()) > 0.005)
                        o.printf(Locale.ROOT, "%s at %s: %.2f%% of its weights pruned, its groups of %d inputs are cut short (it has fewer inputs, or a"
                                        + " number that %d does not divide)%s%n", l.name(), label(plan, p.target()), 100 * p.sparsity(), plan.nm().m(),
                                plan.nm().m(), p.sparsity() <= l.originalSparsity() ? ": it cannot be pruned " + plan.nm() : "");
                continue;
            }
            // a target below what the layer already had leaves it as it was: one line per layer, not per cell
            List<String> unchanged = l.points().stream()
                    .filter(p -> p.sparsity() - p.target() > 0.005 && p.sparsity() <= l.originalSparsity() + 1e-9)
                    .map(p -> label(plan, p.target())).toList();
            if (!unchanged.isEmpty())
                o.printf(Locale.ROOT, "%s was already %.2f%% sparse: pruning it to %s changed nothing (masks only gain zeros), so %s%n", l.name(),
                        100 * l.originalSparsity(), orList(unchanged), unchanged.size() == 1 ? "its drop there is 0" : "its drops there are 0");
            // channels and blocks go whole: the sparsity reached is the nearest whole number of them
            if (plan.structure() != null)
                for (SensitivityPoint p : l.points())
                    if (Math.abs(p.sparsity() - p.target()) > 0.005 && p.sparsity() > l.originalSparsity() + 1e-9)
                        o.printf(Locale.ROOT, "%s at %s: %.2f%% of its weights pruned, not %s: %s pruning removes whole %s, the nearest whole number of them%n",
                                l.name(), label(plan, p.target()), 100 * p.sparsity(), label(plan, p.target()), plan.structure(),
                                plan.structure() instanceof ChannelStructure ? "output channels" : "blocks");
        }
        for (var e : r.leftOutReasons().entrySet()) o.println(e.getKey() + ": not measured: " + e.getValue() + ".");
        o.println("note: " + SensitivityResult.CAVEAT + ".");
        o.printf(Locale.ROOT, "time: %.2f s for %d evaluations%n", r.seconds(), 1 + r.layers().size() * plan.sparsities().size());
    }

    /** The names left out grouped by their reason, each reason once, in the order first met. */
    private static java.util.Map<String, List<String>> byReason(java.util.Map<String, String> leftOut) {
        java.util.Map<String, List<String>> by = new java.util.LinkedHashMap<>();
        leftOut.forEach((name, reason) -> by.computeIfAbsent(reason, k -> new ArrayList<>()).add(name));
        return by;
    }

    /** "50%", "50% or 70%", "50%, 70% or 80%". */
    private static String orList(List<String> items) {
        int n = items.size();
        return n == 1 ? items.get(0) : String.join(", ", items.subList(0, n - 1)) + " or " + items.get(n - 1);
    }

    private static ObjectNode json(SensitivityResult r, SparsitySuggestion s, ModelSource src, Backend be, Dataset test, int testSamples, String recipeNote) {
        ObjectNode o = ReportWriter.JSON.createObjectNode();
        o.put("model", src.description()).put("data", test.name()).put("backend", be.name());
        o.put("samples", r.samples()).put("testSamples", testSamples);
        if (r.plan().structure() != null) o.put("structure", r.plan().structure().recipeName()); else o.putNull("structure");
        if (!r.leftOut().isEmpty()) {
            ArrayNode lo = o.putArray("leftOut");
            r.leftOut().forEach(lo::add);
            // one reason for all (an output layer, as before depthwise convolutions), or each reason once; leftOutReasons by name
            o.put("leftOutReason", String.join("; ", byReason(r.leftOutReasons()).keySet()));
            ObjectNode why = o.putObject("leftOutReasons");
            r.leftOutReasons().forEach(why::put);
        }
        ArrayNode sp = o.putArray("sparsities");
        r.plan().sparsities().forEach(sp::add);
        o.put("maxDrop", s.maxDropPoints());
        o.putObject("baseline").put("accuracy", r.baselineAccuracy()).put("loss", r.baselineLoss());
        ArrayNode together = o.putArray("prunedTogether"); // tied sets (channels): their rows share one measurement
        for (List<String> set : r.prunedTogether()) set.forEach(together.addArray()::add);
        ArrayNode layers = o.putArray("layers");
        for (int i = 0; i < r.layers().size(); i++) {
            LayerSensitivity l = r.layers().get(i);
            SparsitySuggestion.Layer sl = s.layers().get(i);
            ObjectNode lo = layers.addObject().put("name", l.name()).put("parameters", l.size()).put("sparsity", l.originalSparsity());
            ArrayNode res = lo.putArray("results");
            for (SensitivityPoint p : l.points())
                res.addObject().put("target", p.target()).put("sparsity", p.sparsity()).put("accuracy", p.accuracy()).put("loss", p.loss())
                        .put("drop", p.dropPoints(r.baselineAccuracy()));
            lo.put("suggestedSparsity", sl.sparsity()).put("suggestedDrop", sl.drop());
        }
        o.put("note", SensitivityResult.CAVEAT);
        if (recipeNote != null) o.put("recipeNote", recipeNote);
        o.put("seconds", r.seconds());
        return o;
    }

    /** Accuracy (%) against sparsity, one line per layer, each starting at the baseline (the layer as it was). */
    private static byte[] chart(SensitivityResult r, String model, int samples) {
        List<PngChart.Line> lines = new ArrayList<>();
        for (LayerSensitivity l : r.layers()) {
            int n = l.points().size();
            double[] x = new double[n + 1], y = new double[n + 1];
            x[0] = l.originalSparsity();
            y[0] = 100 * r.baselineAccuracy();
            for (int i = 0; i < n; i++) {
                x[i + 1] = l.points().get(i).sparsity();
                y[i + 1] = 100 * l.points().get(i).accuracy();
            }
            lines.add(new PngChart.Line(l.name(), x, y));
        }
        return PngChart.render("Accuracy with one layer pruned: " + model + ", " + samples + " test samples", "sparsity of the layer",
                "test accuracy %", lines, false);
    }
}
