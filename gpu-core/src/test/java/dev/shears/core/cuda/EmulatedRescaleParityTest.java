package dev.shears.core.cuda;

import dev.shears.core.cuda.emulator.CudaEmulator;
import org.junit.jupiter.api.BeforeAll;

/** {@link RescaleParityIT} on the CPU emulator of the CUDA driver (see {@link EmulatedCudaBackendContractTest}). */
class EmulatedRescaleParityTest extends RescaleParityIT {
    @BeforeAll static void emulator() { CudaEmulator.require(); }
}
