package dev.shears.cli;

import dev.shears.core.cuda.emulator.CudaEmulator;
import org.junit.jupiter.api.BeforeAll;

/**
 * {@link CudaThinningReportIT} on the CPU emulator of the CUDA driver and cuBLAS (this module's
 * {@code cuda-emulator} Surefire execution runs it). Its timings mean nothing; what it proves is
 * that thinning works on a CUDA-bound model and both models are timed on the CUDA path.
 */
class EmulatedCudaThinningReportTest extends CudaThinningReportIT {
    @BeforeAll static void emulator() { CudaEmulator.require(); }
}
