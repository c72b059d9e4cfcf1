package dev.shears.core.cuda;

import dev.shears.core.cuda.emulator.CudaEmulator;
import org.junit.jupiter.api.BeforeAll;

/** {@link CudaInferenceComparisonIT} on the CPU emulator of the CUDA driver, cuBLAS and cuSPARSE. */
class EmulatedCudaInferenceComparisonTest extends CudaInferenceComparisonIT {
    @BeforeAll static void emulator() { CudaEmulator.require(); }
}
