package dev.shears.kernels;

/** Bias add and bias gradient over [outer, channels, inner] (bias.cu). */
public final class BiasKernels {
    private final KernelRuntime rt;
    private final Kernel addBias, biasGrad, biasGradPartial, partsFinish;

    public BiasKernels(KernelRuntime rt) {
        this.rt = rt;
        this.addBias = rt.kernel("shears_add_bias");
        this.biasGrad = rt.kernel("shears_bias_grad");
        this.biasGradPartial = rt.kernel("shears_bias_grad_partial");
        this.partsFinish = rt.kernel("shears_channel_parts_finish");
    }

    public void addBias(long x, long bias, long outer, int channels, long inner) {
        long n = outer * channels * inner;
        if (n == 0) return;
        rt.args().ptr(x).ptr(bias).i64(outer).i32(channels).i64(inner);
        rt.launch1d(addBias, n);
    }

    /**
     * One block per channel when the channels fill the GPU ({@link ChannelParts#of} is 1); otherwise
     * {@code parts} blocks per channel write partial sums that a second launch adds in a fixed
     * order (deterministic, no atomics).
     */
    public void biasGrad(long dy, long dBias, long outer, int channels, long inner, boolean accumulate) {
        if (channels == 0) return;
        int parts = ChannelParts.of(channels, outer * inner, rt.maxGrid());
        if (parts == 1) {
            rt.args().ptr(dy).ptr(dBias).i64(outer).i32(channels).i64(inner).i32(accumulate ? 1 : 0);
            rt.launch(biasGrad, channels, 1, KernelRuntime.BLOCK, 0);
            return;
        }
        long partial = rt.memory().allocate(8L * channels * parts);
        try {
            rt.args().ptr(dy).ptr(partial).i64(outer).i32(channels).i64(inner);
            rt.launch(biasGradPartial, channels, parts, KernelRuntime.BLOCK, 0);
            rt.args().ptr(partial).ptr(dBias).i32(channels).i32(parts).i32(accumulate ? 1 : 0);
            rt.launch1d(partsFinish, channels);
        } finally {
            rt.memory().free(partial);
        }
    }
}
