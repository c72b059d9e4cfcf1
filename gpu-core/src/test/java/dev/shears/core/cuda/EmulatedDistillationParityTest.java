package dev.shears.core.cuda;

import dev.shears.core.cuda.emulator.CudaEmulator;
import org.junit.jupiter.api.BeforeAll;

/** {@link DistillationParityIT} on the CPU emulator of the CUDA driver (see {@link EmulatedCudaBackendContractTest}). */
class EmulatedDistillationParityTest extends DistillationParityIT {
    @BeforeAll static void emulator() { CudaEmulator.require(); }
}
