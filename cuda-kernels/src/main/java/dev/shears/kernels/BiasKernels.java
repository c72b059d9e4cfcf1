package dev.shears.kernels;

/** Bias add and bias gradient over [outer, channels, inner] (bias.cu). */
public final class BiasKernels {
    private final KernelRuntime rt;
    private final Kernel addBias, biasGrad;

    public BiasKernels(KernelRuntime rt) {
        this.rt = rt;
        this.addBias = rt.kernel("shears_add_bias");
        this.biasGrad = rt.kernel("shears_bias_grad");
    }

    public void addBias(long x, long bias, long outer, int channels, long inner) {
        long n = outer * channels * inner;
        if (n == 0) return;
        rt.args().ptr(x).ptr(bias).i64(outer).i32(channels).i64(inner);
        rt.launch1d(addBias, n);
    }

    /** One block per channel. */
    public void biasGrad(long dy, long dBias, long outer, int channels, long inner, boolean accumulate) {
        if (channels == 0) return;
        rt.args().ptr(dy).ptr(dBias).i64(outer).i32(channels).i64(inner).i32(accumulate ? 1 : 0);
        rt.launch(biasGrad, channels, 1, KernelRuntime.BLOCK, 0);
    }
}
