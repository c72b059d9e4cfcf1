package dev.shears.core.sparse;

import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.data.DataSources;
import dev.shears.core.data.Dataset;
import dev.shears.core.nn.Architectures;
import dev.shears.core.nn.Model;
import dev.shears.core.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Dense against planned-sparse inference of a pruned LeNet-300-100 on real Fashion-MNIST test images. */
class InferenceComparisonTest {
    private static final Dataset TEST = DataSources.bundledFashionMnist().test();

    @Test void comparesLatencyStorageAndPredictionsOnRealImages() {
        CpuBackend be = CpuBackend.create();
        Model m = Architectures.create("lenet-300-100", Shape.of(1, 28, 28), 10).bind(be, 5);
        KernelPruning.pruneKernels(m, 0.9);
        SparsePlanner planner = new SparsePlanner(SparsePlanner.Options.quick());
        for (int batch : new int[]{1, 8}) {
            InferenceComparison c = InferenceComparison.measure(m, TEST, batch, 100, planner, 0);
            assertEquals(batch, c.batch());
            assertEquals(100, c.samples());
            // same weights, different summation order: identical decisions, float-level differences
            assertEquals(100, c.samePredictions(), "predictions that differ at batch " + batch);
            assertTrue(c.maxAbsDifference() < 1e-4, "max |dense - sparse| " + c.maxAbsDifference());
            assertTrue(c.denseMs() > 0 && c.sparseMs() > 0, c.toString());
            assertEquals(c.denseMs() / c.sparseMs(), c.speedup(), 1e-12);
            assertEquals(List.of("fc1", "fc2", "fc3"), c.plans().stream().map(SparseModel.LayerPlan::layer).toList());
            long dense = 0, planned = 0;
            for (SparseModel.LayerPlan p : c.plans()) {
                dense += 4L * p.rows() * p.cols();
                long nnz = Math.round((1 - p.sparsity()) * p.rows() * p.cols());
                planned += switch (p.format()) {
                    case "dense" -> 4L * p.rows() * p.cols();
                    case "csr" -> 4L * (p.rows() + 1) + 8L * nnz;  // row pointers, column indices and values
                    default -> throw new AssertionError("unexpected format " + p.format() + " for unstructured sparsity in " + p.layer());
                };
            }
            assertEquals(dense, c.denseWeightBytes());
            assertEquals(planned, c.plannedWeightBytes());
        }
    }

    /** A plan that does not beat dense as a whole goes back to dense everywhere, and then computes exactly the dense forward. */
    @Test void wholeModelCheckRevertsAPlanThatIsNotFasterOverall() {
        CpuBackend be = CpuBackend.create();
        Model m = Architectures.create("lenet-300-100", Shape.of(1, 28, 28), 10).bind(be, 5);
        KernelPruning.pruneKernels(m, 0.99);
        // real timing (JIT warm-up included): at 99% CSR beats dense on fc1 by ~10x; on a machine loaded by other work
        // one planning can still time it slower (seen once under four parallel builds), so up to three plannings
        SparseModel sm = null;
        for (int attempt = 0; attempt < 3 && (sm == null || sm.plans().stream().allMatch(p -> p.format().equals("dense"))); attempt++)
            sm = SparseModel.plan(m, 1, new SparsePlanner());
        SparseModel planned = sm;
        assertTrue(sm.plans().stream().anyMatch(p -> !p.format().equals("dense")), () -> "at 99% a sparse format wins a layer: " + planned.plans());
        // a margin no plan can meet: the planned model must run in 1% of the dense time
        SparsePlanner demanding = new SparsePlanner(new SparsePlanner.Options(1, 3, 0, new int[]{4}, 2.0, 0.99));
        WholeModelCheck check = sm.keepOnlyIfFaster(demanding);
        assertFalse(check.kept(), check.toString());
        assertTrue(check.denseMs() > 0 && check.plannedMs() > 0, check.toString());
        assertTrue(sm.plans().stream().allMatch(p -> p.format().equals("dense")), sm.plans().toString());
        assertNull(sm.weights("fc1"), "a reverted layer runs its own (dense) forward");
        var asPlanned = InferenceComparison.planned(sm);
        assertEquals(InferenceComparison.denseWeightBytes(asPlanned), InferenceComparison.plannedWeightBytes(asPlanned), "reverted: stored dense");
        assertEquals(4L * (784 * 300 + 300 * 100 + 100 * 10), InferenceComparison.denseWeightBytes(asPlanned));
        float[] xs = java.util.Arrays.copyOf(TEST.features(), 784);
        try (var x = be.upload(xs, Shape.of(1, 1, 28, 28))) {
            float[] dense = be.download(m.forward(dev.shears.core.nn.ExecContext.inference(be), x));
            assertArrayEquals(dense, be.download(sm.forward(x)), "after the revert the planned path is the dense one");
        }
    }

