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

/** Zero padding of the H and W axes of [C, H, W]. */
public final class ZeroPad2D extends Layer {
    private final int top, left, bottom, right;

    public ZeroPad2D(String name, int top, int left, int bottom, int right) {
        super(name);
        if (top < 0 || left < 0 || bottom < 0 || right < 0) throw new IllegalArgumentException(name + ": negative padding");
        this.top = top;
        this.left = left;
        this.bottom = bottom;
        this.right = right;
    }

    public int top() { return top; }
    public int left() { return left; }
    public int bottom() { return bottom; }
    public int right() { return right; }

    @Override public String type() { return "ZeroPad2D"; }

    @Override public Shape outputShape(List<Shape> in) {
        Shape s = Layers.image(in);
        return Shape.of(s.dim(0), s.dim(1) + top + bottom, s.dim(2) + left + right);
    }

    /** the last input's shape, [N, C, H, W] */
    private Shape inShape;
    private ConvGeometry geometry;
    /** output buffer, [N, C, outH, outW] */
    private Tensor y;
    /** input-gradient buffer, [N, C, H, W] */
    private Tensor dx;

    @Override public Tensor forward(ExecContext ctx, List<Tensor> inputs) {
        Backend b = ctx.backend();
        Tensor x = Layers.input(this, inputs);
        if (x.shape().rank() != 4) throw new IllegalArgumentException(this + ": expects an [N, C, H, W] input, got " + x);
        inShape = x.shape();
        int n = inShape.dim(0), c = inShape.dim(1), h = inShape.dim(2), w = inShape.dim(3);
        // im2col with a 1x1 kernel and this padding is exactly zero padding: cols [C, H', W']
        geometry = new ConvGeometry(c, h, w, 1, 1, 1, 1, top, left, bottom, right, 1, 1, false);
        int oh = geometry.outH(), ow = geometry.outW();
        y = Layers.ensure(b, y, Shape.of(n, c, oh, ow));
        for (int i = 0; i < n; i++) b.im2col(x, (long) i * c * h * w, geometry, y, (long) i * c * oh * ow);
        return y;
    }

    @Override public List<Tensor> backward(ExecContext ctx, Tensor gradOutput, boolean needInputGrad) {
        Layers.requireForward(this, inShape);
        if (!needInputGrad) return Layers.grads(null);
        Backend b = ctx.backend();
        dx = Layers.ensure(b, dx, inShape);
        b.fill(dx, 0f);
        int n = inShape.dim(0), c = inShape.dim(1), h = inShape.dim(2), w = inShape.dim(3);
        long outPlane = (long) c * geometry.outH() * geometry.outW();
        // the adjoint of padding is cropping: col2im adds the interior back
        for (int i = 0; i < n; i++) b.col2im(gradOutput, i * outPlane, geometry, dx, (long) i * c * h * w);
        return Layers.grads(dx);
    }
}
