package dev.shears.pruning.thin;

import dev.shears.core.backend.Backend;
import dev.shears.core.nn.Layer;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.Parameter;
import dev.shears.core.nn.layers.*;
import dev.shears.core.tensor.Shape;
import dev.shears.pruning.ChannelWise;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Thinning: turns a model whose Dense/Conv2D layers have whole output channels at zero (channel
 * pruning) into a smaller dense model that computes the same outputs at inference. A removed
 * channel leaves its producer's kernel and bias, every channel-wise layer after it (BatchNorm's
 * four vectors, a PReLU slope), and the matching inputs of the Dense/Conv2D kernels that read it
 * (after a Flatten: its block of H*W features); its constant value is folded into the reader's
 * bias. Which channels may go, and why others stay, is {@link ChannelFlow}'s analysis. The result
 * carries no masks: what was masked is either gone or still exactly zero.
 */
public final class ChannelThinning {
    private ChannelThinning() {}

    /** Thins {@code masked} (bound to a backend; it is not changed). */
    public static ThinnedModel thin(Model masked) {
        ChannelFlow flow = ChannelFlow.analyse(masked);
        Backend backend = masked.backend();
        Map<String, boolean[]> keep = new LinkedHashMap<>();
        for (var e : flow.atoms.entrySet()) {
            boolean[] k = new boolean[e.getValue().length];
            for (int i = 0; i < k.length; i++) k[i] = !flow.removable(e.getValue()[i]);
            keep.put(e.getKey(), k);
        }

        Map<String, Integer> removed = new TreeMap<>();
        List<String> warnings = new ArrayList<>();
        Model.Builder b = Model.builder();
        for (Model.Input in : masked.inputs()) b.input(in.name(), in.shape());
        Map<Parameter, float[]> values = new LinkedHashMap<>();
        for (Model.Node n : masked.nodes()) {
            Layer l = n.layer();
            boolean[] inKeep = keep.get(n.inputs().getFirst());
            Layer copy = switch (l) {
                case Dense d -> {
                    report(flow, n.name(), keep.get(n.name()), removed, warnings);
                    yield dense(d, inKeep, keep.get(n.name()), flow.consts.get(n.inputs().getFirst()), flow.host, values);
                }
                case Conv2D c -> {
                    if (c.groups() == 1) report(flow, n.name(), keep.get(n.name()), removed, warnings);
                    else if (ChannelWise.depthwise(c) && count(inKeep) < inKeep.length)
                        removed.put(n.name(), inKeep.length - count(inKeep)); // they left with the producer's channels
                    yield conv(c, inKeep, keep.get(n.name()), flow.consts.get(n.inputs().getFirst()), flow.host, values);
                }
                case BatchNorm bn -> {
                    BatchNorm t = new BatchNorm(bn.name(), count(inKeep), bn.epsilon(), bn.momentum());
                    values.put(t.gamma(), slice(flow.host.get(bn.gamma().name()), bn.gamma().shape(), inKeep));
                    values.put(t.beta(), slice(flow.host.get(bn.beta().name()), bn.beta().shape(), inKeep));
                    values.put(t.movingMean(), slice(flow.host.get(bn.movingMean().name()), bn.movingMean().shape(), inKeep));
                    values.put(t.movingVariance(), slice(flow.host.get(bn.movingVariance().name()), bn.movingVariance().shape(), inKeep));
                    yield t;
                }
                case PReLU p -> {
                    Shape s = p.slope().shape();
                    int[] dims = s.dims();
                    dims[0] = count(inKeep);
                    PReLU t = new PReLU(p.name(), Shape.of(dims));
                    values.put(t.slope(), slice(flow.host.get(p.slope().name()), s, inKeep));
                    yield t;
                }
                default -> sameConfig(l);
            };
            b.add(copy, n.inputs());
        }
        Model thin = b.output(masked.outputName()).build().setClassNames(masked.classNames()); // the outputs keep their meaning
        for (var e : values.entrySet()) e.getKey().setValue(backend.upload(e.getValue(), e.getKey().shape()));
        thin.bind(backend, 0);
        return new ThinnedModel(thin, removed, warnings, masked.parameterCount(), thin.parameterCount());
    }

