package dev.shears.core.nn.layers;

import dev.shears.core.backend.Backend;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Layer;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * Element-wise product of two or more inputs of the same shape (ONNX Mul of two activations,
 * Keras Multiply).
 */
public final class Multiply extends Layer {
    public Multiply(String name) { super(name); }

    @Override public String type() { return "Multiply"; }

    @Override public int arity() { return -1; }

    @Override public Shape outputShape(List<Shape> in) { return Layers.sameShapes(in); }

    /** output buffer, the inputs' shape */
    private Tensor y;
    /** the inputs of the last forward (read by backward; owned by the layers that produced them) */
    private List<Tensor> saved;
    /** one gradient buffer per input, the inputs' shape */
    private final List<Tensor> dx = new ArrayList<>();

    @Override public Tensor forward(ExecContext ctx, List<Tensor> inputs) {
        Backend b = ctx.backend();
        Tensor first = Layers.sameShapeInputs(this, inputs);
        y = Layers.ensure(b, y, first.shape());
        if (inputs.size() == 1) b.copy(first, y);
        else {
            b.mul(first, inputs.get(1), y);
            for (int i = 2; i < inputs.size(); i++) b.mul(y, inputs.get(i), y);
        }
        saved = List.copyOf(inputs);
        return y;
    }

    @Override public List<Tensor> backward(ExecContext ctx, Tensor gradOutput, boolean needInputGrad) {
        if (saved == null) throw new IllegalStateException(this + ": backward called before forward");
        List<Tensor> out = new ArrayList<>();
        if (!needInputGrad) {
            for (int i = 0; i < saved.size(); i++) out.add(null);
            return out;
        }
        Backend b = ctx.backend();
        // d(prod)/d(x_i) = product of the other inputs
        for (int i = 0; i < saved.size(); i++) {
            while (dx.size() <= i) dx.add(null);
            Tensor g = Layers.ensure(b, dx.get(i), gradOutput.shape());
            dx.set(i, g);
            b.copy(gradOutput, g);
            for (int j = 0; j < saved.size(); j++) if (j != i) b.mul(g, saved.get(j), g);
            out.add(g);
        }
        return out;
    }
}
