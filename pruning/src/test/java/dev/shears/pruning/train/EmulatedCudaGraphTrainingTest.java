package dev.shears.pruning.train;

import dev.shears.core.cuda.emulator.CudaEmulator;
import org.junit.jupiter.api.BeforeAll;

/**
 * {@link CudaGraphTrainingIT} on the CPU emulator of the CUDA driver, cuBLAS and the real kernels
 * (gpu-core's test-jar builds it; this module's {@code cuda-emulator} Surefire execution runs it).
 * The emulator runs a kernel's blocks in a fixed order, so even the atomically summed losses are
 * reproducible: everything must be bit-identical here.
 */
class EmulatedCudaGraphTrainingTest extends CudaGraphTrainingIT {
    @BeforeAll static void emulator() { CudaEmulator.require(); }

    @Override protected double lossTolerance() { return 0; }
}
