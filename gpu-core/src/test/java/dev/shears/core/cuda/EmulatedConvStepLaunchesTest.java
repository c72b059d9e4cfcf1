package dev.shears.core.cuda;

import dev.shears.core.cuda.emulator.CudaEmulator;
import org.junit.jupiter.api.BeforeAll;

/** {@link ConvStepLaunchesIT} on the CPU emulator of the CUDA driver (see {@link EmulatedCudaBackendContractTest}). */
class EmulatedConvStepLaunchesTest extends ConvStepLaunchesIT {
    @BeforeAll static void emulator() { CudaEmulator.require(); }
}
