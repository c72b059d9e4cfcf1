package dev.shears.core.nn.layers;

import dev.shears.core.backend.ConvGeometry;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Layer;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;

import java.util.List;

/**
 * A parameter-free layer that sweeps a window ({@link ConvGeometry}) over each [H, W] plane of an
 * NCHW input: the pooling layers and zero padding. It keeps what forward and backward share: the
 * last input's shape, the geometry for it, and the output and input-gradient buffers.
 */
abstract sealed class PlaneSweepLayer extends Layer permits Pool2D, GlobalPool2D, ZeroPad2D {
    /** the last input's shape, [N, C, H, W] */
    Shape inShape;
    /** the window sweep over one plane of the last input */
    ConvGeometry geometry;
    /** output buffer, [N, C, outH, outW] (GlobalAvgPool2D, GlobalMaxPool2D without keepDims: [N, C]) */
    Tensor y;
    /** input-gradient buffer, [N, C, H, W] */
    Tensor dx;

    PlaneSweepLayer(String name) { super(name); }

    /** The window sweep over a [channels, height, width] plane stack. */
    abstract ConvGeometry sweep(int channels, int height, int width);

    /** Checks the one [N, C, H, W] input and remembers its shape and geometry; returns it. */
    final Tensor beginForward(List<Tensor> inputs) {
        Tensor x = Layers.images(this, inputs);
        inShape = x.shape();
        geometry = sweep(inShape.dim(1), inShape.dim(2), inShape.dim(3));
        return x;
    }

    /** After forward: the input-gradient buffer sized to the last input, or null when no input gradient is wanted. */
    final Tensor inputGradBuffer(ExecContext ctx, boolean needInputGrad) {
        Layers.requireForward(this, inShape);
        if (!needInputGrad) return null;
        return dx = Layers.ensure(ctx.backend(), dx, inShape);
    }
}
