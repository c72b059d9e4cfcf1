package dev.shears.core.nn.layers;

import dev.shears.core.backend.Backend;
import dev.shears.core.nn.Layer;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * The one broadcast the element-wise layers accept (Add and Multiply): exactly two inputs, one a
 * [C, H, W] feature map and the other a [C, 1, 1] per-channel tensor, in either order, the
 * per-channel value applied at every (h, w) of its channel. Squeeze-and-excitation multiplies by
 * such a gate (Hu et al. 2018, arXiv:1709.01507); the same shapes added are a per-sample,
 * per-channel shift (a conditioning bias, or a squeeze-and-excitation variant that adds). Scalar
 * forms ([1, 1, 1], or a rank-0 tensor) are not accepted: as an activation they do not occur in
 * the models Shears reads, a constant scalar is folded into the producer at import, and a
 * [1, 1, 1] tensor would join every channel of the map into one channel set for thinning.
 *
 * <p>One instance per layer keeps which input broadcasts for the batched shapes it was last worked
 * out for, so a training loop's steady state checks nothing again. The per-channel arithmetic is
 * shared here too, so Add and Multiply run the same backend calls on every backend.
 */
final class ChannelBroadcast {
    /** the batched input shapes {@link #index} was worked out for */
    private final List<Shape> lastShapes = new ArrayList<>();
    /** the per-channel input's index (0 or 1), or -1 when all inputs have one shape */
    private int index = -1;

    /**
     * Which of the per-sample shapes is the [C, 1, 1] input over the other, a [C, H, W] map: 0 or
     * 1; -1 when all shapes are equal (no broadcast). Anything else is refused naming the layer,
     * the shapes and what {@code layer} accepts.
     *
     * @param role what the [C, 1, 1] input is to this layer, for the message (e.g. "gate (squeeze-and-excitation)")
     */
    static int index(Layer layer, List<Shape> in, String role) {
        if (in.isEmpty()) throw new IllegalArgumentException(layer + ": needs at least one input");
        boolean same = true;
        for (Shape s : in) same &= s.equals(in.get(0));
        if (same) return -1;
        if (in.size() == 2) {
            for (int g = 0; g < 2; g++) {
                Shape per = in.get(g), map = in.get(1 - g);
                if (map.rank() == 3 && per.rank() == 3 && per.dim(0) == map.dim(0) && per.dim(1) == 1 && per.dim(2) == 1)
                    return g;
            }
        }
        throw new IllegalArgumentException(layer + ": inputs of shapes " + in + " do not fit; a " + layer.type() + " takes"
                + " inputs of one shape, or two where one is a [C, H, W] feature map and the other a [C, 1, 1] per-channel "
                + role + "; no other broadcast is supported");
    }

    /** The output shape for per-sample input shapes: the map's when broadcasting, else the one shape. */
    static Shape outputShape(Layer layer, List<Shape> in, String role) {
        int g = index(layer, in, role);
        return g < 0 ? in.get(0) : in.get(1 - g);
    }

    /**
     * {@link #index(Layer, List, String)} for batched input tensors, checking they share a batch
     * size; worked out again only when the shapes differ from the last call's.
     */
    int resolve(Layer layer, List<Tensor> inputs, String role) {
        if (inputs.isEmpty()) throw new IllegalArgumentException(layer + ": needs at least one input");
        if (sameAsLast(inputs)) return index;
        List<Shape> perSample = new ArrayList<>();
        for (Tensor t : inputs) {
            if (t.shape().rank() < 1) throw new IllegalArgumentException(layer + ": input " + t + " has no batch axis");
            if (t.shape().dim(0) != inputs.get(0).shape().dim(0))
                throw new IllegalArgumentException(layer + ": inputs differ in batch size, " + t + " vs " + inputs.get(0));
            perSample.add(t.shape().dropBatch());
        }
        index = index(layer, perSample, role);
        lastShapes.clear();
        for (Tensor t : inputs) lastShapes.add(t.shape());
        return index;
    }

    private boolean sameAsLast(List<Tensor> inputs) {
        if (inputs.size() != lastShapes.size()) return false;
        for (int i = 0; i < inputs.size(); i++) if (!inputs.get(i).shape().equals(lastShapes.get(i))) return false;
        return true;
    }

    /**
     * out[n, c, h, w] = per[n, c] * map[n, c, h, w]: a batched GEMM of N*C rank-1
     * products, each a 1x1 matrix (the per-channel value) times a 1 x HW row (the plane). With k = 1
     * every element is one rounded product, the same on every backend and for any thread count.
     *
     * @param per  [N, C, 1, 1]
     * @param map  [N, C, H, W]
     * @param out  [N, C, H, W]
     */
    static void scale(Backend b, Tensor per, Tensor map, Tensor out) {
        Shape s = map.shape();
        int planes = s.dim(0) * s.dim(1), hw = s.dim(2) * s.dim(3);
        b.gemm(false, false, 1, hw, 1, 1f, per, 0, 1, map, 0, hw, 0f, out, 0, hw, planes);
    }

    /**
     * out[n, c, h, w] = map[n, c, h, w] + per[n, c]: the map copied, then the bias add over the
     * view [1, N*C, H*W] (each plane its own channel). One rounded sum per element, the same on every
     * backend and for any thread count.
     *
     * @param per  [N, C, 1, 1]
     * @param map  [N, C, H, W]
     * @param out  [N, C, H, W], not per
     */
    static void shift(Backend b, Tensor per, Tensor map, Tensor out) {
        Shape s = map.shape();
        if (out != map) b.copy(map, out);
        b.addBias(out, per, 1, s.dim(0) * s.dim(1), s.dim(2) * s.dim(3));
    }

    /**
     * dPer[n, c] = sum over h, w of planes[n, c, h, w]: the bias gradient over the view
     * [1, N*C, H*W], which sums each plane on its own, in a fixed order on the CPU for any thread
     * count (CpuBackend.biasGrad) and without atomics on CUDA (bias.cu).
     *
     * @param planes [N, C, H, W]
     * @param dPer   [N, C, 1, 1], overwritten
     */
    static void sumPlanes(Backend b, Tensor planes, Tensor dPer) {
        Shape s = planes.shape();
        b.biasGrad(planes, dPer, 1, s.dim(0) * s.dim(1), s.dim(2) * s.dim(3), false);
    }
}