    /** Counts the producer's removed channels and explains the all-zero ones that stay. */
    private static void report(ChannelFlow flow, String layer, boolean[] outKeep,
                               Map<String, Integer> removed, List<String> warnings) {
        int gone = outKeep.length - count(outKeep);
        if (gone > 0) removed.put(layer, gone);
        boolean[] zero = flow.zeroChannels.get(layer);
        int first = flow.firstAtom.get(layer), stay = 0;
        String why = null;
        for (int c = 0; c < zero.length; c++) {
            if (!zero[c] || flow.removable(first + c)) continue;
            stay++;
            if (why == null) why = flow.whyKept(first + c);
        }
        if (stay > 0)
            warnings.add("layer '" + layer + "': " + stay + " of " + zero.length + " output channels are all zero but stay in the"
                    + " thinned model: " + why);
    }

    private static Dense dense(Dense d, boolean[] inKeep, boolean[] outKeep, float[] inConst,
                               Map<String, float[]> host, Map<Parameter, float[]> values) {
        int in = d.inFeatures(), out = d.outFeatures(), in2 = count(inKeep), out2 = count(outKeep);
        float[] w = host.get(d.kernel().name());
        float[] bias = d.bias() == null ? new float[out] : host.get(d.bias().name()).clone();
        boolean folded = false;
        // a removed input i holds the constant v in the masked model: v * W[i, :] moves into the bias
        for (int i = 0; i < in; i++) {
            if (inKeep[i] || inConst[i] == 0f) continue;
            folded = true;
            for (int o = 0; o < out; o++) bias[o] += inConst[i] * w[i * out + o];
        }
        Dense t = new Dense(d.name(), in2, out2, d.bias() != null || folded);
        float[] w2 = new float[in2 * out2];
        int r = 0;
        for (int i = 0; i < in; i++) {
            if (!inKeep[i]) continue;
            int col = 0;
            for (int o = 0; o < out; o++) if (outKeep[o]) w2[r * out2 + col++] = w[i * out + o];
            r++;
        }
        values.put(t.kernel(), w2);
        if (t.bias() != null) values.put(t.bias(), slice(bias, Shape.of(out), outKeep));
        return t;
    }

    private static Conv2D conv(Conv2D c, boolean[] inKeep, boolean[] outKeep, float[] inConst,
                               Map<String, float[]> host, Map<Parameter, float[]> values) {
        int out = c.outChannels(), inG = c.inChannels() / c.groups(), taps = c.kernelH() * c.kernelW();
        float[] w = host.get(c.kernel().name());
        if (ChannelWise.depthwise(c)) {
            // channel-wise (ChannelFlow): output channel o is input channel o's filter, so both keep masks are the input's
            int kept = count(inKeep);
            Conv2D t = new Conv2D(c.name(), kept, kept, c.kernelH(), c.kernelW(), c.strideH(), c.strideW(), c.padTop(), c.padLeft(),
                    c.padBottom(), c.padRight(), c.dilationH(), c.dilationW(), kept, c.bias() != null);
            values.put(t.kernel(), slice(w, c.kernel().shape(), inKeep));
            if (t.bias() != null) values.put(t.bias(), slice(host.get(c.bias().name()), c.bias().shape(), inKeep));
            return t;
        }
        if (c.groups() != 1) {
            // ChannelFlow keeps a grouped convolution's inputs and outputs whole
            Conv2D t = resized(c, c.inChannels(), out, c.bias() != null);
            values.put(t.kernel(), w.clone());
            if (t.bias() != null) values.put(t.bias(), host.get(c.bias().name()).clone());
            return t;
        }
        float[] bias = c.bias() == null ? new float[out] : host.get(c.bias().name()).clone();
        boolean folded = false;
        // a removed input channel i is the constant v everywhere (ChannelFlow allows v != 0 only
        // without padding): every output position sees v * (sum of the filter's taps on channel i)
        for (int i = 0; i < inG; i++) {
            if (inKeep[i] || inConst[i] == 0f) continue;
            folded = true;
            for (int o = 0; o < out; o++) {
                double s = 0;
                for (int k = 0; k < taps; k++) s += w[(o * inG + i) * taps + k];
                bias[o] += (float) (inConst[i] * s);
            }
        }
        int in2 = count(inKeep), out2 = count(outKeep);
        Conv2D t = resized(c, in2, out2, c.bias() != null || folded);
        float[] w2 = new float[out2 * in2 * taps];
        int p = 0;
        for (int o = 0; o < out; o++) {
            if (!outKeep[o]) continue;
            for (int i = 0; i < inG; i++) {
                if (!inKeep[i]) continue;
                System.arraycopy(w, (o * inG + i) * taps, w2, p, taps);
                p += taps;
            }
        }
        values.put(t.kernel(), w2);
        if (t.bias() != null) values.put(t.bias(), slice(bias, Shape.of(out), outKeep));
        return t;
    }

