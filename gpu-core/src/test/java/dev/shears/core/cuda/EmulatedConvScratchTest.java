package dev.shears.core.cuda;

import dev.shears.core.cuda.emulator.CudaEmulator;
import org.junit.jupiter.api.BeforeAll;

/** {@link ConvScratchIT} on the CPU emulator of the CUDA driver (see {@link EmulatedCudaBackendContractTest}). */
class EmulatedConvScratchTest extends ConvScratchIT {
    @BeforeAll static void emulator() { CudaEmulator.require(); }
}
