package dev.shears.core.cuda;

import dev.shears.core.cuda.emulator.CudaEmulator;
import org.junit.jupiter.api.BeforeAll;

/** {@link PermuteParityIT} on the CPU emulator of the CUDA driver (see {@link EmulatedCudaBackendContractTest}). */
class EmulatedPermuteParityTest extends PermuteParityIT {
    @BeforeAll static void emulator() { CudaEmulator.require(); }
}
