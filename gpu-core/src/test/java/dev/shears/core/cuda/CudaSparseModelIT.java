package dev.shears.core.cuda;

import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.cuda.sparse.CudaSparseModel;
import dev.shears.core.cuda.sparse.CudaSparsePlanner;
import dev.shears.core.nn.Architectures;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Model;
import dev.shears.core.sparse.KernelPruning;
import dev.shears.core.sparse.Settle;
import dev.shears.core.sparse.SparseModel;
import dev.shears.core.sparse.SparsePlanner;
import dev.shears.core.sparse.WholeModelCheck;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * GPU sparse inference ({@link CudaSparseModel}) on pruned LeNet-300-100 and LeNet-5: with every
 * format forced in turn (cuBLAS dense, cuSPARSE CSR with each SpMM algorithm and SpMV, Blocked-ELL)
 * and as timed, the outputs equal the dense model's on the same device and the CPU
 * {@link SparseModel}'s; the plan names the forced format wherever it applies; closing the
 * sparse model returns every byte it allocated.
 *
 * <p>Tolerance 1e-4 + 1e-4 relative on the logits: the formats sum a row's products in different
 * orders (cuSPARSE's is unspecified, cuBLAS's too), float32 rounding ~1e-7 each over at most 784
 * terms; a wrong index or transposed operand moves a logit by O(0.1).
 */
class CudaSparseModelIT {
    private static final Shape INPUT = Shape.of(1, 28, 28);

    /** Zeroes the smallest-magnitude fraction of every kernel (what magnitude pruning leaves). */
    static void prune(Model m, double sparsity) {
        KernelPruning.pruneKernels(m, sparsity);
    }

    /** Zeroes the smallest-magnitude fraction of one Dense layer's kernel. */
    static void pruneLayer(Model m, String layer, double sparsity) {
        KernelPruning.prune(m, ((dev.shears.core.nn.layers.Dense) m.layer(layer)).kernel(), sparsity);
    }

    private static float[] input(int batch) {
        SplittableRandom rng = new SplittableRandom(9);
        float[] xs = new float[batch * (int) INPUT.size()];
        for (int i = 0; i < xs.length; i++) xs[i] = (float) rng.nextDouble();
        return xs;
    }

    /** Plans {@code arch} on both backends with each forcing and compares the logits. */
    private static void checkFormats(String arch, double sparsity, int batch, CudaSparsePlanner.Options base, List<String> forcings) {
        try (CudaBackend gpu = CudaBackend.create(0, CudaBackend.LeakPolicy.RELEASE)) {
            CpuBackend cpu = new CpuBackend(2);
            Model mc = Architectures.create(arch, INPUT, 10).bind(cpu, 7);
            Model mg = Architectures.create(arch, INPUT, 10).bind(gpu, 7);
            prune(mc, sparsity);
            prune(mg, sparsity);
            float[] xs = input(batch);
            Shape shape = Shape.of(batch, 1, 28, 28);
            Tensor xc = cpu.upload(xs, shape);
            float[] cpuSparse = cpu.download(SparseModel.plan(mc, batch, new SparsePlanner(SparsePlanner.Options.quick())).forward(xc));
            try (Tensor xg = gpu.upload(xs, shape)) {
                float[] dense = gpu.download(mg.forward(ExecContext.inference(gpu), xg));
                Parity.assertClose(arch + ": dense on the GPU against the CPU sparse model", cpuSparse, dense, 1e-4, 1e-4);
                for (String force : forcings) {
                    CudaSparsePlanner.Options o = force == null ? base : base.forcing(force);
                    long before = gpu.allocator().bytesInUse();
                    try (CudaSparseModel sm = CudaSparseModel.plan(mg, batch, new CudaSparsePlanner(o))) {
                        String what = arch + " batch " + batch + " forcing " + force + " (plans " + sm.plans() + ")";
                        float[] got = gpu.download(sm.forward(xg));
                        Parity.assertClose(what + " against the dense model", dense, got, 1e-4, 1e-4);
                        Parity.assertClose(what + " against the CPU sparse model", cpuSparse, got, 1e-4, 1e-4);
                        for (SparseModel.LayerPlan p : sm.plans()) {
                            assertEquals(sparsity, p.sparsity(), 0.02, what + ": " + p.layer());
                            assertEquals("dense", p.timings().getFirst().format(), what);
                            boolean applies = p.timings().stream().anyMatch(t -> force != null && t.format().startsWith(force));
                            if (applies) assertTrue(p.format().startsWith(force), what + ": " + p.layer() + " ran " + p.format());
                            if (force == null) assertTrue(p.chosenMs() <= p.denseMs(), what + ": " + p.layer() + " slower than dense");
                            if (p.format().equals("dense")) assertNull(sm.weights(p.layer()), what);
                            else assertNotNull(sm.weights(p.layer()), what);
                        }
                        // a second batch through the same buffers, of another size (the last batch of an evaluation)
                        if (batch > 1) {
                            try (Tensor x1 = gpu.upload(Arrays.copyOf(xs, (int) INPUT.size()), Shape.of(1, 1, 28, 28))) {
                                float[] one = gpu.download(sm.forward(x1));
                                Parity.assertClose(what + ": first sample alone", Arrays.copyOf(dense, 10), one, 1e-4, 1e-4);
                            }
                        }
                    }
                    mg.forward(ExecContext.inference(gpu), xg); // the layers' own buffers back at this batch size
                    assertEquals(before, gpu.allocator().bytesInUse(), arch + " forcing " + force + ": the sparse model leaked device memory");
                }
            }
        }
    }

