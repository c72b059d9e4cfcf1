package dev.shears.core.nn.layers;

import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Layer;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;

import java.util.List;

/**
 * Local response normalisation across channels:
 * y = x / (bias + alpha/size * sum of x^2 over the size channels around c)^beta (ONNX LRN).
 * Forward and backward are the backend's lrn / lrnBackward (HostKernels on the CPU, lrn.cu on
 * CUDA). LRN appears in older imported networks (AlexNet, GoogLeNet).
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

    /** output buffer, [N, C, H, W] */
    private Tensor y;
    /** the last forward's input (kept for backward), [N, C, H, W] */
    private Tensor x;
    /** input-gradient buffer, [N, C, H, W] */
    private Tensor dx;

    @Override public Tensor forward(ExecContext ctx, List<Tensor> inputs) {
        Tensor x = Layers.images(this, inputs);
        Shape s = x.shape();
        y = Layers.ensure(ctx.backend(), y, s);
        ctx.backend().lrn(x, y, s.dim(0), s.dim(1), s.dim(2) * s.dim(3), size, alpha, beta, bias);
        this.x = x;
        return y;
    }

    @Override public List<Tensor> backward(ExecContext ctx, Tensor gradOutput, boolean needInputGrad) {
        Layers.requireForward(this, x);
        if (!needInputGrad) return Layers.grads(null);
        Shape s = x.shape();
        dx = Layers.ensure(ctx.backend(), dx, s);
        ctx.backend().lrnBackward(x, gradOutput, dx, s.dim(0), s.dim(1), s.dim(2) * s.dim(3), size, alpha, beta, bias);
        return Layers.grads(dx);
    }
}
