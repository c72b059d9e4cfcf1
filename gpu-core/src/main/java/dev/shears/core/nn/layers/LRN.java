package dev.shears.core.nn.layers;

import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Layer;
import dev.shears.core.nn.Parameter;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;

import java.util.List;

/**
 * Local response normalisation across channels (inference only):
 * y = x / (bias + alpha/size * sum of x^2 over the size channels around c)^beta (ONNX LRN).
 */
public final class LRN extends Layer {
    private final int size;
    private final float alpha, beta, bias;

    public LRN(String name, int size, float alpha, float beta, float bias) {
        super(name);
        this.size = size;
        this.alpha = alpha;
        this.beta = beta;
        this.bias = bias;
    }

    public int size() { return size; }
    public float alpha() { return alpha; }
    public float beta() { return beta; }
    public float bias() { return bias; }

    @Override public String type() { return "LRN"; }

    @Override public Shape outputShape(List<Shape> in) { return Layers.image(in); }

    @Override public Tensor forward(ExecContext ctx, List<Tensor> inputs) {
        throw new UnsupportedOperationException("forward of " + type() + " not implemented yet");
    }

    @Override public List<Tensor> backward(ExecContext ctx, Tensor gradOutput, boolean needInputGrad) {
        throw new UnsupportedOperationException("backward of " + type() + " not implemented yet");
    }
}
