package dev.shears.kernels;

/** Batch normalisation over [outer, channels, inner] (batch_norm.cu): one block per channel for training and backward. */
public final class BatchNormKernels {
    private final KernelRuntime rt;
    private final Kernel train, inference, backward;

    public BatchNormKernels(KernelRuntime rt) {
        this.rt = rt;
        this.train = rt.kernel("shears_batch_norm_train");
        this.inference = rt.kernel("shears_batch_norm_inference");
        this.backward = rt.kernel("shears_batch_norm_backward");
    }

    public void train(long x, long gamma, long beta, long runningMean, long runningVar, float momentum, float eps,
                      long y, long saveMean, long saveInvStd, long outer, int channels, long inner) {
        if (channels == 0) return;
        if (outer * inner == 0) throw new IllegalArgumentException("batchNormTrain: no values per channel (outer*inner = 0)");
        rt.args().ptr(x).ptr(gamma).ptr(beta).ptr(runningMean).ptr(runningVar).f32(momentum).f32(eps)
                .ptr(y).ptr(saveMean).ptr(saveInvStd).i64(outer).i32(channels).i64(inner);
        rt.launch(train, channels, 1, KernelRuntime.BLOCK, 0);
    }

    public void inference(long x, long gamma, long beta, long runningMean, long runningVar, float eps, long y,
                          long outer, int channels, long inner) {
        long n = outer * channels * inner;
        if (n == 0) return;
        rt.args().ptr(x).ptr(gamma).ptr(beta).ptr(runningMean).ptr(runningVar).f32(eps).ptr(y)
                .i64(outer).i32(channels).i64(inner);
        rt.launch1d(inference, n);
    }

    public void backward(long x, long dy, long gamma, long saveMean, long saveInvStd, long dx, long dGamma, long dBeta,
                         long outer, int channels, long inner) {
        if (channels == 0 || outer * inner == 0) return;
        rt.args().ptr(x).ptr(dy).ptr(gamma).ptr(saveMean).ptr(saveInvStd).ptr(dx).ptr(dGamma).ptr(dBeta)
                .i64(outer).i32(channels).i64(inner);
        rt.launch(backward, channels, 1, KernelRuntime.BLOCK, 0);
    }
}
