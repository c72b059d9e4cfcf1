package dev.shears.cli.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.shears.core.util.AtomicFiles;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Writes report.json and a self-contained report.html with charts. */
public final class ReportWriter {
    private ReportWriter() {}

    /** Pretty-printing mapper that writes NaN ("no value", e.g. the sparsity of a layer without weights) as null. */
    public static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .registerModule(new com.fasterxml.jackson.databind.module.SimpleModule("nan-as-null")
                    .addSerializer(Double.class, new NanAsNull())
                    .addSerializer(Double.TYPE, new NanAsNull()));

    private static final class NanAsNull extends com.fasterxml.jackson.databind.ser.std.StdSerializer<Double> {
        NanAsNull() { super(Double.class); }

        @Override public void serialize(Double v, com.fasterxml.jackson.core.JsonGenerator g,
                                        com.fasterxml.jackson.databind.SerializerProvider p) throws java.io.IOException {
            if (v == null || v.isNaN() || v.isInfinite()) g.writeNull(); else g.writeNumber(v);
        }
    }

    public static void writeJson(RunReport r, Path file, Path... inputs) {
        AtomicFiles.write(file, out -> JSON.writeValue(new NonClosing(out), r), inputs);
    }

    public static void writeHtml(RunReport r, Path file, Path... inputs) {
        AtomicFiles.writeString(file, html(r), inputs);
    }

    /** Most classes the report page lists by name; report.json keeps them all. */
    static final int CLASSES_SHOWN = ClassLabels.INDEXED;

    /**
     * What each output means, "10: 0 Ankle boot, 1 Bag, ..." (the first {@link #CLASSES_SHOWN}), and where the accuracy of
     * each is: the section below when the run counted it, else {@code shears eval}, which prints it per class.
     */
    static String classList(List<String> names, boolean perClassBelow) {
        return names.size() + ": " + ClassLabels.indexed(names, "(report.json lists all)")
                + (perClassBelow ? " (accuracy per class: below)" : " (accuracy per class: shears eval --model MODEL --data DATA)");
    }

    /** Most classes the per-class change chart shows (the most hurt first); the table shows {@link #CLASSES_SHOWN}. */
    static final int CLASSES_CHARTED = 40;

    /**
     * Accuracy per class before and after: a chart of the change in points and a table, both sorted by the change (the
     * classes that lost most first; without a "before", by the accuracy after), and why a side is missing.
     */
    private static void perClass(StringBuilder h, RunReport r) {
        if (r.perClass().isEmpty() && r.perClassNote() == null) return;
        h.append("<h2 id=\"per-class\">Accuracy per class</h2>\n<p>Counted in the run's own test passes: the model before the run")
                .append(" and after its last epoch (the same passes as the accuracy before and after), sorted by the change, most lost first.</p>\n");
        if (r.perClassNote() != null) h.append("<p>").append(SvgChart.esc(r.perClassNote())).append("</p>\n");
        if (r.perClass().isEmpty()) return;
        List<RunReport.ClassRow> rows = byChange(r.perClass());
        boolean changes = rows.stream().anyMatch(c -> !Double.isNaN(c.change()));
        if (changes) {
            List<RunReport.ClassRow> charted = rows.subList(0, Math.min(CLASSES_CHARTED, rows.size()));
            String title = "Change in accuracy per class, points" + (rows.size() > charted.size()
                    ? " (the " + charted.size() + " most hurt of " + rows.size() + ")" : "");
            h.append("<figure>").append(SvgChart.signedBars(title, charted.stream().map(ReportWriter::classLabel).toList(),
                    charted.stream().mapToDouble(c -> 100 * c.change()).toArray(), 1.0, "%+.2f")).append("</figure>\n");
        }
        h.append("<table class=\"per-class\"><tr><th>class</th><th>before</th><th>accuracy before</th><th>after</th><th>accuracy after</th>")
                .append("<th>change (points)</th></tr>\n");
        for (RunReport.ClassRow c : rows.subList(0, Math.min(CLASSES_SHOWN, rows.size())))
            h.append("<tr><td>").append(SvgChart.esc(classLabel(c))).append("</td><td>").append(fraction(c.before()))
                    .append("</td><td>").append(c.before() == null ? "n/a" : pct(c.before().accuracy()))
                    .append("</td><td>").append(fraction(c.after()))
                    .append("</td><td>").append(c.after() == null ? "n/a" : pct(c.after().accuracy()))
                    .append("</td><td>").append(Double.isNaN(c.change()) ? "n/a" : String.format(Locale.ROOT, "%+.2f", 100 * c.change()))
                    .append("</td></tr>\n");
        h.append("</table>\n");
        if (rows.size() > CLASSES_SHOWN)
            h.append("<p>The ").append(CLASSES_SHOWN).append(" classes that lost most of ").append(rows.size()).append("; report.json lists all.</p>\n");
    }

