package dev.shears.core.nn.layers;

import dev.shears.core.backend.Backend;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.tensor.Tensor;

import java.util.List;

/** Mean over H and W of [C, H, W]: output [C] (Keras) or [C, 1, 1] when keepDims (ONNX). */
public final class GlobalAvgPool2D extends GlobalPool2D {

    public GlobalAvgPool2D(String name, boolean keepDims) {
        super(name, keepDims);
    }

    @Override public String type() { return "GlobalAvgPool2D"; }

    @Override public Tensor forward(ExecContext ctx, List<Tensor> inputs) {
        Backend b = ctx.backend();
        Tensor x = beginForward(inputs);
        y = Layers.ensure(b, y, batchOutputShape());
        b.avgPool(x, y, geometry, inShape.dim(0), true);
        return y;
    }

    @Override public List<Tensor> backward(ExecContext ctx, Tensor gradOutput, boolean needInputGrad) {
        Tensor g = inputGradBuffer(ctx, needInputGrad);
        if (g != null) ctx.backend().avgPoolBackward(gradOutput, g, geometry, inShape.dim(0), true);
        return Layers.grads(g);
    }
}