    /**
     * The comparison settles both paths on {@link Settle} before the rounds that count (it warmed
     * up on a 400 ms wall clock before, which a cold path outlives under load): a dense forward
     * cold for its first timings (40, 20, 12 ms, then 10) is judged at 10 ms, not at its best cold
     * round, and the settle loop's last three passes are the rounds.
     */
    @Test void bothPathsAreSettledBeforeTheRoundsThatCount() {
        CpuBackend be = CpuBackend.create();
        Model m = Architectures.create("lenet-300-100", Shape.of(1, 28, 28), 10).bind(be, 5);
        KernelPruning.pruneKernels(m, 0.9);
        SparseModel sparse = SparseModel.plan(m, 2, new SparsePlanner(SparsePlanner.Options.quick()));
        double[] cold = {40, 20, 12};
        int[] calls = new int[2];
        WholeModelCheck.Timer timer = (path, forward) -> {
            forward.run();
            int call = calls[path.ordinal()]++;
            return path == WholeModelCheck.Path.PLANNED ? 7 : call < cold.length ? cold[call] : 10;
        };
        // the quick planner's formats are chosen on meaningless timings: say the plan is CSR, so its path is timed
        InferenceComparison.Planned csr = withFormat(InferenceComparison.planned(sparse), "csr");
        InferenceComparison settled = InferenceComparison.compare(m, TEST, 2, 4, csr, null, timer,
                new Settle(() -> 0L, 1_000, 10_000));
        assertEquals(10, settled.denseMs(), "judged on the settled dense forward");
        assertEquals(7, settled.sparseMs());
        // settle: dense 40, 20, 12, 10 (stable once), 10 (twice): 5 passes, the last three the three rounds
        assertEquals(5, calls[0], "dense timings");
        assertEquals(5, calls[1], "planned timings, one per dense one");

        calls[0] = calls[1] = 0;
        InferenceComparison unsettled = InferenceComparison.compare(m, TEST, 2, 4, csr, null, timer, null);
        assertEquals(12, unsettled.denseMs(), "without settling, the best of three cold rounds");
        assertEquals(SparsePlanner.ROUNDS, calls[0]);

        // every layer dense: the planned path is the dense products, so it is not timed again and reads the dense time
        calls[0] = calls[1] = 0;
        InferenceComparison allDense = InferenceComparison.compare(m, TEST, 2, 4, withFormat(InferenceComparison.planned(sparse), "dense"),
                null, timer, null);
        assertEquals(0, calls[1], "the planned path was not timed");
        assertEquals(SparsePlanner.ROUNDS, calls[0]);
        assertEquals(allDense.denseMs(), allDense.sparseMs());
        assertEquals(1.0, allDense.speedup());
        assertEquals(4, allDense.samePredictions(), "agreement is still checked");
    }

    /** {@code planned} with every layer's plan reading {@code format}. */
    private static InferenceComparison.Planned withFormat(InferenceComparison.Planned planned, String format) {
        return new InferenceComparison.Planned() {
            @Override public dev.shears.core.tensor.Tensor forward(dev.shears.core.tensor.Tensor x) { return planned.forward(x); }
            @Override public java.util.List<SparseModel.LayerPlan> plans() {
                return planned.plans().stream().map(p -> new SparseModel.LayerPlan(p.layer(), p.type(), p.rows(), p.cols(), p.n(), p.sparsity(),
                        format, p.timings())).toList();
            }
            @Override public long plannedBytes(SparseModel.LayerPlan p) { return planned.plannedBytes(p); }
            @Override public void revertToDense() { throw new AssertionError("a plan compared unchecked is never sent back"); }
        };
    }

    /** A real CSR plan of a 90% LeNet-300-100 at batch 2: every layer forced to CSR (quick options, so no timing decides). */
    private static SparseModel csrPlan(Model m) {
        SparseModel sm = SparseModel.plan(m, 2, new SparsePlanner(new SparsePlanner.Options(1, 3, 0, new int[]{4}, 2.0, 0.05, "csr")));
        assertTrue(sm.plans().stream().allMatch(p -> p.format().equals("csr")), sm.plans().toString());
        return sm;
    }

    /** A timer that says the planned path takes {@code plannedMs} and the dense one 10 ms (each forward still runs once). */
    private static WholeModelCheck.Timer scripted(double plannedMs) {
        return (path, forward) -> {
            forward.run();
            return path == WholeModelCheck.Path.PLANNED ? plannedMs : 10;
        };
    }

