package dev.shears.pruning;

import dev.shears.core.tensor.Shape;

/**
 * Where a kernel's output channels lie, for channel (filter) pruning and thinning:
 * <ul>
 *   <li>Dense kernel W [in, out] (the Keras layout, y = x W): output unit j is column j, the
 *       elements {@code i*out + j} for every input i;</li>
 *   <li>Conv2D kernel [out, in, kh, kw] (OIHW): output channel o is one filter, the contiguous
 *       block {@code o*in*kh*kw .. (o+1)*in*kh*kw - 1}.</li>
 * </ul>
 * Told apart by rank, the only two shapes of prunable kernels.
 *
 * @param channels output channels (units) of the kernel
 * @param stride   distance between consecutive elements of one channel (out for Dense, 1 for Conv2D)
 * @param span     elements per channel (in for Dense, in*kh*kw for Conv2D)
 * @param step     distance between the first elements of channels c and c+1 (1 for Dense, span for Conv2D)
 */
public record ChannelLayout(int channels, int stride, int span, int step) {

    /** @throws IllegalArgumentException naming the parameter when its shape is neither a Dense nor a Conv2D kernel */
    public static ChannelLayout of(String name, Shape s) {
        return switch (s.rank()) {
            case 2 -> new ChannelLayout(s.dim(1), s.dim(1), s.dim(0), 1);
            case 4 -> { int span = (int) s.sizeFrom(1); yield new ChannelLayout(s.dim(0), 1, span, span); }
            default -> throw new IllegalArgumentException(name + " has shape " + s + ": channel pruning takes Dense kernels [in, out] "
                    + "and Conv2D kernels [out, in, kh, kw] only (exclude it from the modifier's params)");
        };
    }

    /** Flat index of the {@code k}-th element of channel {@code c}. */
    public int index(int c, int k) { return c * step + k * stride; }

    /** The output channel the flat element {@code i} belongs to. */
    public int channelOf(int i) { return step == 1 ? i % channels : i / step; }

    /** Sum of |w| over each output channel, [channels]; summed in double so ties are not rounding artefacts. */
    public double[] l1Norms(float[] w) {
        double[] out = new double[channels];
        for (int c = 0; c < channels; c++) {
            double s = 0;
            for (int k = 0; k < span; k++) s += Math.abs(w[index(c, k)]);
            out[c] = s;
        }
        return out;
    }

    /** Whether every element of each output channel is masked (0 in {@code mask}), [channels]. */
    public boolean[] maskedChannels(byte[] mask) {
        return wholeChannels(i -> mask[i] == 0);
    }

    /** Sets the mask of every element of output channel {@code c} to 0. */
    public void clear(byte[] mask, int c) {
        for (int k = 0; k < span; k++) mask[index(c, k)] = 0;
    }

    /** Whether every weight of each output channel is zero, [channels]. */
    public boolean[] zeroChannels(float[] w) {
        return wholeChannels(i -> w[i] == 0f);
    }

    /** Whether {@code zero} holds at every element index of each output channel, [channels]. */
    private boolean[] wholeChannels(java.util.function.IntPredicate zero) {
        boolean[] out = new boolean[channels];
        for (int c = 0; c < channels; c++) {
            boolean all = true;
            for (int k = 0; k < span && all; k++) all = zero.test(index(c, k));
            out[c] = all;
        }
        return out;
    }

    /** Number of output channels whose weights are all zero. */
    public int zeroChannelCount(float[] w) {
        int n = 0;
        for (boolean z : zeroChannels(w)) if (z) n++;
        return n;
    }
}
