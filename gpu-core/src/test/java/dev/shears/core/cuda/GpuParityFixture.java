package dev.shears.core.cuda;

import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

import java.util.ArrayList;
import java.util.List;

/**
 * What the CUDA-vs-CPU parity tests share: a strict GPU backend for each test
 * ({@link GpuTestSupport#strictBackend}: skips with the reason without CUDA, fails under
 * -Dshears.requireGpu=true), the CPU backend it is compared with, and the GPU tensors a test
 * keeps, closed after it and before the backend. The Emulated*Test subclasses run the same tests on
 * the CPU emulator of the driver.
 */
abstract class GpuParityFixture {
    CudaBackend gpu;
    final CpuBackend cpu = new CpuBackend(2);
    private final List<Tensor> open = new ArrayList<>();

    @BeforeEach final void openGpu() { gpu = GpuTestSupport.strictBackend(); }

    @AfterEach final void closeGpu() {
        if (gpu == null) return;
        open.forEach(Tensor::close);
        gpu.close();
    }

    /** t, a tensor of {@link #gpu}, closed after the test. */
    CudaTensor keep(Tensor t) {
        open.add(t);
        return (CudaTensor) t;
    }
}
