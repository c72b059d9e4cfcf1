package dev.shears.core.nn;

import dev.shears.core.backend.Activation;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.layers.ActivationLayer;
import dev.shears.core.nn.layers.Add;
import dev.shears.core.nn.layers.BatchNorm;
import dev.shears.core.nn.layers.Conv2D;
import dev.shears.core.nn.layers.Dense;
import dev.shears.core.optim.Sgd;
import dev.shears.core.tensor.DType;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The built-in {@code mobilenet-v2-mini}: its shapes, parameter and multiply-add counts (the figures
 * its Javadoc states, recomputed here from the layers), the structure of its inverted residual
 * blocks, and that a few SGD steps on one fixed batch lower its loss.
 */
class MobileNetV2MiniTest {
    static final Shape INPUT = Shape.of(1, 28, 28);

    @Test
    void shapesAndCountsAreTheDocumentedOnes() {
        Model m = Architectures.create("mobilenet-v2-mini", INPUT, 10);
        assertEquals(Shape.of(10), m.outputShape());
        assertEquals(Shape.of(16, 14, 14), m.shapeOf("Conv1_relu"));
        assertEquals(Shape.of(24, 7, 7), m.shapeOf("block_2_project_BN"));
        assertEquals(Shape.of(32, 4, 4), m.shapeOf("block_5_add"));
        assertEquals(Shape.of(128, 4, 4), m.shapeOf("Conv_1_relu"));
        long trainable = 0, moving = 0, kernels = 0, macs = 0, depthwiseMacs = 0;
        for (Parameter p : m.parameters()) {
            if (p.trainable()) trainable += p.shape().size();
            else moving += p.shape().size();
            if (p.role() == Parameter.Role.KERNEL) kernels += p.shape().size();
        }
        int depthwise = 0, adds = 0, relu6 = 0;
        for (Model.Node n : m.nodes()) {
            Layer l = n.layer();
            if (l instanceof Conv2D c) {
                Shape out = m.shapeOf(c.name());
                long mac = c.kernel().shape().size() * out.dim(1) * out.dim(2);
                macs += mac;
                if (c.depthwise()) { depthwise++; depthwiseMacs += mac; }
                assertNull(c.bias(), c.name() + ": the BatchNorm after it has the bias");
                assertTrue(m.nodes().stream().anyMatch(o -> o.layer() instanceof BatchNorm && o.inputs().equals(List.of(c.name()))),
                        c.name() + " is followed by a BatchNorm");
            } else if (l instanceof Dense d) {
                macs += d.kernel().shape().size();
            } else if (l instanceof Add) {
                adds++;
                // a residual: the block's input and its projection, of the same shape
                assertEquals(2, n.inputs().size());
                assertTrue(n.inputs().get(1).endsWith("_project_BN"), n.inputs().toString());
            } else if (l instanceof ActivationLayer a) {
                assertEquals(Activation.RELU_CAPPED, a.function());
                assertEquals(6f, a.alpha());
                relu6++;
            }
        }
        assertEquals(5, depthwise, "one depthwise convolution per block");
        assertEquals(3, adds, "residuals in the stride-1 blocks whose channels are unchanged (1, 3, 5)");
        assertEquals(1 + 2 * 5 - 1 + 1, relu6, "stem, expansion (not block 1) and depthwise per block, head");
        // the figures the Javadoc of Architectures.mobileNetV2Mini states
        assertEquals(45_098, trainable);
        assertEquals(2_880, moving);
        assertEquals(42_208, kernels);
        assertEquals(47_978, m.parameterCount());
        assertEquals(1_519_984, macs);
        assertEquals(182_448, depthwiseMacs);
    }

    @Test
    void buildsForOtherImageSizesAndChannels() {
        Model m = Architectures.create("mobilenet-v2-mini", Shape.of(3, 32, 32), 7);
        assertEquals(Shape.of(7), m.outputShape());
        assertEquals(Shape.of(32, 4, 4), m.shapeOf("block_5_add"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Architectures.create("mobilenet-v2-mini", Shape.of(784), 10));
        assertTrue(e.getMessage().contains("[C, H, W]"), e.getMessage());
    }

    @Test
    void fewStepsOnOneBatchLowerTheLoss() {
        int batch = 32, classes = 10;
        SplittableRandom r = new SplittableRandom(3);
        float[] x = new float[batch * INPUT.intSize()];
        int[] labels = new int[batch];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextDouble();
        for (int i = 0; i < batch; i++) labels[i] = r.nextInt(classes);
        try (CpuBackend cpu = new CpuBackend(2)) {
            Model m = Architectures.create("mobilenet-v2-mini", INPUT, classes).bind(cpu, 5);
            Sgd opt = new Sgd(cpu, m.parameters(), 0.9f, false, 0f);
            double first = Double.NaN, last = Double.NaN;
            try (Tensor xs = cpu.upload(x, INPUT.withBatch(batch)); Tensor ls = cpu.uploadInts(labels, Shape.of(batch));
                 Tensor dLogits = cpu.allocate(Shape.of(batch, classes), DType.FLOAT32)) {
                for (int s = 0; s < 25; s++) {
                    ExecContext ctx = new ExecContext(cpu, true, s);
                    m.zeroGrad();
                    double loss = cpu.softmaxCrossEntropy(m.forward(ctx, xs), ls, dLogits, 1f / batch, batch, classes) / batch;
                    m.backward(ctx, dLogits);
                    assertTrue(Double.isFinite(loss), "loss at step " + s + " is " + loss);
                    if (s == 0) first = loss;
                    last = loss;
                    opt.step(0.05f);
                }
            }
            assertTrue(last < 0.5 * first, "loss fell from " + first + " to " + last + " after 25 steps");
        }
    }
}
