package dev.shears.core.cuda;

import dev.shears.core.backend.Activation;
import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.Parameter;
import dev.shears.core.nn.layers.ActivationLayer;
import dev.shears.core.nn.layers.Dense;
import dev.shears.core.nn.layers.Dropout;
import dev.shears.core.optim.Sgd;
import dev.shears.core.tensor.DType;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.ValueLayout;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link CudaStepGraph}'s contract on a small model (the trainer-level parity proof is the pruning
 * module's CudaGraphTrainingIT): the captured step matches uncaptured steps, per-step values come
 * from device memory, a bad label is reported after the replay, work a capture cannot hold is
 * refused with a clear error, and a capture that needed an allocation leaves the backend usable.
 */
class CudaStepGraphIT {
    private static final int IN = 12, CLASSES = 4, ROWS = 8;

    private static Model model(CudaBackend b) {
        return Model.builder().input("x", Shape.of(IN))
                .then(new Dense("d1", IN, 16, true)).then(new ActivationLayer("r1", Activation.RELU))
                .then(new Dropout("drop", 0.25f))
                .then(new Dense("d2", 16, CLASSES, true))
                .build().bind(b, 3);
    }

    private static float[] batch(int step) {
        float[] x = new float[ROWS * IN];
        for (int i = 0; i < x.length; i++) x[i] = (float) Math.sin(0.37 * i + step);
        return x;
    }

    private static int[] labels(int step) {
        int[] y = new int[ROWS];
        for (int i = 0; i < ROWS; i++) y[i] = (i + step) % CLASSES;
        return y;
    }

    /** Runs 4 steps (the first uncaptured, then captured replays or uncaptured steps); returns the losses and the final weights. */
    private static double[] train(boolean graphs, float[][] weightsOut) {
        try (CudaBackend b = CudaBackend.create(0, CudaBackend.LeakPolicy.RELEASE)) {
            Model m = model(b);
            Tensor x = b.allocate(Shape.of(ROWS, IN), DType.FLOAT32);
            Tensor y = b.allocate(Shape.of(ROWS), DType.INT32);
            Tensor dLogits = b.allocate(Shape.of(ROWS, CLASSES), DType.FLOAT32);
            Sgd sgd = new Sgd(b, m.parameters(), 0.9f, false, 1e-4f);
            double[] losses = new double[4];
            CudaStepGraph g = null;
            for (int s = 0; s < 4; s++) {
                float lr = 0.1f / (s + 1);
                long seed = 1000 + s;
                if (graphs && s > 0) {
                    if (g == null) {
                        Tensor[] masks = sgd.parameters().stream().map(Parameter::mask).toArray(Tensor[]::new);
                        g = CudaStepGraph.capture(b, x, y, CLASSES, masks, () -> {
                            ExecContext ctx = new ExecContext(b, true, 0);
                            Tensor logits = m.forwardUntil(ctx, List.of(x), "d2");
                            b.softmaxCrossEntropyIntoStep(logits, y, dLogits, 1f / ROWS, ROWS, CLASSES);
                            b.countCorrectIntoStep(logits, y, ROWS, CLASSES);
                            m.zeroGrad();
                            m.backwardFrom(ctx, dLogits, "d2");
                            sgd.step(0f);
                        });
                    }
                    java.lang.foreign.MemorySegment.copy(batch(s), 0, g.input(), ValueLayout.JAVA_FLOAT, 0, ROWS * IN);
                    java.lang.foreign.MemorySegment.copy(labels(s), 0, g.labels(), ValueLayout.JAVA_INT, 0, ROWS);
                    long before = b.launchesIssued();
                    losses[s] = g.launch(lr, s + 1, seed).lossSum();
                    assertEquals(before, b.launchesIssued(), "a replayed step issues no launch from the host");
                } else {
                    b.write(batch(s), 0, x, 0, ROWS * IN);
                    Tensor yl = b.uploadInts(labels(s), Shape.of(ROWS));
                    b.copy(yl, 0, y, 0, ROWS);
                    yl.close();
                    ExecContext ctx = new ExecContext(b, true, seed);
                    Tensor logits = m.forwardUntil(ctx, List.of(x), "d2");
                    losses[s] = b.softmaxCrossEntropy(logits, y, dLogits, 1f / ROWS, ROWS, CLASSES);
                    m.zeroGrad();
                    m.backwardFrom(ctx, dLogits, "d2");
                    sgd.step(lr);
                }
            }
            if (g != null) g.close();
            weightsOut[0] = b.download(m.parameters().get(0).value());
            return losses;
        }
    }

