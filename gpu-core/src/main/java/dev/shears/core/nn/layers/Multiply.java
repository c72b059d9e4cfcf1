package dev.shears.core.nn.layers;

import dev.shears.core.backend.Backend;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Layer;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * Element-wise product of two or more inputs of the same shape (ONNX Mul of two activations,
 * Keras Multiply), or of exactly two inputs where one is a [C, H, W] feature map and the other a
 * [C, 1, 1] per-channel gate, in either order: the gate broadcast over H and W. The second form is
 * squeeze-and-excitation's rescaling (Hu et al. 2018, "Squeeze-and-Excitation Networks",
 * arXiv:1709.01507), as MobileNetV3 and EfficientNet use it. It stays a Multiply rather than a
 * layer of its own because it is the same operation in every format Shears reads and writes
 * (ONNX Mul and Keras Multiply broadcast), so importers, exporters and checkpoints need no new type.
 * No other broadcast is accepted.
 */
public final class Multiply extends Layer {
    public Multiply(String name) { super(name); }

    @Override public String type() { return "Multiply"; }

    @Override public int arity() { return -1; }

    @Override public Shape outputShape(List<Shape> in) {
        int gate = gateIndex(in);
        return gate < 0 ? Layers.sameShapes(in) : in.get(1 - gate);
    }

    /**
     * Which of the per-sample shapes is a [C, 1, 1] gate over the other, a [C, H, W] map: 0 or 1;
     * -1 when all shapes are equal (the plain product). Anything else is refused.
     */
    private int gateIndex(List<Shape> in) {
        if (in.isEmpty()) throw new IllegalArgumentException(this + ": needs at least one input");
        boolean same = true;
        for (Shape s : in) same &= s.equals(in.get(0));
        if (same) return -1;
        if (in.size() == 2) {
            for (int g = 0; g < 2; g++) {
                Shape gate = in.get(g), map = in.get(1 - g);
                if (map.rank() == 3 && gate.rank() == 3 && gate.dim(0) == map.dim(0) && gate.dim(1) == 1 && gate.dim(2) == 1)
                    return g;
            }
        }
        throw new IllegalArgumentException(this + ": inputs of shapes " + in + " do not fit; a Multiply takes inputs of one"
                + " shape, or two where one is a [C, H, W] feature map and the other a [C, 1, 1] per-channel gate"
                + " (squeeze-and-excitation); no other broadcast is supported");
    }

    /** output buffer, the inputs' shape (the map's when broadcasting) */
    private Tensor y;
    /** the inputs of the last forward (read by backward; owned by the layers that produced them) */
    private List<Tensor> saved;
    /** the gate's index in saved (0 or 1), or -1 for the plain product */
    private int gate = -1;
    /** one gradient buffer per input, that input's shape */
    private final List<Tensor> dx = new ArrayList<>();
    /** dy * map before the sum over H and W (broadcast backward only), [N, C, H, W] */
    private Tensor product;
    /** the batched input shapes {@link #gate} was worked out for (a training loop's steady state checks nothing again) */
    private final List<Shape> lastShapes = new ArrayList<>();

    private boolean sameShapesAsLastForward(List<Tensor> inputs) {
        if (inputs.size() != lastShapes.size()) return false;
        for (int i = 0; i < inputs.size(); i++) if (!inputs.get(i).shape().equals(lastShapes.get(i))) return false;
        return true;
    }

    @Override public Tensor forward(ExecContext ctx, List<Tensor> inputs) {
        Backend b = ctx.backend();
        if (!sameShapesAsLastForward(inputs)) {
            List<Shape> perSample = new ArrayList<>();
            for (Tensor t : inputs) {
                if (t.shape().rank() < 1) throw new IllegalArgumentException(this + ": input " + t + " has no batch axis");
                if (t.shape().dim(0) != inputs.get(0).shape().dim(0))
                    throw new IllegalArgumentException(this + ": inputs differ in batch size, " + t + " vs " + inputs.get(0));
                perSample.add(t.shape().dropBatch());
            }
            gate = gateIndex(perSample);
            lastShapes.clear();
            for (Tensor t : inputs) lastShapes.add(t.shape());
        }
        saved = List.copyOf(inputs);
        if (gate >= 0) {
            Tensor map = inputs.get(1 - gate);
            y = Layers.ensure(b, y, map.shape());
            scaleChannels(b, inputs.get(gate), map, y);
            return y;
        }
        Tensor first = inputs.get(0);
        y = Layers.ensure(b, y, first.shape());
        if (inputs.size() == 1) b.copy(first, y);
        else {
            b.mul(first, inputs.get(1), y);
            for (int i = 2; i < inputs.size(); i++) b.mul(y, inputs.get(i), y);
        }
        return y;
    }

    /**
     * out[n, c, h, w] = gate[n, c] * map[n, c, h, w]: a batched GEMM of N*C rank-1 products, each
     * a 1x1 matrix (the gate value) times a 1 x HW row (the plane). With k = 1 every element is one
     * rounded product, the same on every backend and for any thread count.
     */
    private static void scaleChannels(Backend b, Tensor gate, Tensor map, Tensor out) {
        Shape s = map.shape();
        int planes = s.dim(0) * s.dim(1), hw = s.dim(2) * s.dim(3);
        b.gemm(false, false, 1, hw, 1, 1f, gate, 0, 1, map, 0, hw, 0f, out, 0, hw, planes);
    }

    @Override public List<Tensor> backward(ExecContext ctx, Tensor gradOutput, boolean needInputGrad) {
        if (saved == null) throw new IllegalStateException(this + ": backward called before forward");
        List<Tensor> out = new ArrayList<>();
        if (!needInputGrad) {
            for (int i = 0; i < saved.size(); i++) out.add(null);
            return out;
        }
        Backend b = ctx.backend();
        while (dx.size() < saved.size()) dx.add(null);
        if (gate >= 0) {
            Tensor g = saved.get(gate), map = saved.get(1 - gate);
            Tensor dMap = Layers.ensure(b, dx.get(1 - gate), map.shape());
            Tensor dGate = Layers.ensure(b, dx.get(gate), g.shape());
            dx.set(1 - gate, dMap);
            dx.set(gate, dGate);
            // d(map) = dy * gate, broadcast as in forward
            scaleChannels(b, g, gradOutput, dMap);
            // d(gate)[n, c] = sum over h, w of dy * map: the product, then per-plane sums (a bias
            // gradient over [1, N*C, HW] sums each plane on its own)
            product = Layers.ensure(b, product, map.shape());
            b.mul(gradOutput, map, product);
            Shape s = map.shape();
            b.biasGrad(product, dGate, 1, s.dim(0) * s.dim(1), s.dim(2) * s.dim(3), false);
            out.add(dx.get(0));
            out.add(dx.get(1));
            return out;
        }
        // d(prod)/d(x_i) = product of the other inputs
        for (int i = 0; i < saved.size(); i++) {
            Tensor g = Layers.ensure(b, dx.get(i), gradOutput.shape());
            dx.set(i, g);
            b.copy(gradOutput, g);
            for (int j = 0; j < saved.size(); j++) if (j != i) b.mul(g, saved.get(j), g);
            out.add(g);
        }
        return out;
    }
}
