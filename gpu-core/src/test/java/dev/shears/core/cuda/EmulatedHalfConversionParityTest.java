package dev.shears.core.cuda;

import dev.shears.core.cuda.emulator.CudaEmulator;
import org.junit.jupiter.api.BeforeAll;

/** {@link HalfConversionParityIT} on the CPU emulator of the CUDA driver (see {@link EmulatedCudaBackendContractTest}). */
class EmulatedHalfConversionParityTest extends HalfConversionParityIT {
    @BeforeAll static void emulator() { CudaEmulator.require(); }
}