    @Test
    void replayedStepsMatchUncapturedOnes() {
        GpuTestSupport.assumeCuda();
        float[][] we = new float[1][], wg = new float[1][];
        double[] eager = train(false, we), graph = train(true, wg);
        for (int s = 0; s < 4; s++) assertEquals(eager[s], graph[s], 1e-12 * Math.abs(eager[s]), "loss of step " + s);
        assertNotEquals(eager[2], eager[3]);
        assertArrayEquals(we[0], wg[0], "weights after 3 replayed steps (learning rate and dropout seed differ every step)");
    }

    @Test
    void aBadLabelIsReportedAfterTheReplayNamingTheRow() {
        try (CudaBackend b = GpuTestSupport.strictBackend();
             Tensor logits = b.allocate(Shape.of(ROWS, CLASSES), DType.FLOAT32);
             Tensor x = b.allocate(Shape.of(ROWS, CLASSES), DType.FLOAT32);
             Tensor y = b.allocate(Shape.of(ROWS), DType.INT32)) {
            try (CudaStepGraph g = CudaStepGraph.capture(b, x, y, CLASSES, new Tensor[0], () -> {
                b.copy(x, 0, logits, 0, (long) ROWS * CLASSES);
                b.softmaxCrossEntropyIntoStep(logits, y, null, 1f, ROWS, CLASSES);
                b.countCorrectIntoStep(logits, y, ROWS, CLASSES);
            })) {
                g.input().fill((byte) 0); // the graph copies it into x, the logits' source
                int[] lab = labels(0);
                java.lang.foreign.MemorySegment.copy(lab, 0, g.labels(), ValueLayout.JAVA_INT, 0, ROWS);
                CudaStepGraph.Result ok = g.launch(0f, 1, 0);
                assertEquals(ROWS * Math.log(CLASSES), ok.lossSum(), 1e-5, "zero logits: log(classes) a row");
                lab[5] = CLASSES;
                lab[6] = -1;
                java.lang.foreign.MemorySegment.copy(lab, 0, g.labels(), ValueLayout.JAVA_INT, 0, ROWS);
                var e = assertThrows(IllegalArgumentException.class, () -> g.launch(0f, 1, 0));
                assertTrue(e.getMessage().contains("2 label(s) outside [0, 4), the first in row 5"), e.getMessage());
                lab[5] = 0;
                lab[6] = 0;
                java.lang.foreign.MemorySegment.copy(lab, 0, g.labels(), ValueLayout.JAVA_INT, 0, ROWS);
                assertEquals(ok.lossSum(), g.launch(0f, 1, 0).lossSum(), 1e-9, "the results are cleared at every replay");
            }
        }
    }

    /** Knowledge distillation's third per-sample input: refused unless FLOAT32 rows of this backend, one per label; absent, its buffer is refused. */
    @Test
    void targetsMustBeOneFloatRowPerLabelOfThisBackend() {
        try (CudaBackend b = GpuTestSupport.strictBackend();
             Tensor x = b.allocate(Shape.of(ROWS, CLASSES), DType.FLOAT32);
             Tensor y = b.allocate(Shape.of(ROWS), DType.INT32);
             Tensor shortRows = b.allocate(Shape.of(ROWS - 1, CLASSES), DType.FLOAT32);
             Tensor ints = b.allocate(Shape.of(ROWS, CLASSES), DType.INT32);
             Backend cpu = CpuBackend.create();
             Tensor onCpu = cpu.allocate(Shape.of(ROWS, CLASSES), DType.FLOAT32)) {
            for (Tensor bad : new Tensor[] {shortRows, ints, onCpu}) {
                var e = assertThrows(IllegalArgumentException.class, () -> CudaStepGraph.capture(b, x, y, bad, CLASSES, new Tensor[0], () -> { }));
                assertTrue(e.getMessage().contains("must be a FLOAT32 tensor of " + b.name() + " with " + ROWS + " rows (one per label)"), e.getMessage());
            }
            try (CudaStepGraph g = CudaStepGraph.capture(b, x, y, CLASSES, new Tensor[0], () -> { })) {
                var e = assertThrows(IllegalStateException.class, g::targets);
                assertTrue(e.getMessage().contains("captured without a targets tensor"), e.getMessage());
            }
            assertEquals(0, b.allocator().bytesReservedForGraphs());
        }
    }