    @Test void lenet300100EveryFormatMatchesDense() {
        GpuTestSupport.assumeCuda();
        CudaSparsePlanner.Options o = CudaSparsePlanner.Options.quick();
        checkFormats("lenet-300-100", 0.9, 8, o, Arrays.asList(null, "dense", "csr/spmm-default", "csr/spmm-alg1", "blocked-ell-4"));
    }

    @Test void lenet300100BatchOneRunsSpmv() {
        GpuTestSupport.assumeCuda();
        checkFormats("lenet-300-100", 0.9, 1, CudaSparsePlanner.Options.quick(), Arrays.asList(null, "csr/spmv", "blocked-ell-4"));
    }

    @Test void lenet5ConvolutionsAsSparseGemm() {
        GpuTestSupport.assumeCuda();
        CudaSparsePlanner.Options o = new CudaSparsePlanner.Options(1, 2, new int[] {2}, 4.0, 0.05, null).withSettle(false);
        checkFormats("lenet-5", 0.8, 2, o, Arrays.asList("csr/spmm-default", "csr/spmm-alg2", "blocked-ell-2"));
    }

    /**
     * The whole-model check (shared with the CPU model: {@link WholeModelCheck}) with the timing
     * given, since timings mean nothing on the emulator: a plan timed faster than dense by more
     * than the margin stays, one within the margin goes back to dense everywhere, frees its sparse
     * weights, and then computes exactly the dense model's forward. The timer still runs every
     * forward it is handed, so both paths run on the device.
     */
    @Test void wholeModelCheckKeepsAFasterPlanAndRevertsOneThatIsNot() {
        GpuTestSupport.assumeCuda();
        try (CudaBackend gpu = CudaBackend.create(0, CudaBackend.LeakPolicy.RELEASE)) {
            Model m = Architectures.create("lenet-300-100", INPUT, 10).bind(gpu, 7);
            prune(m, 0.9);
            int batch = 4;
            CudaSparsePlanner forced = new CudaSparsePlanner(CudaSparsePlanner.Options.quick().forcing("csr/spmm-default"));
            float[] xs = input(batch);
            try (Tensor x = gpu.upload(xs, Shape.of(batch, 1, 28, 28))) {
                float[] dense = gpu.download(m.forward(ExecContext.inference(gpu), x));
                long before = gpu.allocator().bytesInUse();
                // planned at 5 ms against dense at 10: kept (margin 5%)
                try (CudaSparseModel sm = CudaSparseModel.plan(m, batch, forced)) {
                    List<WholeModelCheck.Path> asked = new ArrayList<>();
                    WholeModelCheck kept = sm.keepOnlyIfFaster(0.05, null, (path, forward) -> {
                        forward.run();
                        asked.add(path);
                        return path == WholeModelCheck.Path.DENSE ? 10 : 5;
                    });
                    assertEquals(new WholeModelCheck(10, 5, true), kept);
                    assertEquals(6, asked.size(), "three rounds of both paths: " + asked);
                    for (int i = 0; i < asked.size(); i++)
                        assertEquals(i % 2 == 0 ? WholeModelCheck.Path.DENSE : WholeModelCheck.Path.PLANNED, asked.get(i), "interleaved, dense first: " + asked);
                    for (SparseModel.LayerPlan p : sm.plans()) {
                        assertEquals("csr/spmm-default", p.format(), p.toString());
                        assertNotNull(sm.weights(p.layer()), p.layer());
                    }
                    Parity.assertClose("kept plan", dense, gpu.download(sm.forward(x)), 1e-4, 1e-4);
                }
                denseForward(m, gpu, x);
                assertEquals(before, gpu.allocator().bytesInUse(), "the kept plan leaked device memory");
                // planned at 9.8 ms against 10: within the margin, so every layer goes back to dense
                try (CudaSparseModel sm = CudaSparseModel.plan(m, batch, forced)) {
                    float[] planned = gpu.download(sm.forward(x));
                    Parity.assertClose("plan before the check", dense, planned, 1e-4, 1e-4);
                    long withPlan = gpu.allocator().bytesInUse();
                    WholeModelCheck reverted = sm.keepOnlyIfFaster(0.05, null, (path, forward) -> {
                        forward.run();
                        return path == WholeModelCheck.Path.DENSE ? 10 : 9.8;
                    });
                    assertFalse(reverted.kept(), reverted.toString());
                    assertEquals(10, reverted.denseMs());
                    assertEquals(9.8, reverted.plannedMs());
                    for (SparseModel.LayerPlan p : sm.plans()) {
                        assertEquals("dense", p.format(), p.toString());
                        assertTrue(p.timings().stream().anyMatch(t -> t.format().equals("csr/spmm-default")), "the per-layer timings stay: " + p);
                        assertNull(sm.weights(p.layer()), p.layer() + " runs its own forward after the revert");
                    }
                    assertTrue(gpu.allocator().bytesInUse() < withPlan, "the revert frees the sparse weights");
                    assertArrayEquals(dense, gpu.download(sm.forward(x)), "after the revert the planned path is the dense forward");
                    // nothing sparse left: a second check times nothing
                    assertEquals(WholeModelCheck.nothingSparse(), sm.keepOnlyIfFaster(0.05, null, (path, forward) -> {
                        throw new AssertionError("timed " + path + " with nothing planned sparse");
                    }));
                }
                denseForward(m, gpu, x);
                assertEquals(before, gpu.allocator().bytesInUse(), "the reverted plan leaked device memory");
            }
        }
    }

