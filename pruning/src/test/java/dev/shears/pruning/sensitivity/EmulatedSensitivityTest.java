package dev.shears.pruning.sensitivity;

import dev.shears.core.cuda.emulator.CudaEmulator;
import org.junit.jupiter.api.BeforeAll;

/**
 * {@link SensitivityCudaIT} on the CPU emulator of the CUDA driver and cuBLAS (this module's
 * {@code cuda-emulator} Surefire execution runs it): the device-side pruning and restoring path,
 * not speed.
 */
class EmulatedSensitivityTest extends SensitivityCudaIT {
    @BeforeAll static void emulator() { CudaEmulator.require(); }
}
