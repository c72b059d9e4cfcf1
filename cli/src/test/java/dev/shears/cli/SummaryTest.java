package dev.shears.cli;

import dev.shears.cli.report.ReportWriter;
import dev.shears.cli.report.RunReport;
import dev.shears.core.sparse.InferenceComparison;
import dev.shears.core.sparse.SparseModel;
import dev.shears.core.sparse.SparsePlanner;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The end-of-run summary's inference header says what the whole-model check kept, and each batch line why a plan went back to dense. */
class SummaryTest {

    private static RunReport.InferenceBatch batch(int b, boolean kept) {
        // 1 MB of weights dense, 0.2 MB planned (or 1 MB when the check sent every layer back to dense)
        return new RunReport.InferenceBatch(b, 1.0, kept ? 0.5 : 1.0, kept ? 2.0 : 1.0, 1_000_000, kept ? 200_000 : 1_000_000,
                256, 256, 0.0, List.of(), kept, kept ? null : InferenceReport.NOT_FASTER_IN_CHECK, Double.NaN);
    }

    private static String summary(RunReport.InferenceBatch... batches) {
        StringWriter s = new StringWriter();
        Summary.print(new PrintWriter(s), report(batches), Path.of("out"));
        return s.toString();
    }

    private static RunReport report(RunReport.InferenceBatch... batches) {
        return new RunReport("prune", "0.1.0", "2026-11-21", "cpu", "lenet-300-100", "mnist", 100, 50, "gmp", 1,
                new RunReport.Metrics(0.9, 0.3, 50), new RunReport.Metrics(0.89, 0.35, 50), 0.9, 0.9, 3.0, 266_610, 266_200, 26_620,
                List.of(new RunReport.LayerRow("fc1", "Dense", 235_500, 235_200, 0.9)), List.of(), List.of(), 12.0,
                "out/model.shears", null, new RunReport.Inference("cpu", "cpu: test", List.of(batches), null), null, List.of(), null, null, List.of(), List.of(), null);
    }

    /** A train run stopped before its last epoch has no "before" but a per-class note: the summary printed it only with a "before". */
    @Test void thePerClassNoteShowsWithoutABefore() {
        RunReport r = new RunReport("train", "0.1.0", "2026-11-21", "cpu", "lenet-300-100", "mnist", 100, 50, "dense", 1,
                null, new RunReport.Metrics(0.89, 0.35, 50), 0, 0, 3.0, 266_610, 266_200, 266_200,
                List.of(), List.of(), List.of(), 12.0, "out/model.shears", null, null, null, List.of(), null, null, List.of(),
                List.of(), "no per-class figures after: the run stopped before its last epoch");
        StringWriter s = new StringWriter();
        Summary.print(new PrintWriter(s), r, Path.of("out"));
        assertTrue(s.toString().contains("per class: no per-class figures after: the run stopped before its last epoch"), s.toString());
    }

    /** The time line said "time: 12.0 s on cpu", read as the whole command's time; it is the training's. */
    @Test void theTimeLineSaysItIsTheTraining() {
        String out = summary(batch(1, true));
        assertTrue(out.contains("time: 12.0 s training on cpu (the inference timing above not included)"), out);
    }

    @Test void aKeptPlanIsEachLayerInItsFastestFormat() {
        String out = summary(batch(1, true), batch(64, true));
        assertTrue(out.contains("inference on the CPU, each layer in its fastest measured format (weights 1.00 MB dense, 0.20 MB as planned):"), out);
    }

    @Test void aPlanSentBackToDenseIsNotCalledTheFastestFormat() {
        String out = summary(batch(1, false), batch(64, false));
        assertFalse(out.contains("fastest measured format"), out);
        assertTrue(out.contains("inference on the CPU, all layers dense: no plan of per-layer formats beat dense as a whole (weights 1.00 MB):"), out);
        assertTrue(out.contains("batch 1: dense 1.000 ms; no plan of per-layer formats beat dense as a whole, so the planned model is the dense one;"), out);
    }

    private static RunReport.InferenceBatch planned(int b, double sparseMs, long plannedBytes, String... formats) {
        List<RunReport.InferenceLayer> layers = new java.util.ArrayList<>();
        for (int i = 0; i < formats.length; i++)
            layers.add(new RunReport.InferenceLayer("fc" + (i + 1), "Dense", 300, 784, 0.8, formats[i], 1.0, 1.0, 1.0));
        return new RunReport.InferenceBatch(b, 0.022, sparseMs, 0.022 / sparseMs, 2_670_000, plannedBytes, 256, 256, 0.0, layers, true, null, Double.NaN);
    }

    /** A 80% LeNet-300-100 planned dense at batch 1 and CSR at 64 read "2.67 MB dense, 2.67 MB as planned" and "sparse (0.53x)". */
    @Test void eachBatchSizesPlanIsNamedAndAnAllDensePlanIsNotCalledSlower() {
        String out = summary(planned(1, 0.041, 2_670_000, "dense", "dense"), planned(64, 0.011, 900_000, "csr", "dense"));
        assertTrue(out.contains("(weights 2.67 MB dense; as planned 2.67 MB at batch 1, 0.90 MB at batch 64):"), out);
        // the same products: no second time, no ratio (a "0.54x" or a "3.06x" there is timing noise)
        assertTrue(out.contains("batch 1: dense 0.022 ms; every layer's fastest format was dense at this batch size, so the planned model is the dense one;"), out);
        assertFalse(out.contains("0.54x"), out);
        assertFalse(out.lines().filter(l -> l.contains("batch 64:")).findFirst().orElseThrow().contains("every layer"), out);
    }