    /**
     * A dense forward cold for its first three timings (40, 20, 12 ms: a GPU's clocks ramping up),
     * then a steady 10 ms, against a plan at a steady 9.8 ms, within the 5% margin; the timer runs
     * every forward it is handed, on the device. Settled first (a scripted clock, so the settle
     * stops on the figures, not on time), the check is decided warm and the plan goes back to
     * dense; best-of-three rounds alone would have kept it (see WholeModelCheckTest).
     */
    @Test void wholeModelCheckSettlesBeforeTheRoundsThatDecide() {
        GpuTestSupport.assumeCuda();
        try (CudaBackend gpu = CudaBackend.create(0, CudaBackend.LeakPolicy.RELEASE)) {
            Model m = Architectures.create("lenet-300-100", INPUT, 10).bind(gpu, 7);
            prune(m, 0.9);
            CudaSparsePlanner forced = new CudaSparsePlanner(CudaSparsePlanner.Options.quick().forcing("csr/spmm-default"));
            try (CudaSparseModel sm = CudaSparseModel.plan(m, 4, forced)) {
                double[] cold = {40, 20, 12};
                int[] forwards = new int[2];
                WholeModelCheck check = sm.keepOnlyIfFaster(0.05, new Settle(() -> 0L, 1_000, 10_000), (path, forward) -> {
                    forward.run();
                    int i = forwards[path.ordinal()]++;
                    return path == WholeModelCheck.Path.PLANNED ? 9.8 : i < cold.length ? cold[i] : 10;
                });
                assertEquals(new WholeModelCheck(10, 9.8, false), check);
                // settle: dense 40, 20, 12 (moving), 10, 10 (stable twice): 5 passes, the last three the three rounds
                assertArrayEquals(new int[] {5, 5}, forwards, "dense and planned forwards run on the device");
                assertTrue(sm.plans().stream().allMatch(p -> p.format().equals("dense")), sm.plans().toString());
            }
        }
    }

