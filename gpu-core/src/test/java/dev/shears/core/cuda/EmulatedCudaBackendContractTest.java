package dev.shears.core.cuda;

import dev.shears.core.backend.Backend;
import dev.shears.core.cuda.emulator.CudaEmulator;

/**
 * The whole backend contract through the real CUDA path (Panama downcalls, launchers, the real
 * kernel sources) running on the CPU emulator of the driver and cuBLAS: what
 * {@link CudaBackendContractIT} checks on a GPU, checked in every build. Runs in gpu-core's
 * cuda-emulator Surefire execution; skips with the reason when g++ or the fatbin is missing.
 */
class EmulatedCudaBackendContractTest extends CudaBackendContractIT {
    @Override protected Backend createBackend() {
        CudaEmulator.require();
        return super.createBackend();
    }
}
