package dev.shears.core.nn.layers;

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

    @Override public Tensor forward(ExecContext ctx, List<Tensor> inputs) {
        throw new UnsupportedOperationException("forward of " + type() + " not implemented yet");
    }

    @Override public List<Tensor> backward(ExecContext ctx, Tensor gradOutput, boolean needInputGrad) {
        throw new UnsupportedOperationException("backward of " + type() + " not implemented yet");
    }
}