    private static Conv2D resized(Conv2D c, int in, int out, boolean bias) {
        return new Conv2D(c.name(), in, out, c.kernelH(), c.kernelW(), c.strideH(), c.strideW(), c.padTop(), c.padLeft(),
                c.padBottom(), c.padRight(), c.dilationH(), c.dilationW(), c.groups(), bias);
    }

    /** A fresh layer with {@code l}'s configuration (layers hold forward buffers, so the thinned model shares none). */
    private static Layer sameConfig(Layer l) {
        String name = l.name();
        return switch (l) {
            case ActivationLayer a -> new ActivationLayer(name, a.function(), a.alpha(), a.beta());
            case Dropout d -> new Dropout(name, d.rate());
            case Identity i -> new Identity(name);
            case Rescale r -> new Rescale(name, r.scale(), r.offset());
            case MaxPool2D p -> new MaxPool2D(name, p.kernelH(), p.kernelW(), p.strideH(), p.strideW(), p.padTop(), p.padLeft(),
                    p.padBottom(), p.padRight(), p.ceilMode());
            case AvgPool2D p -> new AvgPool2D(name, p.kernelH(), p.kernelW(), p.strideH(), p.strideW(), p.padTop(), p.padLeft(),
                    p.padBottom(), p.padRight(), p.ceilMode(), p.countIncludePad());
            case ZeroPad2D z -> new ZeroPad2D(name, z.top(), z.left(), z.bottom(), z.right());
            case GlobalAvgPool2D g -> new GlobalAvgPool2D(name, g.keepDims());
            case GlobalMaxPool2D g -> new GlobalMaxPool2D(name, g.keepDims());
            case Flatten f -> new Flatten(name);
            case Reshape r when r.target().rank() == 1 -> new Flatten(name); // its fixed target has the old width (ChannelFlow flattens it)
            case Reshape r -> new Reshape(name, r.target());
            case Permute p -> new Permute(name, p.perm());
            case Softmax s -> new Softmax(name, s.log());
            case LRN n -> new LRN(name, n.size(), n.alpha(), n.beta(), n.bias());
            case Add a -> new Add(name);
            case Multiply m -> new Multiply(name);
            case Concat k -> new Concat(name, k.axis());
            default -> throw new IllegalArgumentException("thinning cannot rebuild layer '" + name + "' of type " + l.type()
                    + "; export the model without --thin");
        };
    }

    /** The rows of {@code v} (viewed as [dim0, rest]) whose axis-0 index is kept. */
    static float[] slice(float[] v, Shape s, boolean[] keep) {
        int rows = s.dim(0), block = (int) (s.size() / rows);
        if (keep.length != rows) throw new IllegalStateException("channel count " + keep.length + " does not match " + s);
        float[] out = new float[count(keep) * block];
        int p = 0;
        for (int r = 0; r < rows; r++) {
            if (!keep[r]) continue;
            System.arraycopy(v, r * block, out, p, block);
            p += block;
        }
        return out;
    }

    private static int count(boolean[] keep) {
        int n = 0;
        for (boolean k : keep) if (k) n++;
        return n;
    }
}
