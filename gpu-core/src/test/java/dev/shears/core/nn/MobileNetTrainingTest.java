package dev.shears.core.nn;

import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.optim.Sgd;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The layers of a MobileNet-style model (depthwise and pointwise convolutions, global max pooling)
 * learn together on the CPU: a few SGD steps on one fixed batch lower its loss well below where it
 * started. A backward pass that routed no gradient (or the wrong one) through the depthwise
 * convolution or the global max pool would leave the loss where it is or raise it.
 */
class MobileNetTrainingTest {
    @Test
    void fewStepsOnOneBatchLowerTheLoss() {
        try (CpuBackend cpu = new CpuBackend(2)) {
            Model m = TinyMobileNet.create().bind(cpu, 11);
            Sgd opt = new Sgd(cpu, m.parameters(), 0.9f, true, 0f);
            double first = TinyMobileNet.step(cpu, m, 16, 5, 0), last = first;
            for (int s = 1; s <= 30; s++) {
                opt.step(0.05f);
                last = TinyMobileNet.step(cpu, m, 16, 5, s);
                assertTrue(Double.isFinite(last), "loss at step " + s + " is " + last);
            }
            assertTrue(last < 0.5 * first, "loss fell from " + first + " to " + last + " after 30 steps");
        }
    }
}
