package dev.shears.core.nn;

import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.layers.Multiply;
import dev.shears.core.optim.Sgd;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link TinySeMobileNet} (a squeeze-and-excitation gate multiplied over a depthwise block) learns
 * on the CPU: a few SGD steps on one fixed batch lower its loss well below where it started, and
 * the gate's convolutions move, so gradient flows through the broadcast {@link Multiply} into the
 * gate as well as into the feature map.
 */
class SeMobileNetTrainingTest {
    @Test
    void fewStepsOnOneBatchLowerTheLossAndTrainTheGate() {
        try (CpuBackend cpu = new CpuBackend(2)) {
            Model m = TinySeMobileNet.create().bind(cpu, 11);
            Parameter reduce = m.parameters().stream().filter(p -> p.name().startsWith("se_reduce")).findFirst().orElseThrow();
            float[] before = cpu.download(reduce.value());
            Sgd opt = new Sgd(cpu, m.parameters(), 0.9f, true, 0f);
            double first = TinySeMobileNet.step(cpu, m, 16, 5, 0), last = first;
            for (int s = 1; s <= 60; s++) {
                opt.step(0.1f);
                last = TinySeMobileNet.step(cpu, m, 16, 5, s);
                assertTrue(Double.isFinite(last), "loss at step " + s + " is " + last);
            }
            assertTrue(last < 0.5 * first, "loss fell from " + first + " to " + last + " after 60 steps");
            float[] after = cpu.download(reduce.value());
            double moved = 0;
            for (int i = 0; i < before.length; i++) moved += Math.abs(after[i] - before[i]);
            assertNotEquals(0.0, moved, "the SE reduce convolution's kernel never moved: no gradient reached the gate");
        }
    }
}
