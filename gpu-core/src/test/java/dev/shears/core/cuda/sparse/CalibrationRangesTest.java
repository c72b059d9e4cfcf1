package dev.shears.core.cuda.sparse;

import dev.shears.core.backend.Activation;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.layers.ActivationLayer;
import dev.shears.core.nn.layers.Dense;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The FP16 calibration of {@link CudaSparseModel#plan}: the batch must have the model's input
 * shape, and each activation is downloaded once to measure its range. Both run on any backend
 * (the CPU here); the planning itself is tested on the emulator (CudaSparseModelIT).
 */
class CalibrationRangesTest {

    /** fc1 and fc2 in a row (fc2's input is fc1's output), a ReLU, then fc3. */
    private static Model model(CpuBackend be) {
        return Model.builder().input("x", Shape.of(8))
                .then(new Dense("fc1", 8, 16, true))
                .then(new Dense("fc2", 16, 8, true))
                .then(new ActivationLayer("relu", Activation.RELU))
                .then(new Dense("fc3", 8, 4, true))
                .build().bind(be, 3);
    }

    private static float maxAbs(float[] v) {
        float m = 0;
        for (float f : v) m = Math.max(m, Math.abs(f));
        return m;
    }

    @Test void everyActivationIsDownloadedOnceAndTheRangesAreTheDenseForwards() {
        try (CpuBackend be = CpuBackend.create()) {
            Model m = model(be);
            float[] xs = new float[4 * 8];
            SplittableRandom rng = new SplittableRandom(1);
            for (int i = 0; i < xs.length; i++) xs[i] = (float) (rng.nextDouble() * 4 - 2);
            try (Tensor x = be.upload(xs, Shape.of(4, 8))) {
                List<Tensor> measured = new ArrayList<>();
                Map<String, CudaSparsePlanner.ActivationRange> ranges =
                        CudaSparseModel.activationRanges(m, x, t -> { measured.add(t); return maxAbs(be.download(t)); });
                // x, fc1's output (also fc2's input), fc2's output, relu's output (fc3's input), fc3's output: 5, not 6
                assertEquals(5, measured.size(), "tensors measured");
                Set<Tensor> distinct = Collections.newSetFromMap(new IdentityHashMap<>());
                distinct.addAll(measured);
                assertEquals(measured.size(), distinct.size(), "no tensor is downloaded twice");
                assertEquals(Set.of("fc1", "fc2", "fc3"), ranges.keySet());
                assertEquals(ranges.get("fc1").maxAbsOutput() - maxAbs(be.download(((Dense) m.layer("fc1")).bias().value())),
                        ranges.get("fc2").maxAbsInput(), 1e-6, "fc2's input is fc1's output, measured once");
                assertEquals(maxAbs(xs), ranges.get("fc1").maxAbsInput(), 0.0);
            }
        }
    }

    @Test void aCalibrationBatchOfAnotherShapeIsRefusedNamingBothShapes() {
        try (CpuBackend be = CpuBackend.create()) {
            Model m = model(be);
            try (Tensor ok = be.upload(new float[16], Shape.of(2, 8))) {
                CudaSparseModel.checkCalibration(m, ok);
            }
            try (Tensor wrong = be.upload(new float[18], Shape.of(2, 9))) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CudaSparseModel.checkCalibration(m, wrong));
                assertTrue(e.getMessage().contains("[2, 9]") && e.getMessage().contains("expects [2, 8]"), e.getMessage());
            }
            try (Tensor flat = be.upload(new float[8], Shape.of(8))) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CudaSparseModel.checkCalibration(m, flat));
                assertTrue(e.getMessage().contains("has shape [8]") && e.getMessage().contains("expects [8, 8]"), e.getMessage());
            }
        }
    }
}
