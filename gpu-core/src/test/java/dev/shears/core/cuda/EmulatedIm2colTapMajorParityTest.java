package dev.shears.core.cuda;

import dev.shears.core.cuda.emulator.CudaEmulator;
import org.junit.jupiter.api.BeforeAll;

/** {@link Im2colTapMajorParityIT} on the CPU emulator of the CUDA driver (see {@link EmulatedCudaBackendContractTest}). */
class EmulatedIm2colTapMajorParityTest extends Im2colTapMajorParityIT {
    @BeforeAll static void emulator() { CudaEmulator.require(); }
}