    /**
     * issue 6, "a sparse model is never slower than the dense one": the whole-model check kept a
     * MobileNet plan that the report's comparison then timed at 29.3 ms against dense 24.8 ms, and
     * the report printed "0.84x" for a kept plan. A kept plan that the comparison times slower goes
     * back to dense: not kept, the plans read dense, both paths the dense time, the plan's time kept
     * to say why, and agreement checked on what now runs (the dense products: exactly equal).
     */
    @Test void aKeptPlanTheComparisonTimesSlowerGoesBackToDense() {
        CpuBackend be = CpuBackend.create();
        Model m = Architectures.create("lenet-300-100", Shape.of(1, 28, 28), 10).bind(be, 5);
        KernelPruning.pruneKernels(m, 0.9);
        SparseModel sm = csrPlan(m);
        WholeModelCheck keptByCheck = new WholeModelCheck(10, 8, true);
        InferenceComparison c = InferenceComparison.compare(m, TEST, 2, 4, InferenceComparison.planned(sm), keptByCheck, scripted(10.5), null);
        assertFalse(c.planKept(), c.toString());
        assertEquals(InferenceComparison.Outcome.SLOWER_IN_COMPARISON, c.outcome());
        assertEquals(10.5, c.slowerPlanMs(), "the plan's time in the comparison, for the report to say why");
        assertEquals(10, c.denseMs());
        assertEquals(10, c.sparseMs(), "dense is what runs: its time stands for both");
        assertEquals(1.0, c.speedup());
        assertTrue(c.plans().stream().allMatch(SparseModel.LayerPlan::isDense), c.plans().toString());
        assertTrue(sm.plans().stream().allMatch(SparseModel.LayerPlan::isDense), "the model itself went back to dense");
        assertNull(sm.weights("fc1"), "a reverted layer runs its own (dense) forward");
        assertEquals(c.denseWeightBytes(), c.plannedWeightBytes(), "reverted: stored dense");
        assertEquals(4, c.samePredictions());
        assertEquals(0.0, c.maxAbsDifference(), "after the send-back the planned path is the dense one");
    }

    /** A kept plan the comparison times faster (or no slower) stays as planned. */
    @Test void aKeptPlanTheComparisonTimesFasterOrEqualStays() {
        CpuBackend be = CpuBackend.create();
        Model m = Architectures.create("lenet-300-100", Shape.of(1, 28, 28), 10).bind(be, 5);
        KernelPruning.pruneKernels(m, 0.9);
        for (double plannedMs : new double[]{4, 10}) {
            SparseModel sm = csrPlan(m);
            InferenceComparison c = InferenceComparison.compare(m, TEST, 2, 4, InferenceComparison.planned(sm),
                    new WholeModelCheck(10, 8, true), scripted(plannedMs), null);
            assertTrue(c.planKept(), c.toString());
            assertEquals(InferenceComparison.Outcome.KEPT, c.outcome());
            assertTrue(Double.isNaN(c.slowerPlanMs()), c.toString());
            assertEquals(plannedMs, c.sparseMs());
            assertTrue(c.plans().stream().allMatch(p -> p.format().equals("csr")), c.plans().toString());
            assertTrue(c.plannedWeightBytes() < c.denseWeightBytes(), c.toString());
            assertNotNull(sm.weights("fc1"));
        }
    }

    /**
     * A plan no check ran on (a forced format, quick options: check null) is compared as it is,
     * slower or not; a plan the check sent back reads NOT_FASTER_IN_CHECK.
     */
    @Test void anUncheckedPlanIsComparedAsItIsAndACheckRevertIsNamed() {
        CpuBackend be = CpuBackend.create();
        Model m = Architectures.create("lenet-300-100", Shape.of(1, 28, 28), 10).bind(be, 5);
        KernelPruning.pruneKernels(m, 0.9);
        SparseModel sm = csrPlan(m);
        InferenceComparison unchecked = InferenceComparison.compare(m, TEST, 2, 4, InferenceComparison.planned(sm), null, scripted(30), null);
        assertTrue(unchecked.planKept(), unchecked.toString());
        assertEquals(30, unchecked.sparseMs());
        assertTrue(sm.plans().stream().allMatch(p -> p.format().equals("csr")), sm.plans().toString());

        // the check's send-back: it reverts the model itself (keepOnlyIfFaster), the comparison only names it
        WholeModelCheck notFaster = sm.keepOnlyIfFaster(0.05, null, scripted(30));
        assertFalse(notFaster.kept());
        InferenceComparison reverted = InferenceComparison.compare(m, TEST, 2, 4, InferenceComparison.planned(sm), notFaster, scripted(30), null);
        assertEquals(InferenceComparison.Outcome.NOT_FASTER_IN_CHECK, reverted.outcome());
        assertFalse(reverted.planKept());
        assertTrue(Double.isNaN(reverted.slowerPlanMs()));
        assertEquals(reverted.denseMs(), reverted.sparseMs());
    }

    @Test void agreementStopsAtTheTestSetSize() {
        CpuBackend be = CpuBackend.create();
        Model m = Architectures.create("lenet-300-100", Shape.of(1, 28, 28), 10).bind(be, 5);
        Dataset few = TEST.head(10);
        InferenceComparison c = InferenceComparison.measure(m, few, 4, 1000, new SparsePlanner(SparsePlanner.Options.quick()), 0);
        assertEquals(10, c.samples());
        assertEquals(10, c.samePredictions());
    }

    @Test void aModelForOtherInputsIsRefusedNamingBothShapes() {
        CpuBackend be = CpuBackend.create();
        Model m = Architectures.create("lenet-300-100", Shape.of(1, 32, 32), 10).bind(be, 5);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> InferenceComparison.measure(m, TEST, 1, 10, new SparsePlanner(SparsePlanner.Options.quick()), 0));
        assertTrue(e.getMessage().contains("[1, 32, 32]") && e.getMessage().contains(TEST.name()), e.getMessage());
    }
}
