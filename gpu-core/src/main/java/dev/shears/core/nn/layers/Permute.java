package dev.shears.core.nn.layers;

import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Layer;
import dev.shears.core.nn.Parameter;
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

    @Override public Tensor forward(ExecContext ctx, List<Tensor> inputs) {
        throw new UnsupportedOperationException("forward of " + type() + " not implemented yet");
    }

    @Override public List<Tensor> backward(ExecContext ctx, Tensor gradOutput, boolean needInputGrad) {
        throw new UnsupportedOperationException("backward of " + type() + " not implemented yet");
    }
}
