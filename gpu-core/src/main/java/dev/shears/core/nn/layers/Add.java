package dev.shears.core.nn.layers;

import dev.shears.core.backend.Backend;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Layer;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;

import java.util.Arrays;
import java.util.List;

/**
 * Element-wise sum of two or more inputs of the same shape, or of exactly two inputs where one is
 * a [C, H, W] feature map and the other a [C, 1, 1] per-channel tensor, in either order: the
 * per-channel value added at every (h, w) of its channel (ONNX Add and Keras Add broadcast these
 * shapes). The broadcast is {@link Multiply}'s, from {@link ChannelBroadcast}; no other is accepted.
 */
public final class Add extends Layer {
    public Add(String name) { super(name); }

    @Override public String type() { return "Add"; }

    @Override public int arity() { return -1; }

    /** what the [C, 1, 1] input is to an Add, for {@link ChannelBroadcast}'s refusals */
    private static final String ROLE = "tensor (added at every position of its channel)";

    @Override public Shape outputShape(List<Shape> in) { return ChannelBroadcast.outputShape(this, in, ROLE); }

    /** output buffer, the inputs' shape (the map's when broadcasting) */
    private Tensor y;
    private int inputCount = -1;
    /** the per-channel input's index (0 or 1) in the last forward, or -1 for the plain sum */
    private int per = -1;
    /** the per-channel input's gradient (broadcast backward only), [N, C, 1, 1] */
    private Tensor dPer;
    /** which input broadcasts, kept for the last batched shapes */
    private final ChannelBroadcast broadcast = new ChannelBroadcast();

    @Override public Tensor forward(ExecContext ctx, List<Tensor> inputs) {
        Backend b = ctx.backend();
        per = broadcast.resolve(this, inputs, ROLE);
        inputCount = inputs.size();
        if (per >= 0) {
            Tensor map = inputs.get(1 - per);
            y = Layers.ensure(b, y, map.shape());
            ChannelBroadcast.shift(b, inputs.get(per), map, y);
            return y;
        }
        Tensor first = inputs.get(0);
        y = Layers.ensure(b, y, first.shape());
        if (inputs.size() == 1) {
            b.copy(first, y);
        } else {
            b.add(first, inputs.get(1), y);
            for (int i = 2; i < inputs.size(); i++) b.add(y, inputs.get(i), y);
        }
        return y;
    }

    @Override public List<Tensor> backward(ExecContext ctx, Tensor gradOutput, boolean needInputGrad) {
        if (inputCount < 0) throw new IllegalStateException(this + ": backward called before forward");
        // d(sum)/d(input i) is the identity: every same-shape input receives dLoss/dOutput itself (read-only)
        Tensor[] g = new Tensor[inputCount];
        Arrays.fill(g, needInputGrad ? gradOutput : null);
        if (needInputGrad && per >= 0) {
            // the per-channel input was added at every (h, w): its gradient is dy summed over each plane
            Backend b = ctx.backend();
            Shape s = gradOutput.shape();
            dPer = Layers.ensure(b, dPer, Shape.of(s.dim(0), s.dim(1), 1, 1));
            ChannelBroadcast.sumPlanes(b, gradOutput, dPer);
            g[per] = dPer;
        }
        return Arrays.asList(g);
    }
}
