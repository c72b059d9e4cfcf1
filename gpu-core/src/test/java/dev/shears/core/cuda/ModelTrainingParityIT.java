package dev.shears.core.cuda;

import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.Architectures;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.Parameter;
import dev.shears.core.optim.Sgd;
import dev.shears.core.tensor.DType;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Whole built-in architectures (Dense, Conv2D through im2col and cuBLAS, max pooling, dropout,
 * ReLU, softmax cross-entropy, Nesterov SGD) trained for a few steps on the GPU and on the CPU from
 * the same seed and batches: the losses and the final weights agree. A per-op contract can pass
 * while the layers wire the ops wrongly on one backend (a transposed operand, a stale buffer, a
 * missing synchronisation); this catches that. Small images (1x16x16) keep it fast.
 *
 * <p>Tolerance: each step's loss within 1e-4 relative, weights within 1e-4 + 1e-3 relative after
 * the steps: GEMM and reduction orders differ between cuBLAS/the kernels and the CPU (float32
 * rounding ~1e-7 per operation, amplified a little by three SGD steps at lr 0.05), while a wiring
 * error moves the loss in the first digits.
 */
class ModelTrainingParityIT {
    private static final int BATCH = 8, CLASSES = 10, STEPS = 3;
    private static final Shape INPUT = Shape.of(1, 16, 16);

    @ParameterizedTest
    @ValueSource(strings = {"lenet-300-100", "lenet-5", "mnist-cnn"})
    void fewStepsMatchTheCpu(String architecture) {
        GpuTestSupport.assumeCuda();
        // RELEASE: a bound model owns its parameters until the backend closes
        try (CudaBackend gpu = CudaBackend.create(0, CudaBackend.LeakPolicy.RELEASE)) {
            CpuBackend cpu = new CpuBackend(2);
            Model mc = Architectures.create(architecture, INPUT, CLASSES).bind(cpu, 7);
            Model mg = Architectures.create(architecture, INPUT, CLASSES).bind(gpu, 7);
            Sgd oc = new Sgd(cpu, mc.parameters(), 0.9f, true, 1e-4f);
            Sgd og = new Sgd(gpu, mg.parameters(), 0.9f, true, 1e-4f);
            for (int s = 0; s < STEPS; s++) {
                double lc = step(cpu, mc, s), lg = step(gpu, mg, s);
                Parity.assertClose(architecture + " loss at step " + s, lc, lg, 0, 1e-4);
                oc.step(0.05f);
                og.step(0.05f);
            }
            for (int i = 0; i < mc.parameters().size(); i++) {
                Parameter pc = mc.parameters().get(i), pg = mg.parameters().get(i);
                assertEquals(pc.name(), pg.name());
                Parity.assertClose(architecture + " " + pc.name() + " after " + STEPS + " steps",
                        cpu.download(pc.value()), gpu.download(pg.value()), 1e-4, 1e-3);
            }
            og.close();
        }
    }

    /** Forward and backward on batch {@code s} (seeded, the same on both backends); returns the mean loss. */
    private static double step(Backend be, Model m, int s) {
        SplittableRandom r = new SplittableRandom(100 + s);
        float[] x = new float[BATCH * (int) INPUT.size()];
        int[] labels = new int[BATCH];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextDouble();
        for (int i = 0; i < BATCH; i++) labels[i] = r.nextInt(CLASSES);
        try (Tensor X = be.upload(x, Shape.of(BATCH, 1, 16, 16)); Tensor L = be.uploadInts(labels, Shape.of(BATCH));
             Tensor dLogits = be.allocate(Shape.of(BATCH, CLASSES), DType.FLOAT32)) {
            ExecContext ctx = new ExecContext(be, true, 1000 + s); // the same dropout masks on both
            m.zeroGrad();
            double loss = be.softmaxCrossEntropy(m.forward(ctx, X), L, dLogits, 1f / BATCH, BATCH, CLASSES);
            m.backward(ctx, dLogits);
            return loss / BATCH;
        }
    }
}
