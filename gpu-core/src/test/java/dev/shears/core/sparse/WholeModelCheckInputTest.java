package dev.shears.core.sparse;

import dev.shears.core.backend.ConvGeometry;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.data.DataSources;
import dev.shears.core.data.Dataset;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.layers.Conv2D;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The CPU whole-model check times the batch it is given (the first test images, where the run
 * report and eval --sparse have them) and falls back to the random batch only without one: on
 * random inputs (no zeros) the dense batch-1 GEMM skips nothing and the check favoured sparse plans.
 */
class WholeModelCheckInputTest {
    private static final Dataset TEST = DataSources.bundledFashionMnist().test();
    private static final SparsePlanner CSR = new SparsePlanner(SparsePlanner.Options.quick().forcing("csr"));

    private static SparseModel planned(InputProbe probe, int batch) {
        Model m = InputProbe.probedMlp(probe).bind(CpuBackend.create(), 3);
        KernelPruning.pruneKernels(m, 0.9);
        SparseModel sm = SparseModel.plan(m, batch, CSR);
        assertTrue(sm.plans().stream().noneMatch(SparseModel.LayerPlan::isDense), sm.plans().toString());
        probe.seen.clear();
        return sm;
    }

    /** Both paths of every round run on the test images given, which have the zeros random inputs lack. */
    @Test void timesTheGivenTestImages() {
        InputProbe probe = new InputProbe("probe");
        int batch = 3;
        SparseModel sm = planned(probe, batch);
        Model m = sm.model();
        try (Tensor x = InferenceComparison.timingBatch(m.backend(), m.inputs().getFirst().shape(), TEST, batch)) {
            float[] images = Arrays.copyOf(TEST.features(), batch * 784);
            assertArrayEquals(images, m.backend().download(x), "the timing batch is the first test images");
            assertTrue(count0(images) > images.length / 4, "Fashion-MNIST images have blank pixels: " + count0(images));
            int[] timed = new int[2];
            WholeModelCheck check = sm.keepOnlyIfFaster(0.05, null, (path, forward) -> {
                int before = probe.seen.size();
                forward.run();
                assertEquals(before + 1, probe.seen.size(), path + " ran the model");
                assertArrayEquals(images, probe.seen.getLast(), path + " ran on the test images given");
                timed[path.ordinal()]++;
                return path == WholeModelCheck.Path.DENSE ? 10 : 5;
            }, x);
            assertEquals(new WholeModelCheck(10, 5, true), check);
            assertArrayEquals(new int[]{SparsePlanner.ROUNDS, SparsePlanner.ROUNDS}, timed, "both paths timed every round");
            assertArrayEquals(images, m.backend().download(x), "the given batch is left as it was");
        }
    }

    /**
     * The run report's comparison ({@link InferenceComparison#measure}) runs the whole-model check
     * on the first test images too: every forward the model ran, the check's, the comparison's
     * timing and its agreement alike, saw those images and never the random batch.
     */
    @Test void theReportsCheckRunsOnTheFirstTestImages() {
        InputProbe probe = new InputProbe("probe");
        Model m = InputProbe.probedMlp(probe).bind(CpuBackend.create(), 3);
        KernelPruning.pruneKernels(m, 0.9);
        int batch = 2;
        // timed options, as short as they go, and not forced (the check is skipped with quick or forced ones); a scripted
        // planner timing where every sparse candidate beats dense, so that there is a plan to check
        java.util.concurrent.atomic.AtomicLong reads = new java.util.concurrent.atomic.AtomicLong();
        SparsePlanner planner = new SparsePlanner(new SparsePlanner.Options(1, 1, 0.01, new int[]{4}, 2.0, 0.05),
                new Settle(reads::incrementAndGet, 6, 1_000), (candidates, in, out, n, batchMajor) -> {
                    double[] ms = new double[candidates.size()];
                    Arrays.fill(ms, 1);
                    ms[0] = 2;
                    return ms;
                });
        InferenceComparison c = InferenceComparison.measure(m, TEST, batch, batch, planner, 0);
        float[] images = Arrays.copyOf(TEST.features(), batch * 784);
        assertTrue(probe.seen.size() > 2 * SparsePlanner.ROUNDS, "the check and the comparison ran: " + probe.seen.size() + " forwards");
        for (float[] seen : probe.seen) assertArrayEquals(images, seen, "a forward ran on something else than the first test images");
        assertEquals(batch, c.samePredictions(), c.toString());
    }