    /** The rows by change, most lost first (then by index); rows without a change after them, by accuracy after. */
    static List<RunReport.ClassRow> byChange(List<RunReport.ClassRow> rows) {
        return rows.stream().sorted(java.util.Comparator
                .comparingDouble((RunReport.ClassRow c) -> Double.isNaN(c.change()) ? Double.POSITIVE_INFINITY : c.change())
                .thenComparingDouble(c -> c.after() == null ? Double.POSITIVE_INFINITY : c.after().accuracy())
                .thenComparingInt(RunReport.ClassRow::index)).toList();
    }

    /** "3 Dress" (index and name), or "class 3" where the model has no names. */
    private static String classLabel(RunReport.ClassRow c) { return c.name() != null ? c.index() + " " + c.name() : ClassLabels.unnamed(c.index()); }

    private static String fraction(RunReport.ClassFigures f) { return f == null ? "n/a" : f.correct() + " / " + f.total(); }

    static String html(RunReport r) {
        StringBuilder h = new StringBuilder();
        h.append("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Shears report: ")
                .append(SvgChart.esc(r.model())).append("</title>\n<style>")
                .append("body{font-family:sans-serif;max-width:1000px;margin:24px auto;padding:0 16px;color:#222}")
                .append("table{border-collapse:collapse;margin:12px 0}td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}")
                .append("th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}.kv td{text-align:left}")
                .append("figure{margin:16px 0}</style></head><body>\n");
        h.append("<h1>Shears ").append(SvgChart.esc(r.command())).append(": ").append(SvgChart.esc(r.model())).append("</h1>\n");
        h.append("<table class=\"kv\">");
        kv(h, "data", r.data() + " (" + r.trainSamples() + " train, " + r.testSamples() + " test)");
        kv(h, "backend", r.backend());
        kv(h, "recipe", r.recipe());
        kv(h, "seed", Long.toString(r.seed()));
        if (r.distillation() != null) {
            RunReport.Distillation d = r.distillation();
            List<Double> l = d.epochLoss();
            kv(h, "distillation", "weight " + plain(d.weight()) + ", temperature " + plain(d.temperature()) + ", teacher "
                    + (d.teacher().equals("start") ? "the model the run started from" : d.teacher()) + " (kept as " + d.teacherCopy() + ")"
                    + (l.isEmpty() ? "" : "; T\u00b2\u00b7KL(teacher \u2016 student) " + num(l.getFirst()) + " in epoch 1, " + num(l.getLast())
                    + " in epoch " + l.size()));
        }
        if (r.augmentation() != null) kv(h, "augmentation", r.augmentation().describe().replaceFirst("^augmentation: ", ""));
        if (!r.classNames().isEmpty()) kv(h, "classes", classList(r.classNames(), !r.perClass().isEmpty()));
        if (r.before() != null) kv(h, "accuracy before", pct(r.before().accuracy()) + " (loss " + num(r.before().loss()) + ")");
        if (r.after() != null) kv(h, "accuracy after", pct(r.after().accuracy()) + " (loss " + num(r.after().loss()) + ")");
        kv(h, "sparsity", pct(r.sparsity()) + " of " + r.prunableParameters() + " prunable weights ("
                + r.nonZeroPrunable() + " non-zero; " + r.parameters() + " parameters in all)");
        if (!Double.isNaN(r.finalSparsityEpoch()))
            kv(h, "final sparsity", pct(r.targetSparsity()) + " reached at epoch "
                    + (r.finalSparsityEpoch() == Math.rint(r.finalSparsityEpoch()) ? Long.toString((long) r.finalSparsityEpoch())
                    : String.format(Locale.ROOT, "%.2f", r.finalSparsityEpoch())));
        kv(h, "training time", String.format(Locale.ROOT, "%.1f s", r.seconds()));
        if (r.stopReason() != null) kv(h, "stopped", r.stopReason());
        for (String w : r.warnings()) kv(h, "warning", w);
        kv(h, "checkpoint", r.checkpoint());
        kv(h, "written", r.date() + " by Shears " + r.shearsVersion());
        h.append("</table>\n");

        List<RunReport.EpochRow> ep = r.epochs();
        if (!ep.isEmpty()) {
            double[] x = ep.stream().mapToDouble(RunReport.EpochRow::epoch).toArray();
            // the schedule at the resolution of the mask updates (the cubic curve), else per epoch
            List<RunReport.MaskUpdateRow> mu = r.maskUpdates();
            double[] sx, target, achieved;
            if (mu.size() >= 2) {
                // start, flat until the first update (masks jump there), every update, the end
                sx = new double[mu.size() + 3];
                target = new double[sx.length];
                achieved = new double[sx.length];
                sx[0] = 0;
                sx[1] = mu.getFirst().epoch();
                for (int i = 0; i < mu.size(); i++) {
                    sx[i + 2] = mu.get(i).epoch();
                    target[i + 2] = mu.get(i).target();
                    achieved[i + 2] = mu.get(i).achieved();
                }
                target[0] = achieved[0] = target[1] = achieved[1] = ep.getFirst().sparsity();
                sx[sx.length - 1] = ep.getLast().epoch();
                target[sx.length - 1] = ep.getLast().targetSparsity();
                achieved[sx.length - 1] = ep.getLast().sparsity();
            } else {
                sx = x;
                target = ep.stream().mapToDouble(RunReport.EpochRow::targetSparsity).toArray();
                achieved = ep.stream().mapToDouble(RunReport.EpochRow::sparsity).toArray();
            }
            h.append("<figure>").append(SvgChart.line("Sparsity schedule (" + mu.size() + " mask updates)", "epoch", "sparsity", List.of(
                    new SvgChart.Series("target", sx, target, "#999", true),
                    new SvgChart.Series("achieved", sx, achieved, "#d62728", false)),
                    0.0, 1.0)).append("</figure>\n");
            h.append("<figure>").append(SvgChart.line("Loss", "epoch", "cross-entropy", List.of(
                    new SvgChart.Series("train", x, ep.stream().mapToDouble(RunReport.EpochRow::trainLoss).toArray(), "#1f77b4", false),
                    new SvgChart.Series("test", x, ep.stream().mapToDouble(RunReport.EpochRow::testLoss).toArray(), "#ff7f0e", false)),
                    0.0, null)).append("</figure>\n");
            h.append("<figure>").append(SvgChart.line("Accuracy", "epoch", "accuracy", List.of(
                    new SvgChart.Series("train", x, ep.stream().mapToDouble(RunReport.EpochRow::trainAccuracy).toArray(), "#1f77b4", false),
                    new SvgChart.Series("test", x, ep.stream().mapToDouble(RunReport.EpochRow::testAccuracy).toArray(), "#ff7f0e", false)),
                    null, null)).append("</figure>\n");
        }
        List<String> names = new ArrayList<>();
        List<Double> sp = new ArrayList<>();
        for (RunReport.LayerRow l : r.layers())
            if (l.prunable() > 0) { names.add(l.name()); sp.add(l.sparsity()); }
        if (!names.isEmpty())
            h.append("<figure>").append(SvgChart.bars("Sparsity per layer", names, sp.stream().mapToDouble(Double::doubleValue).toArray(), 1.0, "%.3f"))
                    .append("</figure>\n");
        h.append("<h2>Layers</h2><table><tr><th>layer</th><th>type</th><th>parameters</th><th>prunable</th><th>sparsity</th></tr>\n");
        for (RunReport.LayerRow l : r.layers())
            h.append("<tr><td>").append(SvgChart.esc(l.name())).append("</td><td>").append(l.type()).append("</td><td>").append(l.parameters())
                    .append("</td><td>").append(l.prunable()).append("</td><td>").append(l.prunable() > 0 ? pct(l.sparsity()) : "").append("</td></tr>\n");
        h.append("</table>\n");
        perClass(h, r);
        inference(h, r.inference());
        thinning(h, r.thinning());
        if (!ep.isEmpty()) {
            h.append("<h2>Epochs</h2><table><tr><th>epoch</th><th>lr</th><th>train loss</th><th>train acc</th><th>test loss</th>")
                    .append("<th>test acc</th><th>target sparsity</th><th>sparsity</th><th>s</th></tr>\n");
            for (RunReport.EpochRow e : ep)
                h.append("<tr><td>").append(e.epoch()).append("</td><td>").append(String.format(Locale.ROOT, "%.5f", e.lr()))
                        .append("</td><td>").append(num(e.trainLoss())).append("</td><td>").append(pct(e.trainAccuracy()))
                        .append("</td><td>").append(num(e.testLoss())).append("</td><td>").append(pct(e.testAccuracy()))
                        .append("</td><td>").append(pct(e.targetSparsity())).append("</td><td>").append(pct(e.sparsity()))
                        .append("</td><td>").append(String.format(Locale.ROOT, "%.1f", e.seconds())).append("</td></tr>\n");
            h.append("</table>\n");
        }
        return h.append("</body></html>\n").toString();
    }

