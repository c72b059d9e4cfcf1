package dev.shears.core.cuda.sparse;

import dev.shears.core.cuda.CudaBackend;
import dev.shears.core.cuda.emulator.CudaEmulator;
import dev.shears.core.data.DataSources;
import dev.shears.core.data.Dataset;
import dev.shears.core.nn.Architectures;
import dev.shears.core.nn.Model;
import dev.shears.core.sparse.InferenceComparison;
import dev.shears.core.sparse.KernelPruning;
import dev.shears.core.sparse.Settle;
import dev.shears.core.tensor.Shape;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CUDA inference comparison settles both paths on {@link Settle} as the CPU one does (it
 * relied on the event timer's 3 untimed runs before), on the CPU emulator of CUDA. The emulator's
 * times mean nothing, so what is checked is that the settle loop ran: its clock is read only
 * while it settles, and only when the planner's options settle.
 */
class EmulatedCudaInferenceComparisonSettleTest {
    private static final Dataset TEST = DataSources.bundledFashionMnist().test().head(8);

    @BeforeAll static void emulator() { CudaEmulator.require(); }

    @Test void bothPathsAreSettledWhenThePlannerSettles() {
        try (CudaBackend gpu = CudaBackend.create(0, CudaBackend.LeakPolicy.RELEASE)) {
            Model m = Architectures.create("lenet-300-100", Shape.of(1, 28, 28), 10).bind(gpu, 5);
            KernelPruning.pruneKernels(m, 0.9);
            CudaSparsePlanner.Options forced = CudaSparsePlanner.Options.quick().forcing("csr/spmm-default");

            AtomicLong reads = new AtomicLong();
            // each read one "nanosecond" later; a cap of 6 per comparison bounds the passes on the emulator's noisy times
            Settle settle = new Settle(reads::incrementAndGet, 6, 1_000);
            InferenceComparison c = CudaInferenceComparison.measure(m, TEST, 2, 4, new CudaSparsePlanner(forced.withSettle(true)), settle);
            assertTrue(reads.get() >= 3, "the settle loop ran (its clock was read " + reads.get() + " times)");
            assertEquals(4, c.samePredictions(), c.toString());
            assertTrue(c.denseMs() > 0 && c.sparseMs() > 0, c.toString());

            reads.set(0);
            CudaInferenceComparison.measure(m, TEST, 2, 4, new CudaSparsePlanner(forced), settle);
            assertEquals(0, reads.get(), "quick options (settle off) do not settle");
        }
    }
}
