package dev.shears.core.nn.layers;

import dev.shears.core.backend.Backend;
import dev.shears.core.backend.ConvGeometry;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;

import java.util.List;

/** Zero padding of the H and W axes of [C, H, W]. */
public final class ZeroPad2D extends PlaneSweepLayer {
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

    /** im2col with a 1x1 kernel and this padding is exactly zero padding: cols [C, H', W'] */
    @Override ConvGeometry sweep(int c, int h, int w) {
        return new ConvGeometry(c, h, w, 1, 1, 1, 1, top, left, bottom, right, 1, 1, false);
    }

    @Override public Tensor forward(ExecContext ctx, List<Tensor> inputs) {
        Backend b = ctx.backend();
        Tensor x = beginForward(inputs);
        int n = inShape.dim(0);
        y = Layers.ensure(b, y, Shape.of(n, inShape.dim(1), geometry.outH(), geometry.outW()));
        for (int i = 0; i < n; i++) b.im2col(x, geometry.imageElements(i), geometry, y, geometry.pooledElements(i));
        return y;
    }

    @Override public List<Tensor> backward(ExecContext ctx, Tensor gradOutput, boolean needInputGrad) {
        Tensor g = inputGradBuffer(ctx, needInputGrad);
        if (g == null) return Layers.grads(null);
        Backend b = ctx.backend();
        b.fill(g, 0f);
        int n = inShape.dim(0);
        // the adjoint of padding is cropping: col2im adds the interior back
        for (int i = 0; i < n; i++) b.col2im(gradOutput, geometry.pooledElements(i), geometry, g, geometry.imageElements(i));
        return Layers.grads(g);
    }
}
