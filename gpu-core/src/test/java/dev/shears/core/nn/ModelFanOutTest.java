package dev.shears.core.nn;

import dev.shears.core.backend.Activation;
import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.layers.ActivationLayer;
import dev.shears.core.nn.layers.Add;
import dev.shears.core.nn.layers.Dense;
import dev.shears.core.tensor.DType;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * (public: the GPU test ModelStepAllocationIT drives the same model.) Model.backward sums the gradients of a tensor read by several layers into a buffer it keeps
 * across passes. Reusing it must not leak one pass into the next, also when the batch size
 * changes in between (the buffer is then reallocated): the same batch gives bit-identical
 * parameter gradients before and after other passes.
 */
public class ModelFanOutTest {

    /** d1 -> relu, read by two Dense layers whose outputs are added: a fan-out of two at "relu". */
    public static Model fanOutModel(Backend be) {
        return Model.builder().input("x", Shape.of(6))
                .then(new Dense("d1", 6, 5, true))
                .then(new ActivationLayer("relu", Activation.RELU))
                .add(new Dense("a", 5, 4, true), "relu")
                .add(new Dense("b", 5, 4, false), "relu")
                .add(new Add("logits"), "a", "b")
                .build().bind(be, 3);
    }

    /** One forward/backward on {@code n} seeded samples; returns every parameter gradient. */
    public static List<float[]> step(Model m, Backend be, int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n * 6];
        int[] labels = new int[n];
        for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextDouble() * 2 - 1);
        for (int i = 0; i < n; i++) labels[i] = r.nextInt(4);
        Tensor X = be.upload(x, Shape.of(n, 6)), L = be.uploadInts(labels, Shape.of(n));
        Tensor dLogits = be.allocate(Shape.of(n, 4), DType.FLOAT32);
        ExecContext ctx = new ExecContext(be, true, 1);
        m.zeroGrad();
        be.softmaxCrossEntropy(m.forward(ctx, X), L, dLogits, 1f / n, n, 4);
        m.backward(ctx, dLogits);
        List<float[]> grads = new ArrayList<>();
        for (Parameter p : m.parameters()) grads.add(be.download(p.grad()));
        X.close();
        L.close();
        dLogits.close();
        return grads;
    }

    @Test
    void reusedFanOutBufferGivesTheSameGradientsAcrossPassesAndBatchSizes() {
        Backend be = new CpuBackend(1);
        Model m = fanOutModel(be);
        List<float[]> first = step(m, be, 4, 11);
        step(m, be, 4, 12);
        step(m, be, 3, 13); // another batch size: the buffer is replaced
        List<float[]> again = step(m, be, 4, 11);
        assertEquals(first.size(), again.size());
        for (int i = 0; i < first.size(); i++)
            assertArrayEquals(first.get(i), again.get(i), 0f, m.parameters().get(i).name());
    }
}
