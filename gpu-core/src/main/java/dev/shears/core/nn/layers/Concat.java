package dev.shears.core.nn.layers;

import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Layer;
import dev.shears.core.nn.Parameter;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;

import java.util.List;

/** Concatenation along a per-sample axis (0 = channels for images). */
public final class Concat extends Layer {
    private final int axis;

    public Concat(String name, int axis) {
        super(name);
        this.axis = axis;
    }

    public int axis() { return axis; }

    @Override public String type() { return "Concat"; }

    @Override public int arity() { return -1; }

    @Override public Shape outputShape(List<Shape> in) {
        if (in.isEmpty()) throw new IllegalArgumentException("needs at least one input");
        int[] d = in.get(0).dims();
        if (axis < 0 || axis >= d.length) throw new IllegalArgumentException("axis " + axis + " out of range for " + in.get(0));
        int total = 0;
        for (Shape s : in) {
            if (s.rank() != d.length) throw new IllegalArgumentException("inputs differ in rank: " + in);
            for (int i = 0; i < d.length; i++)
                if (i != axis && s.dim(i) != d[i]) throw new IllegalArgumentException("inputs differ off the concat axis: " + in);
            total += s.dim(axis);
        }
        d[axis] = total;
        return Shape.of(d);
    }

    @Override public Tensor forward(ExecContext ctx, List<Tensor> inputs) {
        throw new UnsupportedOperationException("forward of " + type() + " not implemented yet");
    }

    @Override public List<Tensor> backward(ExecContext ctx, Tensor gradOutput, boolean needInputGrad) {
        throw new UnsupportedOperationException("backward of " + type() + " not implemented yet");
    }
}