    /**
     * Given a batch, the per-layer planner times each Dense layer on what that layer receives from
     * it in a dense forward (fc1: the test images, blank pixels and all; fc2: fc1's output), not on
     * random inputs; without one, on random inputs (no zeros).
     */
    @Test void thePlannerTimesEachDenseLayerOnItsRealInput() {
        InputProbe probe = new InputProbe("probe");
        Model m = InputProbe.probedMlp(probe).bind(CpuBackend.create(), 3);
        KernelPruning.pruneKernels(m, 0.9);
        int batch = 2;
        java.util.List<float[]> timedOn = new java.util.ArrayList<>();
        SparsePlanner recording = new SparsePlanner(SparsePlanner.Options.quick(), new Settle(() -> 0L, 1_000, 10_000),
                (candidates, x, y, n, batchMajor) -> {
                    assertEquals(batch, n);
                    timedOn.add(x.clone());
                    double[] ms = new double[candidates.size()];
                    Arrays.fill(ms, 2);
                    ms[0] = 1; // dense wins: the plan itself does not matter here
                    return ms;
                });
        try (Tensor x = InferenceComparison.timingBatch(m.backend(), m.inputs().getFirst().shape(), TEST, batch)) {
            float[] fc1Out = m.backend().download(m.forwardUntil(dev.shears.core.nn.ExecContext.inference(m.backend()), java.util.List.of(x), "fc1"));
            SparseModel.plan(m, batch, recording, x);
            assertEquals(2, timedOn.size(), "fc1 and fc2");
            assertArrayEquals(Arrays.copyOf(TEST.features(), batch * 784), timedOn.get(0), "fc1 timed on the test images");
            assertArrayEquals(fc1Out, timedOn.get(1), "fc2 timed on fc1's output on them");
        }
        timedOn.clear();
        SparseModel.plan(m, batch, recording);
        assertEquals(2, timedOn.size());
        assertEquals(0, count0(timedOn.get(0)), "without a batch: random inputs, no zeros");
    }

    /**
     * Given a batch, each Conv2D is timed on the im2col matrix of its real input's first image (the
     * matrix its sparse path multiplies, one image at a time): conv1 on a test image's, conv2 on
     * conv1's output's; the Dense layer after them on its real input too. Without one, on random
     * inputs (no zeros).
     */
    @Test void thePlannerTimesEachConvolutionOnItsRealIm2colMatrix() {
        InputProbe probe = new InputProbe("probe");
        Conv2D conv1 = new Conv2D("conv1", 1, 4, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 1, true);
        Conv2D conv2 = new Conv2D("conv2", 4, 4, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 1, false);
        Model m = Model.builder().input("x", Shape.of(1, 28, 28)).then(probe).then(conv1).then(conv2)
                .then(new dev.shears.core.nn.layers.Flatten("flat")).then(new dev.shears.core.nn.layers.Dense("fc", 4 * 24 * 24, 10, true))
                .build().bind(CpuBackend.create(), 3);
        KernelPruning.pruneKernels(m, 0.75);
        CpuBackend cpu = (CpuBackend) m.backend();
        int batch = 2;
        record Timed(float[] x, int n, boolean batchMajor) {}
        List<Timed> timed = new ArrayList<>();
        SparsePlanner recording = new SparsePlanner(SparsePlanner.Options.quick(), new Settle(() -> 0L, 1_000, 10_000),
                (candidates, x, y, n, batchMajor) -> {
                    timed.add(new Timed(x.clone(), n, batchMajor));
                    double[] ms = new double[candidates.size()];
                    Arrays.fill(ms, 2);
                    ms[0] = 1;
                    return ms;
                });
        try (Tensor x = InferenceComparison.timingBatch(cpu, m.inputs().getFirst().shape(), TEST, batch)) {
            ExecContext ctx = ExecContext.inference(cpu);
            float[] conv1Out = cpu.download(m.forwardUntil(ctx, List.of(x), "conv1"));
            float[] conv2Out = cpu.download(m.forwardUntil(ctx, List.of(x), "conv2"));
            float[] image0 = Arrays.copyOf(TEST.features(), 784);
            assertFalse(Arrays.equals(image0, Arrays.copyOfRange(TEST.features(), 784, 2 * 784)), "two different images");
            SparseModel.plan(m, batch, recording, x);
            assertEquals(3, timed.size(), "conv1, conv2, fc");
            ConvGeometry g1 = conv1.geometry(28, 28), g2 = conv2.geometry(26, 26);
            assertEquals(26 * 26, timed.get(0).n(), "one image's output pixels");
            assertFalse(timed.get(0).batchMajor(), "a convolution multiplies X [k, outH*outW]");
            assertArrayEquals(im2col(cpu, image0, Shape.of(1, 28, 28), g1), timed.get(0).x(), "conv1 timed on the first test image's im2col");
            assertArrayEquals(im2col(cpu, Arrays.copyOf(conv1Out, 4 * 26 * 26), Shape.of(4, 26, 26), g2), timed.get(1).x(),
                    "conv2 timed on the im2col of conv1's output on that image");
            assertEquals(24 * 24, timed.get(1).n());
            assertArrayEquals(conv2Out, timed.get(2).x(), "fc timed on conv2's output, the whole batch");
            assertTrue(count0(timed.get(0).x()) > 0, "a real image has blank pixels");
        }
        timed.clear();
        SparseModel.plan(m, batch, recording);
        assertEquals(3, timed.size());
        assertEquals(0, count0(timed.get(0).x()), "without a batch: random inputs, no zeros");
        assertEquals(0, count0(timed.get(1).x()));
    }

