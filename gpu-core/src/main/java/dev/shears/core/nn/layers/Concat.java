package dev.shears.core.nn.layers;

import dev.shears.core.backend.Backend;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Layer;
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

    /** the last inputs' shapes, [N, ...] each */
    private Shape[] inShapes;
    /** output buffer, [N, ...] */
    private Tensor y;
    /** input-gradient buffers, one per input, [N, ...] each */
    private Tensor[] dxs = new Tensor[0];

    /** Number of contiguous blocks per tensor: N times the per-sample dims before the axis. */
    private static long outerBlocks(Shape batched, int axis) {
        long o = 1;
        for (int i = 0; i <= axis; i++) o *= batched.dim(i); // batch axis 0 plus per-sample axes < axis
        return o;
    }

    @Override public Tensor forward(ExecContext ctx, List<Tensor> inputs) {
        Backend b = ctx.backend();
        if (inputs.isEmpty()) throw new IllegalArgumentException(this + ": needs at least one input");
        List<Shape> per = new java.util.ArrayList<>();
        for (Tensor t : inputs) per.add(t.shape().dropBatch());
        int n = inputs.get(0).shape().dim(0);
        for (Tensor t : inputs) if (t.shape().dim(0) != n) throw new IllegalArgumentException(this + ": batch sizes differ " + inputs);
        Shape out = outputShape(per).withBatch(n);
        y = Layers.ensure(b, y, out);
        inShapes = new Shape[inputs.size()];
        long outer = outerBlocks(out, axis);
        long outChunk = out.size() / Math.max(1, outer);
        long at = 0;
        for (int j = 0; j < inputs.size(); j++) {
            Tensor t = inputs.get(j);
            inShapes[j] = t.shape();
            long chunk = t.size() / Math.max(1, outer);
            for (long o = 0; o < outer; o++) b.copy(t, o * chunk, y, o * outChunk + at, chunk);
            at += chunk;
        }
        return y;
    }

    @Override public List<Tensor> backward(ExecContext ctx, Tensor gradOutput, boolean needInputGrad) {
        Layers.requireForward(this, inShapes);
        Tensor[] out = new Tensor[inShapes.length];
        if (!needInputGrad) return java.util.Arrays.asList(out);
        Backend b = ctx.backend();
        if (dxs.length != inShapes.length) dxs = java.util.Arrays.copyOf(dxs, inShapes.length);
        long outer = outerBlocks(gradOutput.shape(), axis);
        long outChunk = gradOutput.size() / Math.max(1, outer);
        long at = 0;
        for (int j = 0; j < inShapes.length; j++) {
            dxs[j] = Layers.ensure(b, dxs[j], inShapes[j]);
            long chunk = inShapes[j].size() / Math.max(1, outer);
            for (long o = 0; o < outer; o++) b.copy(gradOutput, o * outChunk + at, dxs[j], o * chunk, chunk);
            at += chunk;
            out[j] = dxs[j];
        }
        return java.util.Arrays.asList(out);
    }
}
