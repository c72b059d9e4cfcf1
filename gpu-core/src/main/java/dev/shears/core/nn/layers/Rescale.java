package dev.shears.core.nn.layers;

import dev.shears.core.backend.Backend;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Layer;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;

import java.util.List;

/**
 * A fixed affine map of every element, {@code y = scale * x + offset}, with scalar {@code scale}
 * and {@code offset}: Keras' {@code Rescaling} layer, with which MobileNetV3 (scale 1/127.5,
 * offset -1) and EfficientNet (1/255) bring pixel values into range. Nothing in it is trained.
 *
 * <p>Scalars only. Keras' Rescaling also takes per-channel lists, but every Keras application
 * uses scalars (per-channel standardisation is Keras' {@code Normalization}, another layer), and a
 * scalar map acts on each channel the same way: it needs no parameters, no checkpoint arrays, and
 * nothing to slice when channels are thinned. Per-channel lists are refused by the importer by
 * name. Each output is one fused multiply-add, {@code fma(x, scale, offset)} (the backend's axpy on
 * a tensor filled with the offset), so every backend rounds it the same way; Keras computes
 * {@code x * scale + offset} with two roundings, at most one ulp away.
 */
public final class Rescale extends Layer {
    private final float scale;
    private final float offset;

    public Rescale(String name, float scale, float offset) {
        super(name);
        if (!Float.isFinite(scale) || !Float.isFinite(offset))
            throw new IllegalArgumentException("rescale '" + name + "': scale and offset must be finite, got scale " + scale
                    + ", offset " + offset);
        this.scale = scale;
        this.offset = offset;
    }

    public float scale() { return scale; }
    public float offset() { return offset; }

    @Override public String type() { return "Rescale"; }

    @Override public Shape outputShape(List<Shape> in) { return Layers.single(in); }

    /** output buffer, the input's shape */
    private Tensor y;
    /** input-gradient buffer, the input's shape */
    private Tensor dx;
    /** set by forward: backward needs nothing else from it (the map's derivative is the constant scale) */
    private boolean forwarded;

    @Override public Tensor forward(ExecContext ctx, List<Tensor> inputs) {
        Backend b = ctx.backend();
        Tensor x = Layers.input(this, inputs);
        y = Layers.ensure(b, y, x.shape());
        b.fill(y, offset);
        b.axpy(scale, x, y);
        forwarded = true;
        return y;
    }

    @Override public List<Tensor> backward(ExecContext ctx, Tensor gradOutput, boolean needInputGrad) {
        Layers.requireForward(this, forwarded ? this : null);
        if (!needInputGrad) return Layers.grads(null);
        Backend b = ctx.backend();
        dx = Layers.ensure(b, dx, gradOutput.shape());
        b.copy(gradOutput, dx);
        b.scale(dx, scale);
        return Layers.grads(dx);
    }
}
