package dev.shears.core.cuda.sparse;

import dev.shears.core.cuda.CudaBackend;
import dev.shears.core.cuda.emulator.CudaEmulator;
import dev.shears.core.data.DataSources;
import dev.shears.core.data.Dataset;
import dev.shears.core.nn.Architectures;
import dev.shears.core.nn.Model;
import dev.shears.core.sparse.InferenceComparison;
import dev.shears.core.sparse.KernelPruning;
import dev.shears.core.sparse.SparseModel;
import dev.shears.core.sparse.WholeModelCheck;
import dev.shears.core.tensor.Shape;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The CUDA run report's comparison holds a kept plan to its own timing as the CPU's does (one rule,
 * {@link InferenceComparison#compare}): a plan the whole-model check kept but the comparison times
 * slower than dense goes back to dense, its sparse weights freed. On the CPU emulator of CUDA, with
 * scripted timers (the emulator's times mean nothing).
 */
class EmulatedCudaComparisonSendBackTest {
    private static final Dataset TEST = DataSources.bundledFashionMnist().test().head(8);
    private static final CudaSparsePlanner CSR = new CudaSparsePlanner(CudaSparsePlanner.Options.quick().forcing("csr/spmm-default"));

    @BeforeAll static void emulator() { CudaEmulator.require(); }

    /** The planned path takes {@code plannedMs}, dense 10 ms; each forward still runs once. */
    private static WholeModelCheck.Timer scripted(double plannedMs) {
        return (path, forward) -> {
            forward.run();
            return path == WholeModelCheck.Path.PLANNED ? plannedMs : 10;
        };
    }

    @Test void aKeptPlanTimedSlowerInTheComparisonGoesBackToDenseAndAFasterOneStays() {
        try (CudaBackend gpu = CudaBackend.create(0, CudaBackend.LeakPolicy.RELEASE)) {
            Model m = Architectures.create("lenet-300-100", Shape.of(1, 28, 28), 10).bind(gpu, 5);
            KernelPruning.pruneKernels(m, 0.9);
            WholeModelCheck keptByCheck = new WholeModelCheck(10, 8, true);
            try (CudaSparseModel sm = CudaSparseModel.plan(m, 2, CSR)) {
                assertTrue(sm.plans().stream().noneMatch(SparseModel.LayerPlan::isDense), sm.plans().toString());
                InferenceComparison c = InferenceComparison.compare(m, TEST, 2, 4, CudaInferenceComparison.planned(sm), keptByCheck,
                        scripted(12), null);
                assertFalse(c.planKept(), c.toString());
                assertEquals(InferenceComparison.Outcome.SLOWER_IN_COMPARISON, c.outcome());
                assertEquals(12, c.slowerPlanMs());
                assertEquals(10, c.sparseMs(), "dense runs: its time stands for both");
                assertTrue(c.plans().stream().allMatch(SparseModel.LayerPlan::isDense), c.plans().toString());
                assertNull(sm.weights("fc1"), "the sparse weights were freed: the layer runs cuBLAS");
                assertEquals(c.denseWeightBytes(), c.plannedWeightBytes());
                assertEquals(4, c.samePredictions());
            }
            try (CudaSparseModel sm = CudaSparseModel.plan(m, 2, CSR)) {
                InferenceComparison c = InferenceComparison.compare(m, TEST, 2, 4, CudaInferenceComparison.planned(sm), keptByCheck,
                        scripted(6), null);
                assertTrue(c.planKept(), c.toString());
                assertEquals(6, c.sparseMs());
                assertNotNull(sm.weights("fc1"));
                assertTrue(c.plannedWeightBytes() < c.denseWeightBytes(), c.toString());
            }
        }
    }
}
