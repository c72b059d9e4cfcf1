package dev.shears.core.nn.layers;

import dev.shears.core.backend.Backend;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Layer;
import dev.shears.core.nn.Parameter;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;

import java.util.List;

/** y = x W + b with W stored [in, out] (the Keras layout). Input per-sample shape [in]. */
public final class Dense extends Layer {
    private final int inFeatures;
    private final int outFeatures;
    private final Parameter kernel;
    private final Parameter bias;

    public Dense(String name, int inFeatures, int outFeatures, boolean useBias) {
        super(name);
        if (inFeatures <= 0 || outFeatures <= 0) throw new IllegalArgumentException(name + ": bad size " + inFeatures + " -> " + outFeatures);
        this.inFeatures = inFeatures;
        this.outFeatures = outFeatures;
        this.kernel = addParameter("kernel", Parameter.Role.KERNEL, Shape.of(inFeatures, outFeatures), true);
        this.bias = useBias ? addParameter("bias", Parameter.Role.BIAS, Shape.of(outFeatures), true) : null;
    }

    public int inFeatures() { return inFeatures; }
    public int outFeatures() { return outFeatures; }
    public Parameter kernel() { return kernel; }
    /** null when the layer has no bias */
    public Parameter bias() { return bias; }

    @Override public String type() { return "Dense"; }

    @Override public Shape outputShape(List<Shape> in) {
        Shape s = Layers.single(in);
        if (s.rank() != 1 || s.dim(0) != inFeatures)
            throw new IllegalArgumentException("expects input [" + inFeatures + "], got " + s + " (add a Flatten before it)");
        return Shape.of(outFeatures);
    }

    // state of the last forward, kept for backward
    /** the last input, [N, in] */
    private Tensor x;
    /** output buffer, [N, out] */
    private Tensor y;
    /** input-gradient buffer, [N, in] */
    private Tensor dx;

    @Override public Tensor forward(ExecContext ctx, List<Tensor> inputs) {
        Backend b = ctx.backend();
        x = Layers.input(this, inputs);
        int n = Layers.batch(this, x, inFeatures);
        y = Layers.ensure(b, y, Shape.of(n, outFeatures));
        b.gemm(false, false, n, outFeatures, inFeatures, 1f, x, kernel.value(), 0f, y);
        if (bias != null) b.addBias(y, bias.value(), n, outFeatures, 1);
        return y;
    }

    @Override public List<Tensor> backward(ExecContext ctx, Tensor gradOutput, boolean needInputGrad) {
        Layers.requireForward(this, x);
        Backend b = ctx.backend();
        int n = x.shape().dim(0);
        // dW += x^T dy ; db += column sums of dy ; dx = dy W^T
        if (kernel.grad() != null) b.gemm(true, false, inFeatures, outFeatures, n, 1f, x, gradOutput, 1f, kernel.grad());
        if (bias != null && bias.grad() != null) b.biasGrad(gradOutput, bias.grad(), n, outFeatures, 1, true);
        if (!needInputGrad) return Layers.grads(null);
        dx = Layers.ensure(b, dx, x.shape());
        b.gemm(false, true, n, inFeatures, outFeatures, 1f, gradOutput, kernel.value(), 0f, dx);
        return Layers.grads(dx);
    }
}