    @Test
    void workACaptureCannotHoldIsRefusedAndTheBackendStaysUsable() {
        try (CudaBackend b = GpuTestSupport.strictBackend();
             Tensor x = b.allocate(Shape.of(ROWS, IN), DType.FLOAT32);
             Tensor y = b.allocate(Shape.of(ROWS), DType.INT32);
             Tensor keep = b.allocate(Shape.of(ROWS, IN), DType.UINT8);
             Tensor out = b.allocate(Shape.of(ROWS, IN), DType.FLOAT32)) {
            var outside = assertThrows(IllegalStateException.class, () -> b.softmaxCrossEntropyIntoStep(x, y, null, 1f, ROWS, IN));
            assertTrue(outside.getMessage().contains("only inside CudaStepGraph.capture"), outside.getMessage());
            var seed = assertThrows(IllegalStateException.class,
                    () -> CudaStepGraph.capture(b, x, y, IN, new Tensor[0], () -> b.dropout(x, out, keep, 0.5f, 42L)));
            assertTrue(seed.getMessage().contains("stepSeed, salt"), seed.getMessage());
            // an allocation nothing cached can serve: the capture ends cleanly, nothing stays reserved
            var alloc = assertThrows(CudaAllocator.GraphCaptureAllocationException.class,
                    () -> CudaStepGraph.capture(b, x, y, IN, new Tensor[0], () -> b.allocate(Shape.of(1 << 20), DType.FLOAT32).close()));
            assertTrue(alloc.getMessage().contains("uncaptured first"), alloc.getMessage());
            assertEquals(0, b.allocator().bytesReservedForGraphs());
            b.fill(out, 2f);
            assertEquals(2f, b.download(out)[ROWS * IN - 1], "the stream works after the failed captures");
        }
    }

    /**
     * Permute, LRN and LRN backward inside a captured step: a host round trip (Backend's default
     * ops) would wait for the stream and fail the capture; replays match the same ops run uncaptured,
     * bit for bit, on two different batches.
     */
    @Test
    void permuteAndLrnReplayFromAGraph() {
        int n = 2, c = 6, h = 4, w = 5, size = n * c * h * w;
        int[] dims = {n, c, h, w}, perm = {0, 3, 1, 2}; // [n, w, c, h]: LRN over w as the channels
        try (CudaBackend b = GpuTestSupport.strictBackend();
             Tensor x = b.allocate(Shape.of(dims), DType.FLOAT32);
             Tensor labels = b.allocate(Shape.of(n), DType.INT32);
             Tensor p = b.allocate(Shape.of(n, w, c, h), DType.FLOAT32);
             Tensor y = b.allocate(Shape.of(n, w, c, h), DType.FLOAT32);
             Tensor dy = b.upload(Parity.uniform(size, 3, -1, 1), Shape.of(n, w, c, h));
             Tensor dx = b.allocate(Shape.of(n, w, c, h), DType.FLOAT32)) {
            Runnable ops = () -> {
                b.permute(x, p, dims, perm);
                b.lrn(p, y, n, w, c * h, 3, 1f, 0.75f, 1f);
                b.lrnBackward(p, dy, dx, n, w, c * h, 3, 1f, 0.75f, 1f);
            };
            float[][] batches = {Parity.uniform(size, 1, -2, 2), Parity.uniform(size, 2, -2, 2)};
            float[][] eagerY = new float[2][], eagerDx = new float[2][];
            for (int k = 0; k < 2; k++) {
                b.write(batches[k], 0, x, 0, size);
                ops.run();
                eagerY[k] = b.download(y);
                eagerDx[k] = b.download(dx);
            }
            b.fill(y, 0f);
            b.fill(dx, 0f);
            try (CudaStepGraph g = CudaStepGraph.capture(b, x, labels, 1, new Tensor[0], ops::run)) {
                for (int k = 0; k < 2; k++) {
                    java.lang.foreign.MemorySegment.copy(batches[k], 0, g.input(), ValueLayout.JAVA_FLOAT, 0, size);
                    long before = b.launchesIssued();
                    g.launch(0f, 1, 0);
                    assertEquals(before, b.launchesIssued(), "a replayed step issues no launch from the host");
                    Parity.assertBitExact("replayed lrn of batch " + k, eagerY[k], b.download(y));
                    Parity.assertBitExact("replayed lrnBackward of batch " + k, eagerDx[k], b.download(dx));
                }
            }
        }
    }
}
