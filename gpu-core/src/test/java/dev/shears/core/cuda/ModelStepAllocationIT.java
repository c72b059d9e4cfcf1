package dev.shears.core.cuda;

import dev.shears.core.nn.Model;
import dev.shears.core.nn.ModelFanOutTest;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A training step allocates nothing once warm, also for a model whose graph fans out (Model's
 * gradient-sum buffers are reused, not allocated per pass and left to the tensor cleaner).
 */
class ModelStepAllocationIT {

    @Test
    void fanOutModelStepHoldsNoMoreBlocksOnceWarm() {
        GpuTestSupport.assumeCuda();
        try (CudaBackend gpu = CudaBackend.create(0, CudaBackend.LeakPolicy.RELEASE)) {
            Model m = ModelFanOutTest.fanOutModel(gpu);
            for (int i = 0; i < 3; i++) ModelFanOutTest.step(m, gpu, 8, i);
            int warm = gpu.allocator().liveBlocks();
            for (int i = 0; i < 5; i++) ModelFanOutTest.step(m, gpu, 8, 10 + i);
            assertEquals(warm, gpu.allocator().liveBlocks(), "live device blocks after 5 more steps");
        }
    }
}
