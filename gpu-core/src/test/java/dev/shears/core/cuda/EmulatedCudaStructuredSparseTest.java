package dev.shears.core.cuda;

import dev.shears.core.cuda.emulator.CudaEmulator;
import org.junit.jupiter.api.BeforeAll;

/** {@link CudaStructuredSparseIT} on the CPU emulator of the CUDA driver, cuBLAS, cuSPARSE and cuSPARSELt. */
class EmulatedCudaStructuredSparseTest extends CudaStructuredSparseIT {
    @BeforeAll static void emulator() { CudaEmulator.require(); }
}
