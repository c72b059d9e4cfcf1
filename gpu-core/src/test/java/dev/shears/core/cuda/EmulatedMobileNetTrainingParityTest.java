package dev.shears.core.cuda;

import dev.shears.core.cuda.emulator.CudaEmulator;
import org.junit.jupiter.api.BeforeAll;

/** {@link MobileNetTrainingParityIT} on the CPU emulator of the CUDA driver (see {@link EmulatedCudaBackendContractTest}). */
class EmulatedMobileNetTrainingParityTest extends MobileNetTrainingParityIT {
    @BeforeAll static void emulator() { CudaEmulator.require(); }
}
