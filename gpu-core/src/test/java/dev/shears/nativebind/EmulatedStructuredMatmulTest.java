package dev.shears.nativebind;

import dev.shears.core.cuda.emulator.CudaEmulator;
import org.junit.jupiter.api.BeforeAll;

/**
 * native-bindings' {@link StructuredMatmulIT} (cuSPARSELt's prune, check, compress and 2:4
 * matmul through {@link StructuredMatmul}) against the emulated libcusparseLt.so.0 of
 * cuda-kernels/src/test/emulator/cusparselt.cpp, in gpu-core's cuda-emulator fork: the Panama
 * calls, struct handling and call order run as they would on a GPU. (In this package because
 * the IT is package-private; it lives in native-bindings, which builds before the emulator can.)
 */
class EmulatedStructuredMatmulTest extends StructuredMatmulIT {
    @BeforeAll static void emulator() { CudaEmulator.require(); }
}
