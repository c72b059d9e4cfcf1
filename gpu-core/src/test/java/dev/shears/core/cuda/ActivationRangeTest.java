package dev.shears.core.cuda;

import dev.shears.core.cuda.sparse.CudaSparsePlanner;
import dev.shears.core.cuda.sparse.CudaSparsePlanner.ActivationRange;
import dev.shears.core.cuda.sparse.Precision;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The FP16 activation-range rule of the GPU planner's 2:4 candidate (no device needed). */
class ActivationRangeTest {

    @Test void theLimitIsHalfOfFp16sLargestValue() {
        assertEquals(32752.0, CudaSparsePlanner.FP16_ACTIVATION_LIMIT);
        assertNull(CudaSparsePlanner.activationsUnsuitable(new ActivationRange(32752, 32752), Precision.FP16), "at the limit: in range");
        String in = CudaSparsePlanner.activationsUnsuitable(new ActivationRange(32753, 1), Precision.FP16);
        assertNotNull(in);
        assertTrue(in.startsWith("its input reaches |32753.0|"), in);
        String out = CudaSparsePlanner.activationsUnsuitable(new ActivationRange(1, 1e6), Precision.FP16);
        assertNotNull(out);
        assertTrue(out.startsWith("its output (before the bias) reaches |1.00000e+06|"), out);
        assertNotNull(CudaSparsePlanner.activationsUnsuitable(new ActivationRange(Double.NaN, 1), Precision.FP16), "NaN is never in range");
    }

    @Test void bf16AndUnmeasuredLayersAreNeverRefused() {
        assertNull(CudaSparsePlanner.activationsUnsuitable(new ActivationRange(1e30, 1e30), Precision.BF16));
        assertNull(CudaSparsePlanner.activationsUnsuitable(null, Precision.FP16));
    }
}
