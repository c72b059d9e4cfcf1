package dev.shears.core.nn;

import dev.shears.core.backend.Activation;
import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.layers.ActivationLayer;
import dev.shears.core.nn.layers.Add;
import dev.shears.core.nn.layers.AvgPool2D;
import dev.shears.core.nn.layers.BatchNorm;
import dev.shears.core.nn.layers.Concat;
import dev.shears.core.nn.layers.Conv2D;
import dev.shears.core.nn.layers.Dense;
import dev.shears.core.nn.layers.Flatten;
import dev.shears.core.nn.layers.GlobalAvgPool2D;
import dev.shears.core.tensor.DType;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * A small CNN with a residual Add, a Concat and a fan-out (one tensor read by three layers),
 * trained-mode batch norm and pooling, driven through {@link Model#forward}/{@link Model#backward}:
 * every parameter gradient (a sample of each) against central differences of the mean
 * softmax cross-entropy. Same tolerance reasoning as {@link GradientChecker}, with rtol 2e-2
 * because the loss passes through more float32 layers.
 */
class ModelGradientTest {

    @Test
    void residualCnnParameterGradientsMatchFiniteDifferences() {
        Backend be = new CpuBackend(1);
        Model model = Model.builder().input("image", Shape.of(2, 6, 6))
                .then(Conv2D.of("conv_a", 2, 3, 3, 1, 1, true))
                .then(new BatchNorm("bn_a", 3, 1e-3f, 0.9f))
                .then(new ActivationLayer("tanh_a", Activation.TANH))
                .add(Conv2D.of("conv_b", 3, 3, 3, 1, 1, false), "tanh_a")
                .add(new Add("residual"), "tanh_a", "conv_b")
                .add(new Concat("concat", 0), "residual", "tanh_a")
                .then(new AvgPool2D("pool", 2, 2, 2, 2, 0, 0, 0, 0, false, true))
                .add(new GlobalAvgPool2D("gap", false), "pool")
                .add(new Flatten("flatten"), "pool")
                .then(new Dense("dense", 6 * 3 * 3, 4, true))
                .add(new Dense("dense_gap", 6, 4, false), "gap")
                .add(new Add("logits"), "dense", "dense_gap")
                .build().bind(be, 5);
        int n = 3, classes = 4;
        SplittableRandom r = new SplittableRandom(6);
        float[] x = new float[n * 2 * 36];
        for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextDouble() * 2 - 1);
        int[] labels = {0, 3, 1};
        Tensor X = be.upload(x, Shape.of(n, 2, 6, 6)), L = be.uploadInts(labels, Shape.of(n));
        Tensor dLogits = be.allocate(Shape.of(n, classes), DType.FLOAT32);
        ExecContext ctx = new ExecContext(be, true, 1);

        model.zeroGrad();
        be.softmaxCrossEntropy(model.forward(ctx, X), L, dLogits, 1f / n, n, classes);
        model.backward(ctx, dLogits);

        double h = 1e-2, atol = 2e-3, rtol = 2e-2;
        List<String> errors = new ArrayList<>();
        for (Parameter p : model.parameters()) {
            if (p.grad() == null) continue;
            float[] g = be.download(p.grad());
            for (int probe = 0; probe < 6; probe++) {
                int i = r.nextInt(p.shape().intSize());
                float[] one = new float[1];
                be.download(p.value(), i, one, 0, 1);
                float orig = one[0];
                double lp = loss(model, be, ctx, X, L, p, i, (float) (orig + h), n, classes);
                double lm = loss(model, be, ctx, X, L, p, i, (float) (orig - h), n, classes);
                be.write(new float[]{orig}, 0, p.value(), i, 1);
                double num = (lp - lm) / ((double) (float) (orig + h) - (double) (float) (orig - h));
                if (!(Math.abs(num - g[i]) <= atol + rtol * Math.max(Math.abs(num), Math.abs(g[i]))))
                    errors.add(p.name() + "[" + i + "] numeric " + num + " analytic " + g[i]);
            }
        }
        if (!errors.isEmpty()) fail(errors.size() + " mismatches: " + String.join("; ", errors));
    }

    private static double loss(Model m, Backend be, ExecContext ctx, Tensor x, Tensor labels, Parameter p, int i, float v, int n, int classes) {
        be.write(new float[]{v}, 0, p.value(), i, 1);
        return be.softmaxCrossEntropy(m.forward(ctx, x), labels, null, 1f, n, classes) / n;
    }
}
