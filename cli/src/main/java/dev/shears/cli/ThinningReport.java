package dev.shears.cli;

import dev.shears.cli.report.RunReport;
import dev.shears.core.cuda.CudaBackend;
import dev.shears.core.cuda.sparse.CudaInferenceComparison;
import dev.shears.core.data.Dataset;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.Parameter;
import dev.shears.core.nn.layers.Conv2D;
import dev.shears.core.nn.layers.Dense;
import dev.shears.core.sparse.InferenceComparison;
import dev.shears.core.sparse.ModelComparison;
import dev.shears.core.sparse.Settle;
import dev.shears.core.sparse.SparseBench;
import dev.shears.core.sparse.WholeModelCheck;
import dev.shears.core.tensor.Tensor;
import dev.shears.pruning.thin.ChannelThinning;
import dev.shears.pruning.thin.ThinnedModel;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The "thinning" part of a pruning run's report: what channel pruning buys once the all-zero
 * output channels are physically removed ({@link ChannelThinning}, what {@code export --thin}
 * writes). Parameters before and after, each layer's output channels before and after, the layers
 * whose zero channels had to stay, and at each inference batch size the final (masked) model's
 * latency against the thinned one's with their agreement on the first test images
 * ({@link ModelComparison}: timed as the sparse comparison times, on the CPU with
 * {@link InferenceComparison#cpuTimer}, on CUDA with CUDA events ({@link CudaInferenceComparison#timer}),
 * settled on {@link Settle#COMPARISON}). The thinned model is built on the run's own backend
 * (thinning reads the weights back and uploads the smaller ones there), so both are timed on
 * it. A failure here never costs the user the run: it is recorded as the section's note.
 */
final class ThinningReport {
    private ThinningReport() {}

    /** What {@link #measure} needs to time: the timer for a backend and whether to settle first. */
    record Timing(WholeModelCheck.Timer timer, Settle settle) {}

    /** The comparison's own timing on {@code model}'s backend: CUDA events on CUDA, the planner's wall-clock medians on the CPU. */
    static Timing timing(Model model) {
        if (model.backend() instanceof CudaBackend cuda) return new Timing(CudaInferenceComparison.timer(cuda), Settle.COMPARISON);
        // eval --sparse's and the inference section's CPU timing (50 ms per path over the rounds)
        return new Timing(InferenceComparison.cpuTimer(50), Settle.COMPARISON);
    }

    /**
     * Thins {@code model} and, when that removes a channel (or {@code always}: a channel-pruning
     * recipe, whose user expects the section even when nothing could go), compares it with the
     * thinned model at each of {@code batches}. Null when thinning removes nothing and
     * {@code always} is false, or when thinning fails and {@code always} is false (a run that
     * did not prune channels has no thinning to report).
     */
    static RunReport.Thinning measure(Model model, Dataset test, int[] batches, Progress progress, boolean always) {
        return measure(model, test, batches, progress, always, timing(model));
    }

    /** As above with {@code timing} (tests inject a timer that decides deterministically). */
    static RunReport.Thinning measure(Model model, Dataset test, int[] batches, Progress progress, boolean always, Timing timing) {
        String backend = model.backend() instanceof CudaBackend ? "cuda" : "cpu";
        String device = model.backend() instanceof CudaBackend cuda ? cuda.name() : SparseBench.cpuDevice();
        ThinnedModel t;
        try {
            t = ChannelThinning.thin(model);
        } catch (RuntimeException e) {
            if (!always) return null;
            String why = "not thinned: " + message(e);
            progress.line("thinning " + why);
            long p = model.parameterCount();
            return new RunReport.Thinning(p, p, 0, List.of(), List.of(), backend, device, List.of(), why);
        }
        try {
            if (t.removedChannels() == 0 && !always) return null;
            List<RunReport.ThinnedLayer> layers = layers(model, t);
            if (t.removedChannels() == 0)
                return section(t, layers, backend, device, List.of(), "no output channel could be removed, so the thinned model is the pruned one");
            List<RunReport.ThinningBatch> rows = new ArrayList<>();
            if (batches.length == 0) return section(t, layers, backend, device, rows, null);
            progress.line("timing the pruned model against its thinned copy " + ("cuda".equals(backend) ? "on the GPU" : "on the CPU")
                    + " at batch " + Arrays.toString(batches));
            TimingBudget budget = new TimingBudget(progress);
            try {
                for (int b : batches) {
                    if (!budget.allows(b)) continue;
                    ModelComparison c = ModelComparison.compare(model, t.model(), test, b, InferenceReport.agreementSamples(b), timing.timer(),
                            timing.settle());
                    rows.add(new RunReport.ThinningBatch(b, c.denseMs(), c.otherMs(), c.speedup(), c.agreement().samples(),
                            c.agreement().samePredictions(), c.agreement().maxAbsDifference()));
                    budget.timed(b, c.denseMs());
                    progress.line(line(rows.getLast()));
                }
                return section(t, layers, backend, device, rows, null);
            } catch (RuntimeException e) {
                String why = "not timed: " + message(e);
                progress.line("thinning " + why);
                return section(t, layers, backend, device, rows, why);
            }
        } finally {
            release(t.model());
        }
    }

    /** The section for thinned model {@code t}: its counts and warnings, {@code layers}, and what timing gave. */
    private static RunReport.Thinning section(ThinnedModel t, List<RunReport.ThinnedLayer> layers, String backend, String device,
                                              List<RunReport.ThinningBatch> rows, String note) {
        return new RunReport.Thinning(t.parametersBefore(), t.parametersAfter(), t.removedChannels(), layers, t.warnings(), backend, device,
                rows, note);
    }

    private static String message(RuntimeException e) {
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    /** Each layer that lost channels, in the model's order: its output width in {@code model} and in the thinned one. */
    static List<RunReport.ThinnedLayer> layers(Model model, ThinnedModel t) {
        Map<String, Integer> after = new HashMap<>();
        for (Model.Node n : t.model().nodes()) {
            int w = width(n);
            if (w >= 0) after.put(n.name(), w);
        }
        List<RunReport.ThinnedLayer> rows = new ArrayList<>();
        for (Model.Node n : model.nodes()) {
            if (!t.removed().containsKey(n.name())) continue;
            int before = width(n);
            rows.add(new RunReport.ThinnedLayer(n.name(), n.layer().getClass().getSimpleName(), before,
                    after.getOrDefault(n.name(), before - t.removed().get(n.name()))));
        }
        return rows;
    }

    /** Output channels of a Dense (kernel [in, out]) or Conv2D (kernel [out, in, kh, kw]) node; -1 for other layers. */
    private static int width(Model.Node n) {
        return switch (n.layer()) {
            case Dense d -> (int) d.kernel().shape().dim(1);
            case Conv2D c -> (int) c.kernel().shape().dim(0);
            default -> -1;
        };
    }

    /** Frees the thinned copy's parameters (device memory on CUDA); it is rebuilt whenever needed. */
    private static void release(Model m) {
        for (Parameter p : m.parameters())
            for (Tensor x : new Tensor[]{p.value(), p.grad(), p.mask()}) if (x != null) x.close();
    }

    /** The summary's first line of the section. */
    static String header(RunReport.Thinning t) {
        return counts(t.parametersBefore(), t.parametersAfter(), t.channelsRemoved())
                + (t.batches().isEmpty() ? "" : String.format(Locale.ROOT, "; timed against the pruned model on the %s (%s)",
                        "cuda".equals(t.backend()) ? "GPU, CUDA events" : "CPU", t.device()));
    }

    /** "thinned: A parameters instead of B (A/B %) with N output channels removed": the report's header and eval --thin both say it. */
    static String counts(long parametersBefore, long parametersAfter, int channelsRemoved) {
        return String.format(Locale.ROOT, "thinned: %d parameters instead of %d (%.1f%%) with %d output channels removed",
                parametersAfter, parametersBefore, 100.0 * parametersAfter / parametersBefore, channelsRemoved);
    }

    /**
     * The layers {@code t} thinned out of {@code model}, one {@link #layerLine} each, indented, in the
     * model's order ({@link ThinnedModel#removed} is by name: "n10" came before "n3").
     */
    static List<String> layerLines(Model model, ThinnedModel t) {
        return layers(model, t).stream().map(l -> "  " + layerLine(l)).toList();
    }

    /** One layer's widths, for the summary. */
    static String layerLine(RunReport.ThinnedLayer l) {
        return String.format(Locale.ROOT, "%s (%s): %d -> %d output channels", l.layer(), l.type(), l.channelsBefore(), l.channelsAfter());
    }

    /** One batch size as a line of the summary. */
    static String line(RunReport.ThinningBatch r) {
        return String.format(Locale.ROOT, "batch %d: pruned %.3f ms, thinned %.3f ms (%.2fx); same predictions on %d/%d test images (max |difference| %.2g)",
                r.batch(), r.prunedMs(), r.thinnedMs(), r.speedup(), r.samePredictions(), r.samples(), r.maxAbsDifference());
    }
}
