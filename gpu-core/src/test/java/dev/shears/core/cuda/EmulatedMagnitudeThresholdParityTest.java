package dev.shears.core.cuda;

import dev.shears.core.cuda.emulator.CudaEmulator;
import org.junit.jupiter.api.BeforeAll;

/** {@link MagnitudeThresholdParityIT} on the CPU emulator of the CUDA driver (see {@link EmulatedCudaBackendContractTest}). */
class EmulatedMagnitudeThresholdParityTest extends MagnitudeThresholdParityIT {
    @BeforeAll static void emulator() { CudaEmulator.require(); }
}
