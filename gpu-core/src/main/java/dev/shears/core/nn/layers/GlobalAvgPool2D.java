package dev.shears.core.nn.layers;

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

    @Override public Tensor forward(ExecContext ctx, List<Tensor> inputs) {
        throw new UnsupportedOperationException("forward of " + type() + " not implemented yet");
    }

    @Override public List<Tensor> backward(ExecContext ctx, Tensor gradOutput, boolean needInputGrad) {
        throw new UnsupportedOperationException("backward of " + type() + " not implemented yet");
    }
}
