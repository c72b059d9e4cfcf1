package dev.shears.kernels;

/**
 * Activations forward and backward, and PReLU (activation.cu). {@code code} is the ordinal of
 * {@code dev.shears.core.backend.Activation} (LINEAR 0 ... HARD_SIGMOID 9, RELU_CAPPED 10, HARD_SWISH 11, SWISH 12); for
 * RELU_CAPPED {@code alpha} is the cap, for HARD_SIGMOID {@code alpha} the slope and {@code beta} the offset
 * (the other codes ignore {@code beta}).
 */
public final class ActivationKernels {
    /** Highest activation code the kernels know. */
    public static final int MAX_CODE = 12;

    private final KernelRuntime rt;
    private final Kernel forward, backward, prelu, preluDx, preluSlope, preluSlopePartial, partsFinish;

    public ActivationKernels(KernelRuntime rt) {
        this.rt = rt;
        this.forward = rt.kernel("shears_activation");
        this.backward = rt.kernel("shears_activation_backward");
        this.prelu = rt.kernel("shears_prelu");
        this.preluDx = rt.kernel("shears_prelu_backward_dx");
        this.preluSlope = rt.kernel("shears_prelu_backward_slope");
        this.preluSlopePartial = rt.kernel("shears_prelu_backward_slope_partial");
        // adds [channels, parts] double partial sums to a float per channel, in order (shared with the bias gradient); accumulating
        this.partsFinish = rt.kernel("shears_channel_parts_finish");
    }

    private static void check(int code) {
        if (code < 0 || code > MAX_CODE) throw new IllegalArgumentException("activation code " + code + " outside [0, " + MAX_CODE + "]");
    }

    public void forward(int code, float alpha, float beta, long x, long y, long n) {
        check(code);
        if (n == 0) return;
        rt.args().i32(code).f32(alpha).f32(beta).ptr(x).ptr(y).i64(n);
        rt.launch1d(forward, n);
    }

    public void backward(int code, float alpha, float beta, long x, long y, long dy, long dx, long n) {
        check(code);
        if (n == 0) return;
        rt.args().i32(code).f32(alpha).f32(beta).ptr(x).ptr(y).ptr(dy).ptr(dx).i64(n);
        rt.launch1d(backward, n);
    }

    public void prelu(long x, long slope, long y, long outer, int channels, long inner) {
        long n = outer * channels * inner;
        if (n == 0) return;
        rt.args().ptr(x).ptr(slope).ptr(y).i64(outer).i32(channels).i64(inner);
        rt.launch1d(prelu, n);
    }

    /**
     * dSlope first (it reads dy), then dx, so dx may alias dy. The slope gradient runs one block per
     * channel when the channels fill the GPU; with few ({@link ChannelParts#of} above 1) several
     * blocks per channel write double partial sums that a second launch adds in a fixed order.
     */
    public void preluBackward(long x, long slope, long dy, long dx, long dSlope, long outer, int channels, long inner) {
        long n = outer * channels * inner;
        if (n == 0) return;
        int parts = ChannelParts.of(channels, outer * inner, rt.maxGrid());
        if (parts == 1) {
            rt.args().ptr(x).ptr(dy).ptr(dSlope).i64(outer).i32(channels).i64(inner);
            rt.launch(preluSlope, channels, 1, KernelRuntime.BLOCK, 0);
        } else {
            long partial = rt.memory().allocate(8L * channels * parts);
            try {
                rt.args().ptr(x).ptr(dy).ptr(partial).i64(outer).i32(channels).i64(inner);
                rt.launch(preluSlopePartial, channels, parts, KernelRuntime.BLOCK, 0);
                rt.args().ptr(partial).ptr(dSlope).i32(channels).i32(parts).i32(1);
                rt.launch1d(partsFinish, channels);
            } finally {
                rt.memory().free(partial);
            }
        }
        rt.args().ptr(x).ptr(slope).ptr(dy).ptr(dx).i64(outer).i32(channels).i64(inner);
        rt.launch1d(preluDx, n);
    }
}
