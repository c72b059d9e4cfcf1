package dev.shears.core.cuda.sparse;

import dev.shears.core.cuda.CudaBackend;
import dev.shears.core.cuda.emulator.CudaEmulator;
import dev.shears.core.data.DataSources;
import dev.shears.core.data.Dataset;
import dev.shears.core.nn.Model;
import dev.shears.core.sparse.InferenceComparison;
import dev.shears.core.sparse.InputProbe;
import dev.shears.core.sparse.KernelPruning;
import dev.shears.core.sparse.Settle;
import dev.shears.core.sparse.SparseModel;
import dev.shears.core.sparse.WholeModelCheck;
import dev.shears.core.tensor.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The CUDA whole-model check times the batch it is given (the first test images) and falls back
 * to the random batch only without one, on the CPU emulator of CUDA (its times mean nothing: the
 * timers are scripted; what is checked is what the forwards ran on, seen by an {@link InputProbe}).
 */
class EmulatedCudaWholeModelCheckInputTest {
    private static final Dataset TEST = DataSources.bundledFashionMnist().test().head(8);
    private static final CudaSparsePlanner CSR = new CudaSparsePlanner(CudaSparsePlanner.Options.quick().forcing("csr/spmm-default"));

    @BeforeAll static void emulator() { CudaEmulator.require(); }

    private static Model probed(CudaBackend gpu, InputProbe probe) {
        Model m = InputProbe.probedMlp(probe).bind(gpu, 3);
        KernelPruning.pruneKernels(m, 0.9);
        return m;
    }

    @Test void timesTheGivenTestImagesAndFallsBackToRandomWithoutThem() {
        try (CudaBackend gpu = CudaBackend.create(0, CudaBackend.LeakPolicy.RELEASE)) {
            InputProbe probe = new InputProbe("probe");
            Model m = probed(gpu, probe);
            int batch = 2;
            float[] images = Arrays.copyOf(TEST.features(), batch * 784);
            try (Tensor x = InferenceComparison.timingBatch(gpu, m.inputs().getFirst().shape(), TEST, batch);
                 CudaSparseModel sm = CudaSparseModel.plan(m, batch, CSR)) {
                assertTrue(sm.plans().stream().noneMatch(SparseModel.LayerPlan::isDense), sm.plans().toString());
                probe.seen.clear();
                WholeModelCheck kept = sm.keepOnlyIfFaster(0.05, null, (path, forward) -> {
                    forward.run();
                    assertArrayEquals(images, probe.seen.getLast(), path + " ran on the test images given");
                    return path == WholeModelCheck.Path.DENSE ? 10 : 5;
                }, x);
                assertEquals(new WholeModelCheck(10, 5, true), kept);
                assertEquals(2 * CudaSparseModel.CHECK_ROUNDS, probe.seen.size(), "both paths, every round");
            }
            try (CudaSparseModel sm = CudaSparseModel.plan(m, batch, CSR)) {
                float[] random;
                try (Tensor r = WholeModelCheck.randomBatch(gpu, m, batch)) {
                    random = gpu.download(r);
                }
                probe.seen.clear();
                WholeModelCheck reverted = sm.keepOnlyIfFaster(0.05, null, (path, forward) -> {
                    forward.run();
                    assertArrayEquals(random, probe.seen.getLast(), path + " ran on the random fallback batch");
                    return path == WholeModelCheck.Path.DENSE ? 10 : 9.8;
                });
                assertFalse(reverted.kept(), reverted.toString());
                assertTrue(sm.plans().stream().allMatch(SparseModel.LayerPlan::isDense), sm.plans().toString());
                // a batch of another size than planned is refused before anything is timed
                try (Tensor three = InferenceComparison.timingBatch(gpu, m.inputs().getFirst().shape(), TEST, 3);
                     CudaSparseModel again = CudaSparseModel.plan(m, batch, CSR)) {
                    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> again.keepOnlyIfFaster(0.05, null,
                            (path, forward) -> { throw new AssertionError("timed " + path); }, three));
                    assertTrue(e.getMessage().contains("[3, 1, 28, 28]"), e.getMessage());
                }
            }
        }
    }

    /**
     * The CUDA run report's comparison: every forward the model ran (the check's, when the plan
     * has a sparse layer to check; the comparison's timing; its agreement) saw the first test images.
     */
    @Test void theReportsForwardsAllRunOnTheFirstTestImages() {
        try (CudaBackend gpu = CudaBackend.create(0, CudaBackend.LeakPolicy.RELEASE)) {
            InputProbe probe = new InputProbe("probe");
            Model m = probed(gpu, probe);
            int batch = 2;
            // neither forced nor quick (either skips the check): CSR and Blocked-ELL against cuBLAS, timed on the emulator;
            // settling on, but the planner's and the comparison's on a scripted clock (each read 1 ns later, 6 ns a key)
            CudaSparsePlanner.Options settled = CudaSparsePlanner.Options.quick().withSettle(true);
            CudaSparsePlanner planner = new CudaSparsePlanner(settled, new Settle(new AtomicLong()::incrementAndGet, 6, 1_000),
                    (backend, label, run) -> CudaSparsePlanner.medianMillis(backend, run, settled.warmup(), settled.repeats()));
            InferenceComparison c = CudaInferenceComparison.measure(m, TEST, batch, batch, planner,
                    new Settle(new AtomicLong()::incrementAndGet, 6, 1_000));
            float[] images = Arrays.copyOf(TEST.features(), batch * 784);
            assertFalse(probe.seen.isEmpty());
            for (float[] seen : probe.seen) assertArrayEquals(images, seen, "a forward ran on something else than the first test images");
            assertEquals(batch, c.samePredictions(), c.toString());
        }
    }
}
