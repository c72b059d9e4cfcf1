package dev.shears.core.cuda;

import dev.shears.core.cuda.emulator.CudaEmulator;
import org.junit.jupiter.api.BeforeAll;

/** {@link Im2colBatchParityIT} on the CPU emulator of the CUDA driver (see {@link EmulatedCudaBackendContractTest}). */
class EmulatedIm2colBatchParityTest extends Im2colBatchParityIT {
    @BeforeAll static void emulator() { CudaEmulator.require(); }
}