    private static float[] im2col(CpuBackend cpu, float[] image, Shape in, ConvGeometry g) {
        try (Tensor t = cpu.upload(image, in.withBatch(1)); Tensor cols = cpu.zeros(g.colRows(), g.colCols())) {
            cpu.im2col(t, 0, g, cols, 0);
            return cpu.download(cols);
        }
    }

    /**
     * The planner's dense forward on the given batch runs only as far as the last planned layer (a
     * Dense or single-group Conv2D): a layer after it sees nothing, and a model without any runs no
     * forward at all.
     */
    @Test void thePlannersForwardStopsAtTheLastPlannedLayer() {
        InputProbe head = new InputProbe("head"), tail = new InputProbe("tail");
        Model m = Model.builder().input("x", Shape.of(1, 28, 28)).then(head).then(new dev.shears.core.nn.layers.Flatten("flat"))
                .then(new dev.shears.core.nn.layers.Dense("fc1", 784, 10, true)).then(tail).build().bind(CpuBackend.create(), 3);
        try (Tensor x = InferenceComparison.timingBatch(m.backend(), m.inputs().getFirst().shape(), TEST, 2)) {
            SparseModel.plan(m, 2, CSR, x);
            assertEquals(1, head.seen.size(), "one forward to capture fc1's input");
            assertEquals(0, tail.seen.size(), "nothing after fc1 ran");
        }
        InputProbe only = new InputProbe("only");
        Model noDense = Model.builder().input("x", Shape.of(1, 28, 28)).then(only).then(new dev.shears.core.nn.layers.Flatten("flat"))
                .build().bind(CpuBackend.create(), 3);
        try (Tensor x = InferenceComparison.timingBatch(noDense.backend(), noDense.inputs().getFirst().shape(), TEST, 2)) {
            assertTrue(SparseModel.plan(noDense, 2, CSR, x).plans().isEmpty());
            assertEquals(0, only.seen.size(), "no Dense or Conv2D layer: no forward");
        }
    }

    /** Without a batch the check runs on the random fallback: uniform [0, 1) from its fixed seed, no zeros. */
    @Test void fallsBackToTheRandomBatchWithoutOne() {
        InputProbe probe = new InputProbe("probe");
        SparseModel sm = planned(probe, 2);
        float[] random;
        try (Tensor r = WholeModelCheck.randomBatch(sm.model().backend(), sm.model(), 2)) {
            random = sm.model().backend().download(r);
        }
        WholeModelCheck check = sm.keepOnlyIfFaster(0.05, null, (path, forward) -> {
            forward.run();
            assertArrayEquals(random, probe.seen.getLast(), path + " ran on the random batch");
            return path == WholeModelCheck.Path.DENSE ? 10 : 9.8;
        });
        assertFalse(check.kept(), "9.8 against 10 is within the margin: " + check);
        assertEquals(2 * SparsePlanner.ROUNDS, probe.seen.size());
        assertEquals(0, count0(probe.seen.getFirst()));
        assertTrue(sm.plans().stream().allMatch(SparseModel.LayerPlan::isDense), "reverted: " + sm.plans());
    }

    /** A batch of another size than planned, or of other samples, is refused before anything is timed. */
    @Test void refusesABatchOfTheWrongShape() {
        SparseModel sm = planned(new InputProbe("probe"), 2);
        CpuBackend be = (CpuBackend) sm.model().backend();
        for (Shape wrong : new Shape[]{Shape.of(3, 1, 28, 28), Shape.of(2, 784)})
            try (Tensor x = be.upload(new float[(int) wrong.size()], wrong)) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> sm.keepOnlyIfFaster(0.05, null, (path, forward) -> {
                    throw new AssertionError("timed " + path + " on a batch of shape " + wrong);
                }, x));
                assertTrue(e.getMessage().contains(wrong.toString()) && e.getMessage().contains("[2, 1, 28, 28]"), e.getMessage());
            }
        assertTrue(sm.plans().stream().noneMatch(SparseModel.LayerPlan::isDense), "a refused check changes nothing: " + sm.plans());
    }

    private static int count0(float[] v) {
        int n = 0;
        for (float f : v) if (f == 0f) n++;
        return n;
    }
}
