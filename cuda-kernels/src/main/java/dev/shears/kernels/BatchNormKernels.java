package dev.shears.kernels;

/**
 * Batch normalisation over [outer, channels, inner] (batch_norm.cu). Training and backward run one
 * block per channel when the channels fill the GPU; with few ({@link ChannelParts#of} above 1)
 * each channel is split over several blocks: training in three launches (sums, squared deviations
 * from the mean, normalisation), backward in two (sums, dx), through double partial sums added
 * in a fixed order (deterministic, no atomics).
 */
public final class BatchNormKernels {
    private final KernelRuntime rt;
    private final Kernel train, trainSums, trainSquares, trainApply, inference, backward, backwardSums, backwardApply;

    public BatchNormKernels(KernelRuntime rt) {
        this.rt = rt;
        this.train = rt.kernel("shears_batch_norm_train");
        this.trainSums = rt.kernel("shears_batch_norm_train_sums");
        this.trainSquares = rt.kernel("shears_batch_norm_train_squares");
        this.trainApply = rt.kernel("shears_batch_norm_train_apply");
        this.inference = rt.kernel("shears_batch_norm_inference");
        this.backward = rt.kernel("shears_batch_norm_backward");
        this.backwardSums = rt.kernel("shears_batch_norm_backward_sums");
        this.backwardApply = rt.kernel("shears_batch_norm_backward_apply");
    }

    public void train(long x, long gamma, long beta, long runningMean, long runningVar, float momentum, float eps,
                      long y, long saveMean, long saveInvStd, long outer, int channels, long inner) {
        if (channels == 0) return;
        if (outer * inner == 0) throw new IllegalArgumentException("batchNormTrain: no values per channel (outer*inner = 0)");
        int parts = ChannelParts.of(channels, outer * inner, rt.maxGrid());
        if (parts == 1) {
            rt.args().ptr(x).ptr(gamma).ptr(beta).ptr(runningMean).ptr(runningVar).f32(momentum).f32(eps)
                    .ptr(y).ptr(saveMean).ptr(saveInvStd).i64(outer).i32(channels).i64(inner);
            rt.launch(train, channels, 1, KernelRuntime.BLOCK, 0);
            return;
        }
        // [2, channels, parts]: the sums of x, then of (x - mean)^2
        long partials = (long) channels * parts;
        long sums = rt.memory().allocate(16L * partials), squares = sums + 8L * partials;
        try {
            rt.args().ptr(x).ptr(sums).i64(outer).i32(channels).i64(inner);
            rt.launch(trainSums, channels, parts, KernelRuntime.BLOCK, 0);
            rt.args().ptr(x).ptr(sums).ptr(squares).i64(outer).i32(channels).i64(inner);
            rt.launch(trainSquares, channels, parts, KernelRuntime.BLOCK, 0);
            rt.args().ptr(x).ptr(gamma).ptr(beta).ptr(runningMean).ptr(runningVar).f32(momentum).f32(eps)
                    .ptr(y).ptr(saveMean).ptr(saveInvStd).ptr(sums).ptr(squares).i64(outer).i32(channels).i64(inner);
            rt.launch(trainApply, channels, parts, KernelRuntime.BLOCK, 0);
        } finally {
            rt.memory().free(sums);
        }
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
        int parts = ChannelParts.of(channels, outer * inner, rt.maxGrid());
        if (parts == 1) {
            rt.args().ptr(x).ptr(dy).ptr(gamma).ptr(saveMean).ptr(saveInvStd).ptr(dx).ptr(dGamma).ptr(dBeta)
                    .i64(outer).i32(channels).i64(inner);
            rt.launch(backward, channels, 1, KernelRuntime.BLOCK, 0);
            return;
        }
        // [2, channels, parts]: the sums of dy, then of dy * xhat
        long sums = rt.memory().allocate(16L * channels * parts);
        try {
            rt.args().ptr(x).ptr(dy).ptr(saveMean).ptr(saveInvStd).ptr(sums).i64(outer).i32(channels).i64(inner);
            rt.launch(backwardSums, channels, parts, KernelRuntime.BLOCK, 0);
            rt.args().ptr(x).ptr(dy).ptr(gamma).ptr(saveMean).ptr(saveInvStd).ptr(sums).ptr(dx).ptr(dGamma).ptr(dBeta)
                    .i64(outer).i32(channels).i64(inner);
            rt.launch(backwardApply, channels, parts, KernelRuntime.BLOCK, 0);
        } finally {
            rt.memory().free(sums);
        }
    }
}
