package dev.shears.core.cuda;

import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

import static org.junit.jupiter.api.Assertions.*;

class GpuTestSupportTest {

    @Test
    void unavailableSkipsWithTheCause() {
        TestAbortedException e = assertThrows(TestAbortedException.class, () -> GpuTestSupport.check("no libcuda.so.1", false));
        assertTrue(e.getMessage().contains("CUDA unavailable: no libcuda.so.1"), e.getMessage());
    }

    @Test
    void unavailableFailsWhenTheGpuIsRequired() {
        AssertionFailedError e = assertThrows(AssertionFailedError.class, () -> GpuTestSupport.check("no libcuda.so.1", true));
        assertTrue(e.getMessage().contains("-Dshears.requireGpu=true: no libcuda.so.1"), e.getMessage());
    }

    @Test
    void availableNeitherSkipsNorFails() {
        assertDoesNotThrow(() -> GpuTestSupport.check(null, true));
        assertDoesNotThrow(() -> GpuTestSupport.check(null, false));
    }

    @Test
    void thisMachinesCauseIsConsistent() {
        String cause = CudaBackend.unavailabilityCause();
        assertEquals(cause == null, CudaBackend.isAvailable());
        if (cause != null) assertFalse(cause.isBlank());
    }
}
