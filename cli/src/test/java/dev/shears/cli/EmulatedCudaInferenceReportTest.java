package dev.shears.cli;

import dev.shears.core.cuda.emulator.CudaEmulator;
import org.junit.jupiter.api.BeforeAll;

/**
 * {@link CudaInferenceReportIT} on the CPU emulator of the CUDA driver, cuBLAS and cuSPARSE
 * (gpu-core's test-jar builds it; this module's {@code cuda-emulator} Surefire execution runs it).
 * Its timings mean nothing; what it proves is that a CUDA run's report is timed on the CUDA path.
 */
class EmulatedCudaInferenceReportTest extends CudaInferenceReportIT {
    @BeforeAll static void emulator() { CudaEmulator.require(); }
}
