package dev.shears.core.cuda;

import dev.shears.core.cuda.emulator.CudaEmulator;
import dev.shears.core.cuda.sparse.CudaStructuredMatrix;
import org.junit.jupiter.api.BeforeAll;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** {@link CudaStructuredSparseIT} on the CPU emulator of the CUDA driver, cuBLAS, cuSPARSE and cuSPARSELt. */
class EmulatedCudaStructuredSparseTest extends CudaStructuredSparseIT {
    @BeforeAll static void emulator() { CudaEmulator.require(); }

    /**
     * The emulator's cusparseLtMatmulSearch keeps the last of its two kernel configurations (id 1,
     * not the default 0; see cusparselt.cpp): a planned 2:4 matrix that reads 1 was searched, and
     * its id was read back from the algorithm selection, not assumed.
     */
    @Override void autotuned(CudaStructuredMatrix w) {
        assertEquals(1, w.algConfigId(), "the emulator's search result");
    }
}
