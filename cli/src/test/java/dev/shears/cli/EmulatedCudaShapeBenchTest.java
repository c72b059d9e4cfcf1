package dev.shears.cli;

import dev.shears.core.cuda.emulator.CudaEmulator;
import org.junit.jupiter.api.BeforeAll;

/**
 * {@link CudaShapeBenchIT} on the CPU emulator of the CUDA driver, cuBLAS, cuSPARSE and
 * cuSPARSELt (8 GiB of device memory; this module's {@code cuda-emulator} Surefire execution runs
 * it). Its timings mean nothing; it proves the command sweeps every GPU format, checks each
 * against cuBLAS, and writes the table, JSON and chart.
 */
class EmulatedCudaShapeBenchTest extends CudaShapeBenchIT {
    @BeforeAll static void emulator() { CudaEmulator.require(); }
}
