package dev.shears.core.cuda;

import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.Parameter;
import dev.shears.core.nn.TinySeMobileNet;
import dev.shears.core.optim.Sgd;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@link TinySeMobileNet} (squeeze-and-excitation: a [C, 1, 1] gate multiplied over a [C, H, W]
 * map, whose CUDA path is a batched cuBLAS GEMM forward and the bias-gradient reduction for the
 * gate's gradient) trained for a few steps on the GPU and on the CPU from the same seed and batch:
 * losses and final weights agree. Tolerances as {@link MobileNetTrainingParityIT}.
 */
class SeMobileNetTrainingParityIT {
    private static final int BATCH = 8, STEPS = 3;

    @Test
    void fewStepsMatchTheCpu() {
        GpuTestSupport.assumeCuda();
        try (CudaBackend gpu = CudaBackend.create(0, CudaBackend.LeakPolicy.RELEASE); CpuBackend cpu = new CpuBackend(2)) {
            Model mc = TinySeMobileNet.create().bind(cpu, 7);
            Model mg = TinySeMobileNet.create().bind(gpu, 7);
            Sgd oc = new Sgd(cpu, mc.parameters(), 0.9f, true, 1e-4f);
            Sgd og = new Sgd(gpu, mg.parameters(), 0.9f, true, 1e-4f);
            for (int s = 0; s < STEPS; s++) {
                double lc = TinySeMobileNet.step(cpu, mc, BATCH, 100 + s, s), lg = TinySeMobileNet.step(gpu, mg, BATCH, 100 + s, s);
                Parity.assertClose("loss at step " + s, lc, lg, 0, 1e-4);
                for (int i = 0; i < mc.parameters().size(); i++) {
                    Parameter pc = mc.parameters().get(i), pg = mg.parameters().get(i);
                    if (pc.grad() == null) continue;
                    Parity.assertClose(pc.name() + " gradient at step " + s, cpu.download(pc.grad()), gpu.download(pg.grad()), 1e-4, 1e-3);
                }
                oc.step(0.05f);
                og.step(0.05f);
            }
            for (int i = 0; i < mc.parameters().size(); i++) {
                Parameter pc = mc.parameters().get(i), pg = mg.parameters().get(i);
                assertEquals(pc.name(), pg.name());
                Parity.assertClose(pc.name() + " after " + STEPS + " steps", cpu.download(pc.value()), gpu.download(pg.value()), 1e-4, 1e-3);
            }
            og.close();
        }
    }
}
