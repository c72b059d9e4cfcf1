package dev.shears.bench;

import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.Architectures;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Model;
import dev.shears.core.optim.Sgd;
import dev.shears.core.tensor.DType;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * One training step at batch 128 of a built-in model (LeNet-300-100, LeNet-5, the Keras MNIST CNN)
 * on 28x28 images, as GmpTrainer runs it: gather a shuffled batch
 * from a 60000-image set, write it to the backend, forward, fused softmax cross-entropy, count
 * correct, zero gradients, backward, SGD-momentum update. An epoch of Fashion-MNIST is 469 steps.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class TrainStepBench {
    static final int SAMPLES = 60_000, PIXELS = 784, CLASSES = 10;
    @Param({"128"}) public int batch;
    /** a built-in architecture (dev.shears.core.nn.Architectures) */
    @Param({"lenet-300-100", "lenet-5", "mnist-cnn"}) public String model;

    private CpuBackend be;
    private Model net;
    private Sgd sgd;
    /** the training images, [60000, 784], pixels in [0, 1) */
    private float[] images;
    private int[] labels;
    private int[] order;
    /** the batch being assembled, [batch, 784] */
    private float[] staging;
    private Tensor x, y, dLogits, epochLabels;
    private int step;

    @Setup public void setup() {
        be = CpuBackend.create();
        net = Architectures.create(model, Shape.of(1, 28, 28), CLASSES).bind(be, 1);
        sgd = new Sgd(be, net.parameters(), 0.9f, false, 0f);
        SplittableRandom rng = new SplittableRandom(5);
        images = new float[SAMPLES * PIXELS];
        for (int i = 0; i < images.length; i++) images[i] = (float) rng.nextDouble();
        labels = new int[SAMPLES];
        order = new int[SAMPLES];
        for (int i = 0; i < SAMPLES; i++) {
            labels[i] = rng.nextInt(CLASSES);
            order[i] = i;
        }
        for (int i = SAMPLES - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        int[] permuted = new int[SAMPLES];
        for (int i = 0; i < SAMPLES; i++) permuted[i] = labels[order[i]];
        epochLabels = be.uploadInts(permuted, Shape.of(SAMPLES));
        staging = new float[batch * PIXELS];
        x = be.allocate(Shape.of(batch, 1, 28, 28), DType.FLOAT32);
        y = be.allocate(Shape.of(batch), DType.INT32);
        dLogits = be.allocate(Shape.of(batch, CLASSES), DType.FLOAT32);
    }

    @Benchmark public double step() {
        int start = (step++ * batch) % (SAMPLES - batch);
        for (int r = 0; r < batch; r++) System.arraycopy(images, order[start + r] * PIXELS, staging, r * PIXELS, PIXELS);
        be.write(staging, 0, x, 0, batch * PIXELS);
        be.copy(epochLabels, start, y, 0, batch);
        ExecContext ctx = new ExecContext(be, true, step);
        Tensor logits = net.forward(ctx, x);
        double loss = be.softmaxCrossEntropy(logits, y, dLogits, 1f / batch, batch, CLASSES);
        int correct = be.countCorrect(logits, y, batch, CLASSES);
        net.zeroGrad();
        net.backward(ctx, dLogits);
        sgd.step(0.01f);
        return loss + correct;
    }
}
