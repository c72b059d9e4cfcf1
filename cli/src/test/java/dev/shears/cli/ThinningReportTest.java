package dev.shears.cli;

import dev.shears.cli.report.RunReport;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.data.DataSources;
import dev.shears.core.data.Dataset;
import dev.shears.core.nn.Architectures;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.Parameter;
import dev.shears.core.nn.layers.Dense;
import dev.shears.core.sparse.WholeModelCheck;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link ThinningReport} on LeNet-300-100 with whole output channels zeroed by hand, on real
 * Fashion-MNIST test images, timed by an injected timer so the figures are exact (the real clock's
 * are not asserted).
 */
class ThinningReportTest {
    private static final Dataset TEST = DataSources.bundledFashionMnist().test().head(40);

    /** A timer that runs the forward once and reports 4 ms for the pruned model, 1 ms for the thinned one. */
    private static final ThinningReport.Timing SCRIPTED = new ThinningReport.Timing((path, forward) -> {
        forward.run();
        return path == WholeModelCheck.Path.DENSE ? 4.0 : 1.0;
    }, null);

    private final ByteArrayOutputStream log = new ByteArrayOutputStream();
    private final Progress progress = new Progress(new PrintStream(log, true, StandardCharsets.UTF_8), false, false);

    /** Zeroes output channels [0, n) of {@code dense}'s kernel [in, out] (and gives every bias a value, which thinning must fold). */
    private static void zeroChannels(CpuBackend be, Dense dense, int n) {
        Parameter k = dense.kernel();
        float[] w = be.download(k.value()).clone();
        int out = k.shape().dim(1);
        for (int i = 0; i < w.length; i++) if (i % out < n) w[i] = 0;
        k.setValue(be.upload(w, k.shape()));
        float[] b = new float[out];
        for (int j = 0; j < out; j++) b[j] = 0.01f * (j % 7) - 0.02f;
        dense.bias().setValue(be.upload(b, dense.bias().shape()));
    }

    private static List<Dense> denses(Model m) {
        return m.nodes().stream().map(Model.Node::layer).filter(l -> l instanceof Dense).map(l -> (Dense) l).toList();
    }

    /**
     * A pruned model whose batch-1 forward takes 40 ms is not timed at batch 16 (640 ms a forward,
     * scaled): the log says why and how to time it anyway, and the section keeps batch 1.
     */
    @Test void aBatchWhoseForwardWouldTakeOverHalfASecondIsNotTimed() {
        ThinningReport.Timing slow = new ThinningReport.Timing((path, forward) -> {
            forward.run();
            return path == WholeModelCheck.Path.DENSE ? 40.0 : 10.0;
        }, null);
        try (CpuBackend be = new CpuBackend(1)) {
            Model m = Architectures.create("lenet-300-100", TEST.sampleShape(), 10).bind(be, 5);
            zeroChannels(be, denses(m).get(0), 100);
            RunReport.Thinning t = ThinningReport.measure(m, TEST, new int[]{1, 16}, progress, false, slow);
            assertNotNull(t, log.toString());
            assertEquals(List.of(1), t.batches().stream().map(RunReport.ThinningBatch::batch).toList(), log.toString());
            assertTrue(log.toString().contains("batch 16 not timed: one forward would take about 0.6 s (40.000 ms at batch 1, scaled)"),
                    log.toString());
        }
    }

    @Test void aModelWithZeroChannelsGetsTheSectionWithExactFigures() {
        try (CpuBackend be = new CpuBackend(1)) {
            Model m = Architectures.create("lenet-300-100", TEST.sampleShape(), 10).bind(be, 5);
            List<Dense> d = denses(m);
            zeroChannels(be, d.get(0), 100); // fc1: 300 -> 200
            zeroChannels(be, d.get(1), 40);  // fc2: 100 -> 60
            RunReport.Thinning t = ThinningReport.measure(m, TEST, new int[]{1, 16}, progress, false, SCRIPTED);
            assertNotNull(t, log.toString());
            assertNull(t.note(), t.note());
            assertEquals(266_610, t.parametersBefore());
            assertEquals(784 * 200 + 200 + 200 * 60 + 60 + 60 * 10 + 10, t.parametersAfter());
            assertEquals(140, t.channelsRemoved());
            assertEquals(List.of(new RunReport.ThinnedLayer(d.get(0).name(), "Dense", 300, 200),
                    new RunReport.ThinnedLayer(d.get(1).name(), "Dense", 100, 60)), t.layers());
            assertEquals("cpu", t.backend());
            assertEquals(List.of(1, 16), t.batches().stream().map(RunReport.ThinningBatch::batch).toList());
            for (RunReport.ThinningBatch b : t.batches()) {
                assertEquals(4.0, b.prunedMs());
                assertEquals(1.0, b.thinnedMs());
                assertEquals(4.0, b.speedup());
                assertEquals(TEST.count(), b.samples()); // agreementSamples (256 at least) capped to the 40 test images
                assertEquals(b.samples(), b.samePredictions());
                assertTrue(b.maxAbsDifference() < 1e-4, "max |difference| " + b.maxAbsDifference());
            }
            assertTrue(log.toString().contains("batch 16: pruned 4.000 ms, thinned 1.000 ms (4.00x); same predictions on 40/40 test images"), log.toString());
            // the masked model is untouched: it still has all its channels
            assertEquals(266_610, m.parameterCount());
        }
    }

    @Test void noTimingWithoutBatchSizes() {
        try (CpuBackend be = new CpuBackend(1)) {
            Model m = Architectures.create("lenet-300-100", TEST.sampleShape(), 10).bind(be, 5);
            zeroChannels(be, denses(m).get(1), 10);
            RunReport.Thinning t = ThinningReport.measure(m, TEST, new int[0], progress, false, SCRIPTED);
            assertEquals(10, t.channelsRemoved());
            assertTrue(t.batches().isEmpty());
            assertNull(t.note());
        }
    }

    @Test void nothingToRemoveIsNoSectionUnlessTheRecipePrunedChannels() {
        try (CpuBackend be = new CpuBackend(1)) {
            Model m = Architectures.create("lenet-300-100", TEST.sampleShape(), 10).bind(be, 5);
            assertNull(ThinningReport.measure(m, TEST, new int[]{1}, progress, false, SCRIPTED));
            RunReport.Thinning t = ThinningReport.measure(m, TEST, new int[]{1}, progress, true, SCRIPTED);
            assertEquals(0, t.channelsRemoved());
            assertEquals(t.parametersBefore(), t.parametersAfter());
            assertTrue(t.batches().isEmpty());
            assertTrue(t.note().contains("no output channel could be removed"), t.note());
        }
    }

    @Test void aTimingFailureIsTheSectionsNoteNotTheRunsEnd() {
        try (CpuBackend be = new CpuBackend(1)) {
            Model m = Architectures.create("lenet-300-100", TEST.sampleShape(), 10).bind(be, 5);
            zeroChannels(be, denses(m).get(0), 30);
            ThinningReport.Timing broken = new ThinningReport.Timing((path, forward) -> { throw new IllegalStateException("timer broke"); }, null);
            RunReport.Thinning t = ThinningReport.measure(m, TEST, new int[]{1}, progress, false, broken);
            assertEquals(30, t.channelsRemoved());
            assertEquals("not timed: timer broke", t.note());
            assertTrue(t.batches().isEmpty());
        }
    }
}
