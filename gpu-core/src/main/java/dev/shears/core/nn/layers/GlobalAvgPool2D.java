package dev.shears.core.nn.layers;

import dev.shears.core.backend.Backend;
import dev.shears.core.tensor.DType;
import dev.shears.core.backend.ConvGeometry;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Layer;
import dev.shears.core.nn.Parameter;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;

import java.util.List;

/** Mean over H and W of [C, H, W]: output [C] (Keras) or [C, 1, 1] when keepDims (ONNX). */
public final class GlobalAvgPool2D extends Layer {
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

    /** the last input's shape, [N, C, H, W] */
    private Shape inShape;
    private ConvGeometry geometry;
    /** output buffer, [N, C, 1, 1] with keepDims, else [N, C] */
    private Tensor y;
    /** input-gradient buffer, [N, C, H, W] */
    private Tensor dx;

    @Override public Tensor forward(ExecContext ctx, List<Tensor> inputs) {
        Backend b = ctx.backend();
        Tensor x = Layers.input(this, inputs);
        if (x.shape().rank() != 4) throw new IllegalArgumentException(this + ": expects an [N, C, H, W] input, got " + x);
        inShape = x.shape();
        int n = inShape.dim(0), c = inShape.dim(1), h = inShape.dim(2), w = inShape.dim(3);
        // one window covering the whole plane
        geometry = new ConvGeometry(c, h, w, h, w, 1, 1, 0, 0, 0, 0, 1, 1, false);
        y = Layers.ensure(b, y, keepDims ? Shape.of(n, c, 1, 1) : Shape.of(n, c));
        b.avgPool(x, y, geometry, n, true);
        return y;
    }

    @Override public List<Tensor> backward(ExecContext ctx, Tensor gradOutput, boolean needInputGrad) {
        Layers.requireForward(this, inShape);
        if (!needInputGrad) return Layers.grads(null);
        dx = Layers.ensure(ctx.backend(), dx, inShape);
        ctx.backend().avgPoolBackward(gradOutput, dx, geometry, inShape.dim(0), true);
        return Layers.grads(dx);
    }
}
