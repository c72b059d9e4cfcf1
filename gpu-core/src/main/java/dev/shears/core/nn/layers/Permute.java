package dev.shears.core.nn.layers;

import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Layer;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;

import java.util.List;

/** Permutes the per-sample axes: output axis i is input axis perm[i] (0 = first non-batch axis). */
public final class Permute extends Layer {
    private final int[] perm;

    public Permute(String name, int... perm) {
        super(name);
        boolean[] seen = new boolean[perm.length];
        for (int p : perm) {
            if (p < 0 || p >= perm.length || seen[p]) throw new IllegalArgumentException(name + ": not a permutation " + java.util.Arrays.toString(perm));
            seen[p] = true;
        }
        this.perm = perm.clone();
    }

    public int[] perm() { return perm.clone(); }

    @Override public String type() { return "Permute"; }

    @Override public Shape outputShape(List<Shape> in) {
        Shape s = Layers.single(in);
        if (s.rank() != perm.length) throw new IllegalArgumentException("permutation of rank " + perm.length + " for input " + s);
        int[] d = new int[perm.length];
        for (int i = 0; i < perm.length; i++) d[i] = s.dim(perm[i]);
        return Shape.of(d);
    }

    /** the last input's shape, [N, ...] */
    private Shape inShape;
    /** output buffer, [N, permuted ...] */
    private Tensor y;
    /** input-gradient buffer, [N, ...] */
    private Tensor dx;

    /** The permutation of the batched tensor: the batch axis stays first. */
    private int[] batchedPerm(int[] p) {
        int[] full = new int[p.length + 1];
        for (int i = 0; i < p.length; i++) full[i + 1] = p[i] + 1;
        return full;
    }

    @Override public Tensor forward(ExecContext ctx, List<Tensor> inputs) {
        Tensor x = Layers.input(this, inputs);
        inShape = x.shape();
        Shape out = outputShape(List.of(inShape.dropBatch())).withBatch(inShape.dim(0));
        y = Layers.ensure(ctx.backend(), y, out);
        ctx.backend().permute(x, y, inShape.dims(), batchedPerm(perm));
        return y;
    }

    @Override public List<Tensor> backward(ExecContext ctx, Tensor gradOutput, boolean needInputGrad) {
        Layers.requireForward(this, inShape);
        if (!needInputGrad) return Layers.grads(null);
        int[] inverse = new int[perm.length];
        for (int i = 0; i < perm.length; i++) inverse[perm[i]] = i;
        dx = Layers.ensure(ctx.backend(), dx, inShape);
        ctx.backend().permute(gradOutput, dx, y.shape().dims(), batchedPerm(inverse));
        return Layers.grads(dx);
    }
}
