package dev.shears.core.nn;

import dev.shears.core.backend.Activation;
import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.layers.ActivationLayer;
import dev.shears.core.nn.layers.Dense;
import dev.shears.core.tensor.DType;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * End to end on the CPU: a 2-layer MLP (8-16-3, ReLU) on three Gaussian blobs, trained with the
 * plainest SGD (w -= lr * g, written here) through Model.forward/backward and the fused
 * softmax cross-entropy, must drive the loss down and separate the classes.
 */
class MlpTrainingTest {

    static final int FEATURES = 8, CLASSES = 3, SAMPLES = 300, BATCH = 50;

    @Test
    void sgdOnSeparableBlobsDrivesLossDown() {
        SplittableRandom rng = new SplittableRandom(7);
        float[][] centres = new float[CLASSES][FEATURES];
        for (float[] c : centres) for (int j = 0; j < FEATURES; j++) c[j] = (float) (rng.nextDouble() * 6 - 3);
        float[] xs = new float[SAMPLES * FEATURES];
        int[] ys = new int[SAMPLES];
        for (int i = 0; i < SAMPLES; i++) {
            ys[i] = i % CLASSES;
            for (int j = 0; j < FEATURES; j++) xs[i * FEATURES + j] = centres[ys[i]][j] + (float) (rng.nextGaussian() * 0.5);
        }

        Backend be = new CpuBackend(1);
        Model model = Model.builder().input("x", Shape.of(FEATURES))
                .then(new Dense("dense_1", FEATURES, 16, true))
                .then(new ActivationLayer("relu_1", Activation.RELU))
                .then(new Dense("dense_2", 16, CLASSES, true))
                .build().bind(be, 42);
        ExecContext train = new ExecContext(be, true, 1);

        Tensor[] xb = new Tensor[SAMPLES / BATCH], yb = new Tensor[SAMPLES / BATCH];
        for (int b = 0; b < xb.length; b++) {
            xb[b] = be.upload(java.util.Arrays.copyOfRange(xs, b * BATCH * FEATURES, (b + 1) * BATCH * FEATURES), Shape.of(BATCH, FEATURES));
            yb[b] = be.uploadInts(java.util.Arrays.copyOfRange(ys, b * BATCH, (b + 1) * BATCH), Shape.of(BATCH));
        }
        Tensor dLogits = be.allocate(Shape.of(BATCH, CLASSES), DType.FLOAT32);

        double first = epochLoss(model, be, xb, yb);
        Tensor firstLogits = null;
        for (int epoch = 0; epoch < 40; epoch++) {
            for (int b = 0; b < xb.length; b++) {
                Tensor logits = model.forward(train, xb[b]);
                if (firstLogits == null) firstLogits = logits;
                else assertSame(firstLogits, logits, "the output buffer is reused across steps of the same batch shape");
                be.softmaxCrossEntropy(logits, yb[b], dLogits, 1f / BATCH, BATCH, CLASSES);
                model.zeroGrad();
                model.backward(train, dLogits);
                for (Parameter p : model.parameters()) if (p.grad() != null) be.axpy(-0.1f, p.grad(), p.value());
            }
        }
        double last = epochLoss(model, be, xb, yb);
        int correct = 0;
        ExecContext eval = ExecContext.inference(be);
        for (int b = 0; b < xb.length; b++) correct += be.countCorrect(model.forward(eval, xb[b]), yb[b], BATCH, CLASSES);

        assertTrue(first > 0.5, "an untrained model starts with a high loss, got " + first);
        assertTrue(last < 0.1 * first, "mean loss " + first + " -> " + last + ": SGD did not drive it down");
        assertEquals(SAMPLES, correct, "well-separated blobs (centres ~3 units apart, sigma 0.5) must all be classified correctly");
    }

    private static double epochLoss(Model model, Backend be, Tensor[] xb, Tensor[] yb) {
        double loss = 0;
        for (int b = 0; b < xb.length; b++)
            loss += be.softmaxCrossEntropy(model.forward(ExecContext.inference(be), xb[b]), yb[b], null, 1f, BATCH, CLASSES);
        return loss / SAMPLES;
    }
}
