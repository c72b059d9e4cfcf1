package dev.shears.core.cuda;

import dev.shears.core.backend.Backend;
import dev.shears.core.backend.BackendContractTest;

/**
 * The whole backend contract on the GPU: every op against the double-precision references with
 * the tolerances BackendContractTest states. Skips without CUDA (fails under -Dshears.requireGpu).
 * The contract test does not close its tensors, so the backend frees them on close (RELEASE);
 * the parity ITs use STRICT backends to catch leaks.
 */
class CudaBackendContractIT extends BackendContractTest {
    @Override protected Backend createBackend() {
        GpuTestSupport.assumeCuda();
        return CudaBackend.create(0, CudaBackend.LeakPolicy.RELEASE);
    }
}