    /** Dense against sparse inference: whole-model latency per batch size, then the planner's choice per layer. */
    private static void inference(StringBuilder h, RunReport.Inference inf) {
        if (inf == null) return;
        String how = "cuda".equals(inf.backend())
                ? "Timed on the CUDA backend (cuBLAS dense against cuSPARSE, CUDA events) on "
                : "Timed on the CPU backend on ";
        h.append("<h2>Inference: dense against sparse</h2>\n<p>").append(how).append(SvgChart.esc(inf.device()))
                .append("; every Dense and Conv2D layer runs in the format measured fastest for it (dense where no sparse format wins),"
                        + " and a plan that does not make the whole model faster than dense, in the whole-model check or then in this very timing,"
                        + " goes back to dense everywhere (its row says why).</p>\n");
        if (inf.note() != null) h.append("<p>").append(SvgChart.esc(inf.note())).append("</p>\n");
        if (inf.batches().isEmpty()) return;
        h.append("<table><tr><th>batch</th><th>dense ms</th><th>sparse ms</th><th>speed-up</th><th>weights dense</th>")
                .append("<th>weights planned</th><th>same predictions</th><th>max |difference|</th></tr>\n");
        List<String> labels = new ArrayList<>();
        List<Double> speedups = new ArrayList<>();
        for (RunReport.InferenceBatch b : inf.batches()) {
            h.append("<tr><td>").append(b.batch()).append("</td><td>").append(String.format(Locale.ROOT, "%.3f", b.denseMs()))
                    .append("</td><td>").append(String.format(Locale.ROOT, "%.3f", b.sparseMs()))
                    .append("</td><td>").append(String.format(Locale.ROOT, "%.2fx", b.speedup())).append(b.planKept() ? "" : " (all dense: " + SvgChart.esc(b.planNotKeptReason()) + ")")
                    .append("</td><td>").append(String.format(Locale.ROOT, "%.2f MB", b.denseWeightBytes() / 1e6))
                    .append("</td><td>").append(String.format(Locale.ROOT, "%.2f MB", b.plannedWeightBytes() / 1e6))
                    .append("</td><td>").append(b.samePredictions()).append(" / ").append(b.samples())
                    .append("</td><td>").append(String.format(Locale.ROOT, "%.2g", b.maxAbsDifference())).append("</td></tr>\n");
            for (RunReport.InferenceLayer l : b.layers()) {
                labels.add(l.layer() + " @" + b.batch());
                speedups.add(l.speedup());
            }
        }
        h.append("</table>\n");
        double max = Math.max(1.0, speedups.stream().mapToDouble(Double::doubleValue).max().orElse(1.0));
        h.append("<figure>").append(SvgChart.bars("Speed-up over dense per layer (layer @ batch)", labels,
                speedups.stream().mapToDouble(Double::doubleValue).toArray(), max, "%.2fx")).append("</figure>\n");
        h.append("<table><tr><th>batch</th><th>layer</th><th>type</th><th>A (rows x cols)</th><th>sparsity</th><th>format</th>")
                .append("<th>dense ms</th><th>chosen ms</th><th>speed-up</th></tr>\n");
        for (RunReport.InferenceBatch b : inf.batches())
            for (RunReport.InferenceLayer l : b.layers())
                h.append("<tr><td>").append(b.batch()).append("</td><td>").append(SvgChart.esc(l.layer())).append("</td><td>").append(l.type())
                        .append("</td><td>").append(l.rows()).append(" x ").append(l.cols())
                        .append("</td><td>").append(pct(l.sparsity())).append("</td><td>").append(SvgChart.esc(l.format()))
                        .append("</td><td>").append(String.format(Locale.ROOT, "%.4f", l.denseMs()))
                        .append("</td><td>").append(String.format(Locale.ROOT, "%.4f", l.chosenMs()))
                        .append("</td><td>").append(String.format(Locale.ROOT, "%.2fx", l.speedup())).append("</td></tr>\n");
        h.append("</table>\n");
    }

