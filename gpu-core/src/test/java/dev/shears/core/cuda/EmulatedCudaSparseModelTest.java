package dev.shears.core.cuda;

import dev.shears.core.cuda.emulator.CudaEmulator;
import org.junit.jupiter.api.BeforeAll;

/** {@link CudaSparseModelIT} on the CPU emulator of the CUDA driver, cuBLAS and cuSPARSE. */
class EmulatedCudaSparseModelTest extends CudaSparseModelIT {
    @BeforeAll static void emulator() { CudaEmulator.require(); }
}
