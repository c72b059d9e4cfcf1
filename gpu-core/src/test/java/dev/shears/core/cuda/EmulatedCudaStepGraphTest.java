package dev.shears.core.cuda;

import dev.shears.core.cuda.emulator.CudaEmulator;
import org.junit.jupiter.api.BeforeAll;

/** {@link CudaStepGraphIT} on the CPU emulator of the CUDA driver (see {@link EmulatedCudaBackendContractTest}). */
class EmulatedCudaStepGraphTest extends CudaStepGraphIT {
    @BeforeAll static void emulator() { CudaEmulator.require(); }
}
