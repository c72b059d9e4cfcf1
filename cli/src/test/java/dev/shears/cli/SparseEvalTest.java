package dev.shears.cli;

import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.data.Dataset;
import dev.shears.core.nn.Architectures;
import dev.shears.core.nn.Model;
import dev.shears.core.sparse.WholeModelCheck;
import dev.shears.core.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** eval --sparse's planning batch and the FP16 plan's calibration checks ({@link SparseEval#requireCalibrationBatch}); the CUDA planning itself needs a GPU (CudaInferenceReportIT). */
class SparseEvalTest {
    private static Dataset samples(int count) {
        float[] x = new float[count * 784];
        for (int i = 0; i < x.length; i++) x[i] = i * 1e-4f;
        return new Dataset("test", Shape.of(784), x, new int[count], 10);
    }

    /** Zeroes every other weight of each kernel: a model with pruned weights, which --sparse plans. */
    private static void pruneHalf(Model m) {
        for (var l : m.layers())
            for (var p : l.parameters())
                if (p.prunableByDefault()) {
                    float[] w = m.backend().download(p.value());
                    for (int i = 0; i < w.length; i += 2) w[i] = 0;
                    p.setValue(m.backend().upload(w, p.shape()));
                }
    }

    /** Planning took 12 s with nothing on stderr; and at --batch 5000 on 64 test images it planned for 5,000 rows. */
    @Test
    void saysItIsPlanningAndPlansNoLargerThanTheTestSet() {
        try (CpuBackend be = CpuBackend.create()) {
            Model m = Architectures.create("lenet-300-100", Shape.of(784), 10).bind(be, 1);
            pruneHalf(m);
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            SparseEval.Outcome o = SparseEval.evaluate(m, samples(64), 5000, new PrintStream(bytes, true, StandardCharsets.UTF_8));
            String err = bytes.toString(StandardCharsets.UTF_8);
            assertTrue(err.startsWith("sparse plan: timing each format for 3 Dense/Conv2D layers at batch 64, then the whole model"), err);
            assertEquals(64, o.result().samples());
            assertEquals(3, err.lines().filter(l -> l.matches("sparse plan: fc\\d .*")).count(), err);
        }
    }

    /** The one cap dense and sparse eval share: the requested batch, never more than a non-empty test set. */
    @Test
    void evalBatchIsTheRequestCappedAtTheTestSet() {
        assertEquals(64, SparseEval.evalBatch(5000, samples(64)));
        assertEquals(32, SparseEval.evalBatch(32, samples(64)));
        assertEquals(64, SparseEval.evalBatch(64, samples(64)));
        assertEquals(256, SparseEval.evalBatch(256, samples(0))); // an empty set: the evaluator reports it, not a batch of 0
    }

    /**
     * A model with no pruned weights: timing every format of every layer (12 s for LeNet-300-100)
     * only ended all dense. Now it says so, plans nothing, and scores exactly as dense eval does;
     * the mode still names each layer's format, as an all-dense plan does.
     */
    @Test
    void aModelWithNoPrunedWeightsIsNotPlanned() {
        try (CpuBackend be = CpuBackend.create()) {
            Model m = Architectures.create("lenet-300-100", Shape.of(784), 10).bind(be, 1);
            Dataset test = samples(64);
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            SparseEval.Outcome o = SparseEval.evaluate(m, test, 32, new PrintStream(bytes, true, StandardCharsets.UTF_8));
            String err = bytes.toString(StandardCharsets.UTF_8);
            assertTrue(err.startsWith("sparse plan: no pruned weights") && err.contains("the sparse model is the dense one"), err);
            assertTrue(!err.contains("timing each format"), "no planning: " + err);
            assertEquals("sparse (fc1=dense, fc2=dense, fc3=dense)", o.description());
            var dense = dev.shears.core.nn.Evaluator.evaluate(m, test, 32);
            assertEquals(dense.accuracy(), o.result().accuracy());
            assertEquals(dense.loss(), o.result().loss());
            assertEquals(64, o.result().samples());

            pruneHalf(m); // with pruned weights it plans again
            bytes.reset();
            SparseEval.evaluate(m, test, 32, new PrintStream(bytes, true, StandardCharsets.UTF_8));
            assertTrue(bytes.toString(StandardCharsets.UTF_8).startsWith("sparse plan: timing each format"), bytes.toString(StandardCharsets.UTF_8));
        }
    }

    /**
     * eval --sparse's whole-model check runs on the first test images (the batch the run report
     * times on), not on the random batch, which has no zeros for the dense GEMM to skip; with no
     * test samples it is given no batch (the check's random fallback).
     */
    @Test
    void theWholeModelCheckIsGivenTheFirstTestImages() {
        try (CpuBackend be = CpuBackend.create()) {
            Model m = Architectures.create("lenet-300-100", Shape.of(784), 10).bind(be, 1);
            Dataset test = samples(5);
            WholeModelCheck ran = new WholeModelCheck(2, 1, true);
            assertSame(ran, SparseEval.onTestImages(m, test, 3, x -> {
                assertEquals(m.inputs().getFirst().shape().withBatch(3), x.shape());
                assertArrayEquals(Arrays.copyOf(test.features(), 3 * 784), be.download(x));
                return ran;
            }));
            assertSame(ran, SparseEval.onTestImages(m, samples(0), 3, x -> {
                assertNull(x, "no test samples: the random fallback");
                return ran;
            }));
        }
    }

    /**
     * The FP16 plan calibrates on {@link SparseEval#onTestImages}'s batch (the first test images, the
     * check's batch too: one upload); a test set with none to give is refused first.
     */
    @Test
    void anFp16PlanNeedsTestSamplesToCalibrateWith() {
        try (CpuBackend be = CpuBackend.create()) {
            Model m = Architectures.create("lenet-300-100", Shape.of(784), 10).bind(be, 1);
            SparseEval.requireCalibrationBatch(m, samples(5), 3);
            SparseEval.requireCalibrationBatch(m, samples(5), 64); // fewer samples than the batch: all of them calibrate
            UserError none = assertThrows(UserError.class, () -> SparseEval.requireCalibrationBatch(m, samples(0), 64));
            assertTrue(none.getMessage().contains("no samples"), none.getMessage());
        }
    }

    /** A test set of other samples than the model takes is refused, naming the batch's shape and the model's. */
    @Test
    void aCalibrationBatchOfAnotherShapeIsRefusedNamingBothShapes() {
        try (CpuBackend be = CpuBackend.create()) {
            Model m = Architectures.create("lenet-300-100", Shape.of(784), 10).bind(be, 1);
            Dataset larger = new Dataset("cifar-ish", Shape.of(3, 32, 32), new float[4 * 3 * 32 * 32], new int[4], 10);
            UserError e = assertThrows(UserError.class, () -> SparseEval.requireCalibrationBatch(m, larger, 3));
            assertTrue(e.getMessage().contains("has shape [3, 3, 32, 32]") && e.getMessage().contains("expects [3, 784]")
                    && e.getMessage().contains("cifar-ish"), e.getMessage());
        }
    }
}
