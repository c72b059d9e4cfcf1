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
 * No other broadcast is accepted ({@link ChannelBroadcast}, shared with {@link Add}).
 */
public final class Multiply extends Layer {
    public Multiply(String name) { super(name); }

    @Override public String type() { return "Multiply"; }

    @Override public int arity() { return -1; }

    /** what the [C, 1, 1] input is to a Multiply, for {@link ChannelBroadcast}'s refusals */
    private static final String ROLE = "gate (squeeze-and-excitation)";

    @Override public Shape outputShape(List<Shape> in) { return ChannelBroadcast.outputShape(this, in, ROLE); }

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
    /** which input broadcasts, kept for the last batched shapes */
    private final ChannelBroadcast broadcast = new ChannelBroadcast();

    @Override public Tensor forward(ExecContext ctx, List<Tensor> inputs) {
        Backend b = ctx.backend();
        gate = broadcast.resolve(this, inputs, ROLE);
        saved = List.copyOf(inputs);
        if (gate >= 0) {
            Tensor map = inputs.get(1 - gate);
            y = Layers.ensure(b, y, map.shape());
            ChannelBroadcast.scale(b, inputs.get(gate), map, y);
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
            ChannelBroadcast.scale(b, g, gradOutput, dMap);
            // d(gate)[n, c] = sum over h, w of dy * map: the product, then per-plane sums
            product = Layers.ensure(b, product, map.shape());
            b.mul(gradOutput, map, product);
            ChannelBroadcast.sumPlanes(b, product, dGate);
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