    /**
     * The planner settles a fresh (shape, batch) before timing it (on a scripted clock and timer:
     * timings on the emulator mean nothing). The dense baseline is cold for its first three
     * timings in this JVM (40, 20, 12 ms), then 1 ms; every sparse candidate a steady 0.98 ms,
     * within the 5% margin. Unsettled, each of LeNet-300-100's three layers is judged on a cold
     * dense timing and goes sparse; settled, each goes dense on its warm figure, its timings say
     * so, and a second planning of the same shapes does not settle again. The timer runs every
     * product it is handed, so every candidate runs on the device.
     */
    @Test void plannerSettlesAFreshShapeBeforeTimingIt() {
        GpuTestSupport.assumeCuda();
        try (CudaBackend gpu = CudaBackend.create(0, CudaBackend.LeakPolicy.RELEASE)) {
            Model m = Architectures.create("lenet-300-100", INPUT, 10).bind(gpu, 7);
            prune(m, 0.9);
            CudaSparsePlanner.Options settling = CudaSparsePlanner.Options.quick().withSettle(true);
            List<String> timed = new ArrayList<>();
            CudaSparsePlanner.Timer coldDense = (backend, label, run) -> {
                run.run();
                timed.add(label);
                long denseBefore = timed.stream().filter("dense"::equals).count() - 1;
                return !label.equals("dense") ? 0.98 : denseBefore == 0 ? 40 : denseBefore == 1 ? 20 : denseBefore == 2 ? 12 : 1;
            };
            try (CudaSparseModel unsettled = CudaSparseModel.plan(m, 4,
                    new CudaSparsePlanner(settling.withSettle(false), new Settle(() -> 0L, 1_000, 10_000), coldDense))) {
                assertTrue(unsettled.plans().stream().noneMatch(p -> p.format().equals("dense")), "judged cold: " + unsettled.plans());
            }
            timed.clear();
            Settle settle = new Settle(() -> 0L, 1_000, 10_000);
            CudaSparsePlanner planner = new CudaSparsePlanner(settling, settle, coldDense);
            try (CudaSparseModel settled = CudaSparseModel.plan(m, 4, planner)) {
                for (SparseModel.LayerPlan p : settled.plans()) {
                    assertEquals("dense", p.format(), p.toString());
                    assertEquals(1.0, p.timings().getFirst().medianMs(), "the warm figure is the one kept: " + p);
                }
            }
            // fc1: the first timing (dense 40), settle passes at 20 (baseline), 12, 1 (moving), 1, 1 (stable twice), the
            // last of them the timing: 6 dense timings; fc2 and fc3: the first timing, 3 settle passes (stable from the
            // start): 4 each
            assertEquals(6 + 4 + 4, timed.stream().filter("dense"::equals).count(), timed.toString());
            int before = timed.size();
            try (CudaSparseModel again = CudaSparseModel.plan(m, 4, planner)) {
                assertTrue(again.plans().stream().allMatch(p -> p.format().equals("dense")), again.plans().toString());
            }
            assertEquals(3, timed.subList(before, timed.size()).stream().filter("dense"::equals).count(),
                    "shapes settled before are timed once each: " + timed.subList(before, timed.size()));
        }
    }

    /**
     * The check as {@code eval --sparse} runs it, timed with CUDA events: with a margin of 100%
     * (the plan would have to take no time) no plan can be kept, whatever the device's speed, so
     * the outcome is known on a GPU and on the emulator alike; both paths were timed.
     */
    @Test void wholeModelCheckTimesBothPathsWithCudaEvents() {
        GpuTestSupport.assumeCuda();
        try (CudaBackend gpu = CudaBackend.create(0, CudaBackend.LeakPolicy.RELEASE)) {
            Model m = Architectures.create("lenet-300-100", INPUT, 10).bind(gpu, 7);
            prune(m, 0.9);
            CudaSparsePlanner.Options quick = CudaSparsePlanner.Options.quick();
            CudaSparsePlanner impossible = new CudaSparsePlanner(new CudaSparsePlanner.Options(quick.warmup(), quick.repeats(),
                    quick.bellBlocks(), quick.bellMaxFill(), 1.0, "csr/spmv"));
            try (CudaSparseModel sm = CudaSparseModel.plan(m, 1, impossible)) {
                assertTrue(sm.plans().stream().allMatch(p -> p.format().equals("csr/spmv")), sm.plans().toString());
                WholeModelCheck check = sm.keepOnlyIfFaster(impossible);
                assertFalse(check.kept(), check.toString());
                assertTrue(check.denseMs() > 0 && check.plannedMs() > 0, "CUDA event times of both paths: " + check);
                assertTrue(sm.plans().stream().allMatch(p -> p.format().equals("dense")), sm.plans().toString());
            }
        }
    }

    /** The model's own forward at {@code x}'s batch size, so its layers' buffers are back at that size. */
    private static void denseForward(Model m, CudaBackend gpu, Tensor x) { m.forward(ExecContext.inference(gpu), x); }

