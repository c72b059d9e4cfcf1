package dev.shears.core.nn;

import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.layers.Dense;
import dev.shears.core.nn.layers.Flatten;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Backward skips what no trainable parameter needs: the first weight layer's input gradient and everything before it. */
class ModelBackwardScopeTest {

    /** Passes through and records how backward was asked. */
    static final class Probe extends Layer {
        final List<Boolean> asked = new ArrayList<>();

        Probe(String name) { super(name); }

        @Override public String type() { return "Probe"; }

        @Override public Shape outputShape(List<Shape> in) { return in.get(0); }

        @Override public Tensor forward(ExecContext ctx, List<Tensor> inputs) { return inputs.get(0); }

        @Override public List<Tensor> backward(ExecContext ctx, Tensor g, boolean needInputGrad) {
            asked.add(needInputGrad);
            return java.util.Collections.singletonList(g);
        }
    }

    @Test
    void firstWeightLayerGetsNoInputGradientRequestAndParameterFreePrefixIsSkipped() {
        Probe before = new Probe("before"), between = new Probe("between");
        Model m = Model.builder().input("x", Shape.of(1, 4, 4))
                .then(before).then(new Flatten("flat"))
                .then(new Dense("fc1", 16, 8, true)).then(between).then(new Dense("fc2", 8, 3, true))
                .build().bind(CpuBackend.create(), 1);
        var be = m.backend();
        ExecContext ctx = new ExecContext(be, true, 0);
        Tensor x = be.upload(new float[2 * 16], Shape.of(2, 1, 4, 4));
        Tensor y = m.forward(ctx, x);
        m.zeroGrad();
        m.backward(ctx, be.upload(new float[]{1, 0, 0, 0, 1, 0}, y.shape()));
        assertEquals(List.of(), before.asked, "nothing before the first weight layer runs backward");
        assertEquals(List.of(true), between.asked, "between two weight layers the input gradient is needed");
        float[] db1 = be.download(m.parameter("fc1/bias").grad());
        assertNotEquals(0f, java.util.Arrays.stream(toDouble(db1)).map(Math::abs).sum(), "fc1 still gets its gradients");
    }

    private static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }
}
