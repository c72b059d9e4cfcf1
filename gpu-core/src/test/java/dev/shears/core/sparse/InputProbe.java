package dev.shears.core.sparse;

import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Layer;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.layers.Dense;
import dev.shears.core.nn.layers.Flatten;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * A test layer that passes its input through and records a copy of every input it sees: put first
 * in a model, it shows which batch a forward pass (the model's own or a sparse plan's, which runs
 * this layer's own forward) was run on.
 */
public final class InputProbe extends Layer {
    /** every input seen, in order, as downloaded ([N, ...] flattened) */
    public final List<float[]> seen = new ArrayList<>();

    public InputProbe(String name) { super(name); }

    @Override public String type() { return "InputProbe"; }

    @Override public Shape outputShape(List<Shape> in) { return in.getFirst(); }

    @Override public Tensor forward(ExecContext ctx, List<Tensor> inputs) {
        Tensor x = inputs.getFirst();
        seen.add(ctx.backend().download(x));
        return x;
    }

    @Override public List<Tensor> backward(ExecContext ctx, Tensor gradOutput, boolean needInputGrad) {
        throw new UnsupportedOperationException("an input probe is for inference tests");
    }

    /** probe -> flatten -> fc1 (784 -> 32) -> fc2 (32 -> 10) on [1, 28, 28] inputs, unbound. */
    public static Model probedMlp(InputProbe probe) {
        return Model.builder().input("x", Shape.of(1, 28, 28)).then(probe).then(new Flatten("flat"))
                .then(new Dense("fc1", 784, 32, true)).then(new Dense("fc2", 32, 10, true)).build();
    }
}
