package dev.shears.core.nn.layers;

import dev.shears.core.backend.Backend;
import dev.shears.core.backend.ConvGeometry;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;

import java.util.List;

/** Mean over H and W of [C, H, W]: output [C] (Keras) or [C, 1, 1] when keepDims (ONNX). */
public final class GlobalAvgPool2D extends PlaneSweepLayer {
    private final boolean keepDims;

    public GlobalAvgPool2D(String name, boolean keepDims) {
        super(name);
        this.keepDims = keepDims;
    }

    public boolean keepDims() { return keepDims; }

    @Override public String type() { return "GlobalAvgPool2D"; }

    @Override public Shape outputShape(List<Shape> in) {
        Shape s = Layers.image(in);
        return keepDims ? Shape.of(s.dim(0), 1, 1) : Shape.of(s.dim(0));
    }

    /** one window covering the whole plane */
    @Override ConvGeometry sweep(int c, int h, int w) {
        return new ConvGeometry(c, h, w, h, w, 1, 1, 0, 0, 0, 0, 1, 1, false);
    }

    @Override public Tensor forward(ExecContext ctx, List<Tensor> inputs) {
        Backend b = ctx.backend();
        Tensor x = beginForward(inputs);
        int n = inShape.dim(0), c = inShape.dim(1);
        y = Layers.ensure(b, y, keepDims ? Shape.of(n, c, 1, 1) : Shape.of(n, c));
        b.avgPool(x, y, geometry, n, true);
        return y;
    }

    @Override public List<Tensor> backward(ExecContext ctx, Tensor gradOutput, boolean needInputGrad) {
        Tensor g = inputGradBuffer(ctx, needInputGrad);
        if (g != null) ctx.backend().avgPoolBackward(gradOutput, g, geometry, inShape.dim(0), true);
        return Layers.grads(g);
    }
}
