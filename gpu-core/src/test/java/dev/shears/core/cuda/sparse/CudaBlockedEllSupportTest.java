package dev.shears.core.cuda.sparse;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The documented architecture limit of FP32 Blocked-ELL SpMM (compute capability 8.0+), which the GPU planner checks before timing. */
class CudaBlockedEllSupportTest {
    @Test void fp32BlockedEllNeedsAmpereOrNewer() {
        assertNull(CudaBlockedEllMatrix.supportedOn(80), "A100");
        assertNull(CudaBlockedEllMatrix.supportedOn(90), "H100");
        assertNull(CudaBlockedEllMatrix.supportedOn(120));
        for (int cc : new int[] {70, 75, 61}) {
            String why = CudaBlockedEllMatrix.supportedOn(cc);
            assertTrue(why != null && why.contains("sm_" + cc) && why.contains("8.0"), "sm_" + cc + ": " + why);
        }
    }
}
