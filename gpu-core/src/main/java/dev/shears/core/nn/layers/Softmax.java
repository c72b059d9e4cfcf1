package dev.shears.core.nn.layers;

import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Layer;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;

import java.util.List;

/** Softmax (or log-softmax) over each sample flattened to one row (ONNX opset < 13 semantics). */
public final class Softmax extends Layer {
    private final boolean log;

    public Softmax(String name, boolean log) {
        super(name);
        this.log = log;
    }

    public boolean log() { return log; }

    @Override public String type() { return log ? "LogSoftmax" : "Softmax"; }

    @Override public Shape outputShape(List<Shape> in) { return Layers.single(in); }

    /** output buffer, [N, ...] */
    private Tensor y;
    /** input-gradient buffer, [N, ...] */
    private Tensor dx;

    @Override public Tensor forward(ExecContext ctx, List<Tensor> inputs) {
        Tensor x = Layers.input(this, inputs);
        int n = x.shape().dim(0);
        int cols = (int) (x.size() / Math.max(1, n));
        y = Layers.ensure(ctx.backend(), y, x.shape());
        if (log) ctx.backend().logSoftmax(x, y, n, cols);
        else ctx.backend().softmax(x, y, n, cols);
        return y;
    }

    @Override public List<Tensor> backward(ExecContext ctx, Tensor gradOutput, boolean needInputGrad) {
        Layers.requireForward(this, y);
        if (!needInputGrad) return Layers.grads(null);
        int n = y.shape().dim(0);
        int cols = (int) (y.size() / Math.max(1, n));
        dx = Layers.ensure(ctx.backend(), dx, y.shape());
        if (log) ctx.backend().logSoftmaxBackward(y, gradOutput, dx, n, cols);
        else ctx.backend().softmaxBackward(y, gradOutput, dx, n, cols);
        return Layers.grads(dx);
    }
}
