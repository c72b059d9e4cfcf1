package dev.shears.core.cuda;

import dev.shears.core.cuda.emulator.CudaEmulator;
import org.junit.jupiter.api.BeforeAll;

/** {@link DepthwiseParityIT} on the CPU emulator of the CUDA driver (see {@link EmulatedCudaBackendContractTest}). */
class EmulatedDepthwiseParityTest extends DepthwiseParityIT {
    @BeforeAll static void emulator() { CudaEmulator.require(); }
}