    /** The thinned model against the pruned one: parameters, widths per layer, latency and agreement per batch size, warnings. */
    private static void thinning(StringBuilder h, RunReport.Thinning t) {
        if (t == null) return;
        h.append("<h2 id=\"thinning\">Thinning: the pruned model without its zero channels</h2>\n<p>")
                .append(String.format(Locale.ROOT, "%d parameters instead of %d (%.1f%%), %d output channels removed;"
                                + " <code>shears export --thin</code> writes this model.",
                        t.parametersAfter(), t.parametersBefore(), 100.0 * t.parametersAfter() / t.parametersBefore(), t.channelsRemoved()))
                .append(t.batches().isEmpty() ? "" : ("cuda".equals(t.backend())
                        ? " Both models timed on the CUDA backend (CUDA events) on " : " Both models timed on the CPU backend on ")
                        + SvgChart.esc(t.device()) + ", as the sparse comparison times.")
                .append("</p>\n");
        if (t.note() != null) h.append("<p>").append(SvgChart.esc(t.note())).append("</p>\n");
        if (!t.layers().isEmpty()) {
            h.append("<table><tr><th>layer</th><th>type</th><th>output channels</th><th>after thinning</th><th>removed</th></tr>\n");
            for (RunReport.ThinnedLayer l : t.layers())
                h.append("<tr><td>").append(SvgChart.esc(l.layer())).append("</td><td>").append(SvgChart.esc(l.type()))
                        .append("</td><td>").append(l.channelsBefore()).append("</td><td>").append(l.channelsAfter())
                        .append("</td><td>").append(l.channelsBefore() - l.channelsAfter()).append("</td></tr>\n");
            h.append("</table>\n");
        }
        if (!t.batches().isEmpty()) {
            h.append("<table><tr><th>batch</th><th>pruned ms</th><th>thinned ms</th><th>speed-up</th><th>same predictions</th>")
                    .append("<th>max |difference|</th></tr>\n");
            for (RunReport.ThinningBatch b : t.batches())
                h.append("<tr><td>").append(b.batch()).append("</td><td>").append(String.format(Locale.ROOT, "%.3f", b.prunedMs()))
                        .append("</td><td>").append(String.format(Locale.ROOT, "%.3f", b.thinnedMs()))
                        .append("</td><td>").append(String.format(Locale.ROOT, "%.2fx", b.speedup()))
                        .append("</td><td>").append(b.samePredictions()).append(" / ").append(b.samples())
                        .append("</td><td>").append(String.format(Locale.ROOT, "%.2g", b.maxAbsDifference())).append("</td></tr>\n");
            h.append("</table>\n");
        }
        if (!t.warnings().isEmpty()) {
            h.append("<p>Zero channels that stay:</p><ul>\n");
            for (String w : t.warnings()) h.append("<li>").append(SvgChart.esc(w)).append("</li>\n");
            h.append("</ul>\n");
        }
    }

    private static void kv(StringBuilder h, String k, String v) {
        h.append("<tr><td><b>").append(SvgChart.esc(k)).append("</b></td><td>").append(SvgChart.esc(v == null ? "" : v)).append("</td></tr>");
    }

    /** A setting as written (0.5, 2, 1.25): no padding zeros. */
    private static String plain(double v) { return new java.math.BigDecimal(Double.toString(v)).stripTrailingZeros().toPlainString(); }

    static String pct(double v) { return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%.2f%%", 100 * v); }

    static String num(double v) { return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%.4f", v); }

    /** Jackson closes the stream it writes to; AtomicFiles owns it. */
    private static final class NonClosing extends java.io.FilterOutputStream {
        NonClosing(java.io.OutputStream out) { super(out); }
        @Override public void write(byte[] b, int off, int len) throws java.io.IOException { out.write(b, off, len); }
        @Override public void close() throws java.io.IOException { flush(); }
    }
}
