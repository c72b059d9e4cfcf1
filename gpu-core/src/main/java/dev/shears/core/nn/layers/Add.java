package dev.shears.core.nn.layers;

import dev.shears.core.backend.Backend;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Layer;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;

import java.util.List;

/** Element-wise sum of two or more inputs of the same shape. */
public final class Add extends Layer {
    public Add(String name) { super(name); }

    @Override public String type() { return "Add"; }

    @Override public int arity() { return -1; }

    @Override public Shape outputShape(List<Shape> in) { return Layers.sameShapes(in); }

    /** output buffer, the inputs' shape */
    private Tensor y;
    private int inputCount = -1;

    @Override public Tensor forward(ExecContext ctx, List<Tensor> inputs) {
        Backend b = ctx.backend();
        Tensor first = Layers.sameShapeInputs(this, inputs);
        inputCount = inputs.size();
        y = Layers.ensure(b, y, first.shape());
        if (inputs.size() == 1) {
            b.copy(first, y);
        } else {
            b.add(first, inputs.get(1), y);
            for (int i = 2; i < inputs.size(); i++) b.add(y, inputs.get(i), y);
        }
        return y;
    }

    @Override public List<Tensor> backward(ExecContext ctx, Tensor gradOutput, boolean needInputGrad) {
        if (inputCount < 0) throw new IllegalStateException(this + ": backward called before forward");
        // d(sum)/d(input i) is the identity: every input receives dLoss/dOutput itself (read-only)
        Tensor[] g = new Tensor[inputCount];
        java.util.Arrays.fill(g, needInputGrad ? gradOutput : null);
        return java.util.Arrays.asList(g);
    }
}
