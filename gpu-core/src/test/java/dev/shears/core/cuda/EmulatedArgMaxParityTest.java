package dev.shears.core.cuda;

import dev.shears.core.cuda.emulator.CudaEmulator;
import org.junit.jupiter.api.BeforeAll;

/** {@link ArgMaxParityIT} on the CPU emulator of the CUDA driver (see {@link EmulatedCudaBackendContractTest}). */
class EmulatedArgMaxParityTest extends ArgMaxParityIT {
    @BeforeAll static void emulator() { CudaEmulator.require(); }
}