    @Test void aPlanKeptAtSomeBatchSizesOnlySaysSo() {
        String out = summary(batch(1, false), batch(64, true));
        assertTrue(out.contains("inference on the CPU, each layer in its fastest measured format where that plan beat dense as a whole,"
                + " else all dense (weights 1.00 MB dense, 0.20 MB as planned at batch 64):"), out);
    }

    /** A comparison as the core returns it at batch 64: dense 24.772 ms, the plan {@code slowerPlanMs} (NaN: kept at 12.0 ms). */
    private static InferenceComparison comparison(InferenceComparison.Outcome outcome, double slowerPlanMs) {
        boolean kept = outcome == InferenceComparison.Outcome.KEPT;
        List<SparsePlanner.Timing> timings = List.of(new SparsePlanner.Timing("dense", 2.0), new SparsePlanner.Timing("csr", 1.0));
        SparseModel.LayerPlan fc1 = new SparseModel.LayerPlan("fc1", "Dense", 300, 784, 64, 0.9, kept ? "csr" : "dense", timings);
        return new InferenceComparison(64, 24.772, kept ? 12.0 : 24.772, 940_800, kept ? 200_000 : 940_800, 256, 256, 0.0,
                List.of(fc1), outcome, slowerPlanMs);
    }

    /**
     * issue 6: the report printed "batch 64: dense 24.772 ms, sparse 29.347 ms (0.84x)" for a plan the
     * whole-model check had kept. The comparison now sends such a plan back to dense; the summary,
     * report.html and report.json say that it was timed slower here, with the time, and that dense runs.
     */
    @Test void aPlanTheComparisonTimedSlowerSaysSoEverywhere(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        RunReport.InferenceBatch b = InferenceReport.row(comparison(InferenceComparison.Outcome.SLOWER_IN_COMPARISON, 29.347));
        assertFalse(b.planKept());
        assertEquals(29.347, b.slowerPlanMs());
        String why = "the plan the whole-model check kept was timed slower than dense in this comparison (sparse 29.347 ms, 0.84x)";
        assertEquals(why, b.planNotKeptReason());
        String out = summary(b);
        assertTrue(out.contains("batch 64: dense 24.772 ms; " + why + ", so the planned model is the dense one; same predictions on 256/256"), out);
        assertFalse(out.contains("sparse 29.347 ms (0.84x)"), "never a kept plan slower than dense: " + out);

        RunReport r = report(b);
        ReportWriter.writeJson(r, dir.resolve("report.json"));
        var json = ReportWriter.JSON.readTree(dir.resolve("report.json").toFile()).path("inference").path("batches").get(0);
        assertFalse(json.path("planKept").asBoolean(true));
        assertEquals(why, json.path("planNotKeptReason").asText());
        assertEquals(29.347, json.path("slowerPlanMs").asDouble());
        assertEquals(24.772, json.path("sparseMs").asDouble(), "dense runs: its time for both");
        assertEquals("dense", json.path("layers").get(0).path("format").asText());
        ReportWriter.writeHtml(r, dir.resolve("report.html"));
        String html = java.nio.file.Files.readString(dir.resolve("report.html"));
        assertTrue(html.contains("1.00x (all dense: " + why + ")"), html);
    }

    /** A kept plan has no reason and no slower time (report.json: null), and its figures are printed as measured. */
    @Test void aKeptPlanHasNoReason(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        RunReport.InferenceBatch b = InferenceReport.row(comparison(InferenceComparison.Outcome.KEPT, Double.NaN));
        assertTrue(b.planKept());
        assertNull(b.planNotKeptReason());
        assertTrue(summary(b).contains("batch 64: dense 24.772 ms, sparse 12.000 ms (2.06x)"), summary(b));
        ReportWriter.writeJson(report(b), dir.resolve("report.json"));
        var json = ReportWriter.JSON.readTree(dir.resolve("report.json").toFile()).path("inference").path("batches").get(0);
        assertTrue(json.path("planKept").asBoolean(false));
        assertTrue(json.path("planNotKeptReason").isNull(), json.toString());
        assertTrue(json.path("slowerPlanMs").isNull(), json.toString());
        // the whole-model check's send-back keeps its words
        assertEquals(InferenceReport.NOT_FASTER_IN_CHECK,
                InferenceReport.row(comparison(InferenceComparison.Outcome.NOT_FASTER_IN_CHECK, Double.NaN)).planNotKeptReason());
    }

    @Test void aReasonIsGivenExactlyWhenThePlanWasNotKept() {
        assertThrows(IllegalArgumentException.class, () -> new RunReport.InferenceBatch(1, 1, 1, 1, 1, 1, 1, 1, 0, List.of(), false, null, Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> new RunReport.InferenceBatch(1, 1, 1, 1, 1, 1, 1, 1, 0, List.of(), true, "why", Double.NaN));
    }
}
