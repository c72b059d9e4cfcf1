package dev.shears.core.cuda;

import dev.shears.core.cuda.emulator.CudaEmulator;
import org.junit.jupiter.api.BeforeAll;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** {@link CudaStructuredSparseIT} on the CPU emulator of the CUDA driver, cuBLAS, cuSPARSE and cuSPARSELt. */
class EmulatedCudaStructuredSparseTest extends CudaStructuredSparseIT {
    @BeforeAll static void emulator() { CudaEmulator.require(); }

    /**
     * The emulator's cusparseLtMatmulSearch keeps the last of its two kernel configurations (id 1,
     * not the default 0; see cusparselt.cpp): a plan that reads 1 was searched (the planned
     * batch's, and the one built later for a wider batch), and its id was read back from the
     * algorithm selection, not assumed.
     */
    @Override void autotuned(int configId, String what) {
        assertEquals(1, configId, "the emulator's search result: " + what);
    }
}
