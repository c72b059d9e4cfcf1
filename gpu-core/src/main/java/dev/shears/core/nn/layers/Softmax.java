package dev.shears.core.nn.layers;

import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Layer;
import dev.shears.core.nn.Parameter;
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

    @Override public Tensor forward(ExecContext ctx, List<Tensor> inputs) {
        throw new UnsupportedOperationException("forward of " + type() + " not implemented yet");
    }

    @Override public List<Tensor> backward(ExecContext ctx, Tensor gradOutput, boolean needInputGrad) {
        throw new UnsupportedOperationException("backward of " + type() + " not implemented yet");
    }
}
