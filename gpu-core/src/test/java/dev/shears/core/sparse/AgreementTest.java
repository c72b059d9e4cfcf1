package dev.shears.core.sparse;

import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.data.Dataset;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Agreement counts a sample as agreeing when both passes pick the same class by accuracy's own arg-max rule. */
class AgreementTest {

    /**
     * A NaN logit never wins (Backend.countCorrect's rule, HostKernels.argMax): a row [NaN, 1, 0]
     * predicts class 1, as [0.5, 1, 0] does. Agreement's own loop used to let a NaN at index 0 win,
     * so the two counted as disagreeing while accuracy counted both as class 1.
     */
    @Test void aNanLogitNeverWinsTheArgMax() {
        try (CpuBackend cpu = new CpuBackend(1)) {
            Dataset test = new Dataset("two", Shape.of(3), new float[]{0, 0, 0, 0, 0, 0}, new int[]{1, 2}, 3);
            float[] ref = {Float.NaN, 1, 0, 0, 0, 2};
            float[] other = {0.5f, 1, 0, 0, 3, 2};
            Agreement a = Agreement.measure(cpu, Shape.of(3), test, 2, 2,
                    x -> cpu.upload(ref, Shape.of(2, 3)), x -> cpu.upload(other, Shape.of(2, 3)));
            assertEquals(2, a.samples());
            assertEquals(1, a.samePredictions(), "row 0 agrees (class 1 both), row 1 does not (2 against 1)");
        }
    }
}
