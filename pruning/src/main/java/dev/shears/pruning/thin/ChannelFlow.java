package dev.shears.pruning.thin;

import dev.shears.core.backend.Backend;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Layer;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.Parameter;
import dev.shears.core.nn.layers.Add;
import dev.shears.core.nn.layers.Concat;
import dev.shears.core.nn.layers.Conv2D;
import dev.shears.core.nn.layers.Dense;
import dev.shears.core.nn.layers.Flatten;
import dev.shears.core.nn.layers.Reshape;
import dev.shears.core.nn.layers.Multiply;
import dev.shears.core.nn.layers.Permute;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import dev.shears.pruning.ChannelLayout;
import dev.shears.pruning.ChannelWise;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The analysis behind {@link ChannelThinning}: which output channels of which Dense and Conv2D
 * layers can leave the model without changing what it computes.
 *
 * <p>Every producer (a Dense layer, or a Conv2D with one group) gives each of its output channels
 * an <em>atom</em>. Every tensor of the graph carries, per index of its per-sample axis 0 (the
 * channel of an image, the feature of a vector), the atom it comes from and the constant value it
 * has in the masked model, or NaN where it is not constant. Layers that act channel by channel
 * (activations, BatchNorm, PReLU, Dropout, Identity, pooling, ZeroPad2D, global pooling, and a
 * depthwise convolution with one output per input channel) pass the atoms on, so a depthwise
 * channel leaves exactly when its producer's channel does; Flatten repeats each channel's atom over its block of H*W features (row-major NCHW);
 * a Permute read only by a Flatten or a Reshape to one dimension (a Keras channels_last Flatten) gives each element its channel's atom;
 * Concat on axis 0 concatenates them; Add and Multiply join the atoms at each position into one set
 * (union-find), since a channel of their output can only go if it goes from every input. Anything
 * else (a Reshape to more than one dimension (one is a Flatten), another Permute, Softmax, LRN, a grouped convolution, the model output, a graph input)
 * marks the atoms that reach it as <em>kept</em>, with the reason.
 *
 * <p>A set of atoms is removable when it is not kept and every producer channel in it has an
 * all-zero kernel. Such a channel is not zero after its producer: it is the constant bias[c], and
 * after BatchNorm/activations some other constant (relu(b), beta - gamma*mean/sqrt(var+eps), ...).
 * The constants are computed by running each channel-wise layer once on a one-sample tensor filled
 * with them (so they are the backend's own numerics, inference mode), and a channel whose values
 * differ across positions (ZeroPad2D or padded average pooling of a non-zero constant) gets NaN.
 * Each consumer folds a removed input's constant v into its bias: exactly for Dense (b += v W[c,:])
 * and for an unpadded Conv2D (b[o] += v * sum of W[o,c,:,:]); a padded Conv2D sees v inside the
 * image and 0 in the padding, so there only v == 0 can go, and other sets are kept, with the reason.
 *
 * <p>{@link #structure} makes the same walk on the graph alone (no weights, no constants, no fold
 * checks): its sets are the tied kernels channel pruning prunes together ({@link ChannelSets}), so
 * pruning and thinning agree on what is tied by construction.
 */
final class ChannelFlow {
    private final Model model;
    /** host copies of every parameter's values, by parameter name */
    final Map<String, float[]> host = new HashMap<>();
    /** per tensor (graph input or node output): the atom of each per-sample axis-0 index */
    final Map<String, int[]> atoms = new HashMap<>();
    /** per tensor: the constant value of each axis-0 index in the masked model (inference), NaN when not constant */
    final Map<String, float[]> consts = new HashMap<>();

    /** per Permute output read only by a Flatten: the atom of each of its elements (row-major), see {@link #permuteForFlatten} */
    private final Map<String, int[]> elements = new HashMap<>();
    /** per such Permute output: the constant value of each element, NaN when not constant */
    private final Map<String, float[]> elementConsts = new HashMap<>();

    // union-find over atoms
    private final List<Integer> parent = new ArrayList<>();
    /** per root: whether some atom of the set must stay, and why (first reason wins) */
    private final Map<Integer, String> keptReason = new HashMap<>();
    /** per root: whether every producer channel in the set has an all-zero kernel */
    private final Map<Integer, Boolean> allZero = new HashMap<>();
    /** per root: a layer joined into the set by Add/Multiply, for messages */
    private final Map<Integer, String> joinedBy = new HashMap<>();
    /** producer layer name -> its first atom (its channels are consecutive atoms) */
    final Map<String, Integer> firstAtom = new HashMap<>();
    /** producer layer name -> whether each of its output channels has an all-zero kernel, [channels] */
    final Map<String, boolean[]> zeroChannels = new HashMap<>();

    /** producer layer name -> its kernel, in model order */
    final Map<String, Parameter> kernels = new LinkedHashMap<>();
    /**
     * false for {@link #structure}: the graph alone, without the weights (no kernel is all zero,
     * every value is non-constant, no fold check), which is what ties channels together
     */
    private final boolean weights;

    private ChannelFlow(Model model, boolean weights) {
        this.model = model;
        this.weights = weights;
    }

    static ChannelFlow analyse(Model model) {
        ChannelFlow f = new ChannelFlow(model, true);
        f.run();
        return f;
    }

    /**
     * The same walk on the graph alone (the model need not be bound): which producer channels are
     * joined into one set, and which sets are kept whatever the weights ({@link #whyKeptAlways}).
     */
    static ChannelFlow structure(Model model) {
        ChannelFlow f = new ChannelFlow(model, false);
        f.run();
        return f;
    }

    private int newAtom(boolean zero, String keptBecause) {
        int a = parent.size();
        parent.add(a);
        allZero.put(a, zero);
        if (keptBecause != null) keptReason.put(a, keptBecause);
        return a;
    }

    int find(int a) {
        while (parent.get(a) != a) {
            parent.set(a, parent.get(parent.get(a)));
            a = parent.get(a);
        }
        return a;
    }

    private void union(int a, int b, String via) {
        int ra = find(a), rb = find(b);
        if (ra == rb) return;
        parent.set(rb, ra);
        allZero.put(ra, allZero.get(ra) && allZero.get(rb));
        if (!keptReason.containsKey(ra) && keptReason.containsKey(rb)) keptReason.put(ra, keptReason.get(rb));
        joinedBy.putIfAbsent(ra, joinedBy.getOrDefault(rb, via));
    }

    private void keep(String tensor, String reason) {
        for (int a : atoms.get(tensor)) keep(a, reason);
    }

    private void keep(int atom, String reason) {
        keptReason.putIfAbsent(find(atom), reason);
    }

    /** Whether the channel with this atom leaves the thinned model. */
    boolean removable(int atom) {
        int r = find(atom);
        return !keptReason.containsKey(r) && allZero.get(r);
    }

    /** Why the set of this atom stays whatever the weights (from the graph alone), null when it may go. */
    String whyKeptAlways(int atom) {
        return keptReason.get(find(atom));
    }

    /** Why an all-zero channel stays (null when it goes). */
    String whyKept(int atom) {
        int r = find(atom);
        if (keptReason.containsKey(r)) return keptReason.get(r);
        if (!allZero.get(r)) return "its channels are joined by " + joinedBy.getOrDefault(r, "an Add or Multiply")
                + " with channels of other layers that are not all zero";
        return null;
    }

    private void run() {
        if (weights) {
            Backend b = model.backend();
            if (b == null) throw new IllegalStateException("thinning needs a bound model (call bind first)");
            for (Parameter p : model.parameters()) host.put(p.name(), b.download(p.value()));
        }
        for (Model.Input in : model.inputs()) {
            int a = newAtom(false, "it reaches graph input '" + in.name() + "' through an Add or Multiply");
            fill(in.name(), in.shape().dim(0), a, Float.NaN);
        }
        for (Model.Node n : model.nodes()) {
            Layer l = n.layer();
            String name = n.name();
            int channels = model.shapeOf(name).dim(0);
            switch (l) {
                case Dense d -> producer(name, d.kernel(), d.bias());
                case Conv2D c when c.groups() == 1 -> producer(name, c.kernel(), c.bias());
                case Layer cw when ChannelWise.is(cw) -> channelWise(n);
                case Permute pm when onlyFlattenReads(name) -> permuteForFlatten(n, pm);
                case Flatten fl -> flatten(n);
                // a Reshape to one dimension is a Flatten (row-major): ResNet-50 from ONNX (caffe2) ends
                // GlobalAveragePool [2048, 1, 1] -> Reshape [2048] -> Gemm, which kept its last 2048-wide convolutions whole
                case Reshape r when r.target().rank() == 1 -> flatten(n);
                case Add a -> join(n, false);
                case Multiply m -> join(n, true);
                case Concat k when k.axis() == 0 -> concat(n);
                default -> {
                    String why = "it reaches " + l.type() + " '" + name + "', which thinning does not see through";
                    for (String src : n.inputs()) keep(src, why);
                    int a = newAtom(false, "it comes from " + l.type() + " '" + name + "'");
                    fill(name, channels, a, Float.NaN);
                }
            }
        }
        keep(model.outputName(), "it reaches the model output '" + model.outputName() + "'");
        if (weights) foldChecks();
    }

    private void fill(String tensor, int channels, int atom, float value) {
        int[] at = new int[channels];
        Arrays.fill(at, atom);
        float[] v = new float[channels];
        Arrays.fill(v, value);
        atoms.put(tensor, at);
        consts.put(tensor, v);
    }

    private void producer(String name, Parameter kernel, Parameter bias) {
        ChannelLayout layout = ChannelLayout.of(kernel.name(), kernel.shape());
        boolean[] zero = weights ? layout.zeroChannels(host.get(kernel.name())) : new boolean[layout.channels()];
        float[] b = bias == null || !weights ? null : host.get(bias.name());
        int[] at = new int[layout.channels()];
        float[] v = new float[layout.channels()];
        for (int c = 0; c < at.length; c++) {
            at[c] = newAtom(zero[c], null);
            // an all-zero filter outputs its bias at every position, padding included
            v[c] = zero[c] ? (b == null ? 0f : b[c]) : Float.NaN;
        }
        firstAtom.put(name, at.length == 0 ? -1 : at[0]);
        kernels.put(name, kernel);
        zeroChannels.put(name, zero);
        atoms.put(name, at);
        consts.put(name, v);
    }

    /** A layer whose output channel c depends on input channel c only: atoms pass; constants go through the layer itself. */
    private void channelWise(Model.Node n) {
        String src = n.inputs().getFirst();
        if (!weights) {
            atoms.put(n.name(), atoms.get(src).clone());
            consts.put(n.name(), consts.get(src).clone()); // all NaN
            return;
        }
        Shape inShape = model.shapeOf(src), outShape = model.shapeOf(n.name());
        int channels = inShape.dim(0);
        float[] in = consts.get(src);
        int inBlock = (int) (inShape.size() / channels), outBlock = (int) (outShape.size() / channels);
        float[] x = new float[(int) inShape.size()];
        for (int c = 0; c < channels; c++) Arrays.fill(x, c * inBlock, (c + 1) * inBlock, Float.isNaN(in[c]) ? 0f : in[c]);
        Backend b = model.backend();
        float[] y;
        try (Tensor t = b.upload(x, inShape.withBatch(1))) {
            y = b.download(n.layer().forward(ExecContext.inference(b), List.of(t)));
        }
        float[] out = new float[channels];
        for (int c = 0; c < channels; c++) {
            float v = y[c * outBlock];
            for (int k = 1; k < outBlock && !Float.isNaN(v); k++) if (y[c * outBlock + k] != v) v = Float.NaN;
            out[c] = Float.isNaN(in[c]) ? Float.NaN : v;
        }
        atoms.put(n.name(), atoms.get(src).clone());
        consts.put(n.name(), out);
    }

    /** Whether {@code tensor} is read by Flatten layers (or Reshapes to one dimension, which are Flattens) only (and is not the model output). */
    private boolean onlyFlattenReads(String tensor) {
        if (tensor.equals(model.outputName())) return false;
        boolean any = false;
        for (Model.Node n : model.nodes()) {
            if (!n.inputs().contains(tensor)) continue;
            if (!(n.layer() instanceof Flatten || n.layer() instanceof Reshape r && r.target().rank() == 1)) return false;
            any = true;
        }
        return any;
    }

    /**
     * A Permute whose output only a Flatten reads (Keras' channels_last Flatten, imported as
     * Permute [C, H, W] -> [H, W, C] then Flatten): each element of its output gets the atom and
     * constant of the input channel it came from, kept in {@link #elements} for the Flatten. Removing
     * input channels removes whole slices of the permuted tensor, so the remaining elements keep
     * their order and the Dense after the Flatten drops exactly the features of removed channels.
     */
    private void permuteForFlatten(Model.Node n, Permute pm) {
        String src = n.inputs().getFirst();
        Shape outShape = model.shapeOf(n.name());
        int[] perm = pm.perm(), outDims = outShape.dims();
        int rank = outDims.length;
        int size = (int) outShape.size();
        int[] at = new int[size];
        float[] v = new float[size];
        int channelAxis = 0; // the output axis that is the input's axis 0
        while (perm[channelAxis] != 0) channelAxis++;
        int[] idx = new int[rank]; // the output element's multi-index, row-major
        for (int f = 0; f < size; f++) {
            int channel = idx[channelAxis];
            at[f] = atoms.get(src)[channel];
            v[f] = consts.get(src)[channel];
            for (int i = rank - 1; i >= 0 && ++idx[i] == outDims[i]; i--) idx[i] = 0;
        }
        elements.put(n.name(), at);
        elementConsts.put(n.name(), v);
    }

    /** Flatten of [C, ...]: feature f of the output is channel f / block of the input (row-major NCHW). */
    private void flatten(Model.Node n) {
        String src = n.inputs().getFirst();
        if (elements.containsKey(src)) { // after a Permute: every element already has its channel's atom
            atoms.put(n.name(), elements.get(src).clone());
            consts.put(n.name(), elementConsts.get(src).clone());
            return;
        }
        Shape inShape = model.shapeOf(src);
        int channels = inShape.dim(0), block = (int) (inShape.size() / channels);
        int[] at = new int[(int) inShape.size()];
        float[] v = new float[at.length];
        for (int f = 0; f < at.length; f++) {
            at[f] = atoms.get(src)[f / block];
            v[f] = consts.get(src)[f / block];
        }
        atoms.put(n.name(), at);
        consts.put(n.name(), v);
    }

    /** Add/Multiply: position c of every input is one channel set; the constant is their sum/product. */
    private void join(Model.Node n, boolean multiply) {
        String first = n.inputs().getFirst();
        int channels = model.shapeOf(n.name()).dim(0);
        int[] at = atoms.get(first).clone();
        float[] v = consts.get(first).clone();
        String via = n.layer().type() + " '" + n.name() + "'";
        for (String src : n.inputs().subList(1, n.inputs().size())) {
            for (int c = 0; c < channels; c++) {
                union(at[c], atoms.get(src)[c], via);
                float w = consts.get(src)[c];
                v[c] = multiply ? v[c] * w : v[c] + w;
            }
        }
        atoms.put(n.name(), at);
        consts.put(n.name(), v);
    }

    private void concat(Model.Node n) {
        int total = model.shapeOf(n.name()).dim(0), off = 0;
        int[] at = new int[total];
        float[] v = new float[total];
        for (String src : n.inputs()) {
            int[] a = atoms.get(src);
            System.arraycopy(a, 0, at, off, a.length);
            System.arraycopy(consts.get(src), 0, v, off, a.length);
            off += a.length;
        }
        atoms.put(n.name(), at);
        consts.put(n.name(), v);
    }

    /** Keeps the sets a consumer cannot drop exactly (see the class comment). */
    private void foldChecks() {
        for (Model.Node n : model.nodes()) {
            boolean padded;
            switch (n.layer()) {
                case Dense d -> padded = false;
                case Conv2D c when c.groups() == 1 ->
                        padded = c.padTop() + c.padLeft() + c.padBottom() + c.padRight() > 0;
                default -> { continue; }
            }
            String src = n.inputs().getFirst();
            int[] at = atoms.get(src);
            float[] v = consts.get(src);
            for (int k = 0; k < at.length; k++) {
                if (!removable(at[k])) continue;
                if (Float.isNaN(v[k]) || Float.isInfinite(v[k]))
                    keep(at[k], "its value is not one constant where " + n.layer().type() + " '" + n.name() + "' reads it"
                            + " (zero padding or padded average pooling of a non-zero bias)");
                else if (padded && v[k] != 0f)
                    keep(at[k], "Conv2D '" + n.name() + "' pads its input with zeros, so the channel's constant value "
                            + v[k] + " cannot be folded into its bias");
            }
        }
    }
}