    /** A model of two inputs is refused with the reason before anything runs, also where the FP16 calibration would run it. */
    @Test void aModelOfTwoInputsIsRefusedWhenPlanned() {
        GpuTestSupport.assumeCuda();
        try (CudaBackend gpu = CudaBackend.create(0, CudaBackend.LeakPolicy.RELEASE)) {
            Model m = Model.builder().input("a", Shape.of(8)).input("b", Shape.of(8))
                    .add(new dev.shears.core.nn.layers.Add("sum"), "a", "b")
                    .then(new dev.shears.core.nn.layers.Dense("fc", 8, 4, true))
                    .build().bind(gpu, 1);
            for (CudaSparsePlanner.Options o : List.of(CudaSparsePlanner.Options.quick(),
                    CudaSparsePlanner.Options.quick().withPrecision(dev.shears.core.cuda.sparse.Precision.FP16))) {
                IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                        () -> CudaSparseModel.plan(m, 2, new CudaSparsePlanner(o)).close());
                assertTrue(e.getMessage().contains("single-input models, this one has 2"), o.precision() + ": " + e.getMessage());
            }
        }
    }

    /** An FP16 plan's calibration batch of another shape than the model's input is refused, naming both shapes. */
    @Test void aCalibrationBatchOfAnotherShapeIsRefused() {
        GpuTestSupport.assumeCuda();
        try (CudaBackend gpu = CudaBackend.create(0, CudaBackend.LeakPolicy.RELEASE)) {
            Model m = Architectures.create("lenet-300-100", INPUT, 10).bind(gpu, 1);
            CudaSparsePlanner fp16 = new CudaSparsePlanner(CudaSparsePlanner.Options.quick().withPrecision(dev.shears.core.cuda.sparse.Precision.FP16));
            try (Tensor wrong = gpu.upload(new float[2 * 32 * 32], Shape.of(2, 1, 32, 32))) {
                IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                        () -> CudaSparseModel.plan(m, 2, fp16, wrong).close());
                assertTrue(e.getMessage().contains("[2, 1, 32, 32]") && e.getMessage().contains("expects [2, 1, 28, 28]"), e.getMessage());
            }
        }
    }

    @Test void plansCoverDenseAndConvLayersAndSayWhatWasLeftOut() {
        GpuTestSupport.assumeCuda();
        try (CudaBackend gpu = CudaBackend.create(0, CudaBackend.LeakPolicy.RELEASE)) {
            Model m = Architectures.create("lenet-5", INPUT, 10).bind(gpu, 1);
            prune(m, 0.5);
            try (CudaSparseModel sm = CudaSparseModel.plan(m, 2, new CudaSparsePlanner(CudaSparsePlanner.Options.quick()))) {
                assertEquals(List.of("conv1", "conv2", "fc1", "fc2", "fc3"), sm.plans().stream().map(SparseModel.LayerPlan::layer).toList());
                SparseModel.LayerPlan conv2 = sm.plans().get(1);
                assertEquals(16, conv2.rows());
                assertEquals(6 * 25, conv2.cols());
                assertEquals(10 * 10, conv2.n());
                // 4 divides neither 6 nor 25: conv1 has no Blocked-ELL candidate, and says so
                assertTrue(sm.rejected("conv1").stream().anyMatch(r -> r.startsWith("blocked-ell-4")), sm.rejected("conv1").toString());
                assertTrue(sm.plans().get(0).timings().stream().noneMatch(t -> t.format().startsWith("blocked-ell")));
            }
        }
    }

    /**
     * The progress listener hears every planned layer once, in plan order, counted 1..n of n, with
     * the format the plan chose for it (as the CPU planner tells it).
     */
    @Test void progressIsToldEachLayerAsItIsPlanned() {
        GpuTestSupport.assumeCuda();
        try (CudaBackend gpu = CudaBackend.create(0, CudaBackend.LeakPolicy.RELEASE)) {
            Model m = Architectures.create("lenet-5", INPUT, 10).bind(gpu, 1);
            prune(m, 0.9);
            List<String> heard = new ArrayList<>();
            try (CudaSparseModel sm = CudaSparseModel.plan(m, 2, new CudaSparsePlanner(CudaSparsePlanner.Options.quick()), null,
                    (index, total, layer, format) -> {
                        assertFalse(format == null || format.isEmpty(), "layer " + layer + " was told no format");
                        heard.add(index + "/" + total + " " + layer + " " + format);
                    })) {
                assertEquals(5, sm.plans().size());
                List<String> want = new ArrayList<>();
                for (int i = 0; i < sm.plans().size(); i++)
                    want.add((i + 1) + "/5 " + sm.plans().get(i).layer() + " " + sm.plans().get(i).format());
                assertEquals(want, heard);
                assertEquals(List.of("conv1", "conv2", "fc1", "fc2", "fc3"), heard.stream().map(h -> h.split(" ")[1]).toList());
            }
        }
    }
}
