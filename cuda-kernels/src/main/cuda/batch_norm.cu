// Batch normalisation over x viewed as [outer, channels, inner], statistics per channel.
// CPU twins: CpuBackend.batchNormTrain, batchNormInference, batchNormBackward.
// Training and backward reduce each channel in double, then sweep it again to write the outputs
// (the second read mostly hits L2). With channels enough to fill the GPU, one block per channel
// does it all in one launch; with few, each channel is split over `parts` blocks (a grid
// (channels, parts); see channel_part_first in common.cuh) that write double partial sums, and
// the next launch's blocks each add a channel's partial sums in the same fixed order
// (sum_parts_all): deterministic, no atomics. The launcher (BatchNormKernels) picks.
#include "common.cuh"

// Channel c's normalisation from its mean and sum of squared deviations (biased variance), as
// the CPU twin computes it: invStd in double rounded to float, then y = a*x + b.
struct BnChannel {
    float mean, invStd, a, b;
};

__device__ __forceinline__ BnChannel bn_channel(double mean, double sq, i64 count, float eps, float gamma, float beta) {
    BnChannel r;
    double var = sq / (double)count;
    r.invStd = (float)(1.0 / sqrt(var + (double)eps));
    r.mean = (float)mean;
    r.a = gamma * r.invStd;
    r.b = beta - r.mean * r.a;
    return r;
}

// saveMean/saveInvStd for backward; running = momentum*running + (1-momentum)*batch, the running
// variance taking the unbiased batch variance (Keras convention). One thread per channel.
__device__ __forceinline__ void bn_save(int c, BnChannel s, double sq, i64 count, float momentum, float* runningMean,
                                        float* runningVar, float* saveMean, float* saveInvStd) {
    saveMean[c] = s.mean;
    saveInvStd[c] = s.invStd;
    // one value per channel: the biased variance (0) rather than a division by zero
    double unbiased = count > 1 ? sq / (double)(count - 1) : sq / (double)count;
    runningMean[c] = momentum * runningMean[c] + (1.0f - momentum) * s.mean;
    runningVar[c] = momentum * runningVar[c] + (1.0f - momentum) * (float)unbiased;
}

// y = gamma * (x - mean) * invStd + beta with the batch statistics (biased variance), one block
// per channel; saveMean/saveInvStd [channels] for backward; running statistics as bn_save.
extern "C" __global__ void shears_batch_norm_train(
        const float* x, const float* gamma, const float* beta, float* runningMean, float* runningVar,
        float momentum, float eps, float* y, float* saveMean, float* saveInvStd,
        i64 outer, int channels, i64 inner) {
    __shared__ double scratch[32];
    int c = blockIdx.x;
    i64 count = outer * inner;
    double s = 0.0;
    i64 t = threadIdx.x, step = blockDim.x;  // each thread's share of the channel (for_each_in_channel)
    for_each_in_channel(c, channels, outer, inner, t, step, [&](i64 idx) { s += x[idx]; });
    double mean = block_allsum_d(s, scratch) / (double)count;
    // Second pass over centred values: accurate even when |mean| >> std.
    double q = 0.0;
    for_each_in_channel(c, channels, outer, inner, t, step, [&](i64 idx) {
        double d = (double)x[idx] - mean;
        q += d * d;
    });
    double sq = block_allsum_d(q, scratch);
    BnChannel n = bn_channel(mean, sq, count, eps, gamma[c], beta[c]);
    for_each_in_channel(c, channels, outer, inner, t, step, [&](i64 idx) { y[idx] = n.a * x[idx] + n.b; });
    if (threadIdx.x == 0) bn_save(c, n, sq, count, momentum, runningMean, runningVar, saveMean, saveInvStd);
}

// Training with a channel split over blocks, launch 1 of 3: sums[c * parts + p] = block (c, p)'s
// sum of x.
extern "C" __global__ void shears_batch_norm_train_sums(const float* x, double* sums, i64 outer, int channels, i64 inner) {
    __shared__ double scratch[32];
    int c = blockIdx.x, parts = gridDim.y;
    double s = 0.0;
    for_each_in_channel(c, channels, outer, inner, channel_part_first(), channel_part_stride(), [&](i64 idx) { s += x[idx]; });
    s = block_sum_d(s, scratch);
    if (threadIdx.x == 0) sums[(i64)c * parts + blockIdx.y] = s;
}

// Launch 2 of 3: squares[c * parts + p] = block (c, p)'s sum of (x - mean)^2, the mean from all
// of channel c's sums (second pass over centred values: accurate even when |mean| >> std).
extern "C" __global__ void shears_batch_norm_train_squares(const float* x, const double* sums, double* squares,
                                                          i64 outer, int channels, i64 inner) {
    __shared__ double scratch[32];
    int c = blockIdx.x, parts = gridDim.y;
    double mean = sum_parts_all(sums + (i64)c * parts, parts, scratch) / (double)(outer * inner);
    double q = 0.0;
    for_each_in_channel(c, channels, outer, inner, channel_part_first(), channel_part_stride(), [&](i64 idx) {
        double d = (double)x[idx] - mean;
        q += d * d;
    });
    q = block_sum_d(q, scratch);
    if (threadIdx.x == 0) squares[(i64)c * parts + blockIdx.y] = q;
}

// Launch 3 of 3: y over block (c, p)'s share of channel c from the channel's sums and squares;
// block (c, 0) writes the saved and running statistics.
extern "C" __global__ void shears_batch_norm_train_apply(
        const float* x, const float* gamma, const float* beta, float* runningMean, float* runningVar,
        float momentum, float eps, float* y, float* saveMean, float* saveInvStd, const double* sums,
        const double* squares, i64 outer, int channels, i64 inner) {
    __shared__ double scratch[32];
    int c = blockIdx.x, parts = gridDim.y;
    i64 count = outer * inner;
    double mean = sum_parts_all(sums + (i64)c * parts, parts, scratch) / (double)count;
    double sq = sum_parts_all(squares + (i64)c * parts, parts, scratch);
    BnChannel n = bn_channel(mean, sq, count, eps, gamma[c], beta[c]);
    for_each_in_channel(c, channels, outer, inner, channel_part_first(), channel_part_stride(),
                        [&](i64 idx) { y[idx] = n.a * x[idx] + n.b; });
    if (blockIdx.y == 0 && threadIdx.x == 0) bn_save(c, n, sq, count, momentum, runningMean, runningVar, saveMean, saveInvStd);
}

// y = gamma * (x - runningMean) / sqrt(runningVar + eps) + beta, element-wise, computed as the
// CPU twin does: invStd in double, then y = a*x + b with a = gamma*invStd, b = beta - mean*a.
extern "C" __global__ void shears_batch_norm_inference(
        const float* x, const float* gamma, const float* beta, const float* runningMean, const float* runningVar,
        float eps, float* y, i64 outer, int channels, i64 inner) {
    i64 n = outer * channels * inner;
    Digits<i64, 2> at;  // (i, c), o = at.top: no division per element
    at.radix[0] = inner;
    at.radix[1] = channels;
    GRID_STRIDE_DIGITS(i, n, at) {
        int c = (int)at.digit[1];
        float invStd = (float)(1.0 / sqrt((double)runningVar[c] + (double)eps));
        float a = gamma[c] * invStd, b = beta[c] - runningMean[c] * a;
        y[i] = a * x[i] + b;
    }
}

// This thread's share of channel c's backward sums: sdy += dy, sdyx += dy * xhat with xhat =
// (x - mean) * invStd rounded to float, as on the CPU.
__device__ __forceinline__ void bn_backward_sums(const float* x, const float* dy, float mean, float invStd, int c,
                                                 int channels, i64 outer, i64 inner, i64 first, i64 stride,
                                                 double& sdy, double& sdyx) {
    for_each_in_channel(c, channels, outer, inner, first, stride, [&](i64 idx) {
        double d = dy[idx];
        sdy += d;
        sdyx += d * (double)((x[idx] - mean) * invStd);
    });
}

// dx = gamma * invStd * (dy - sum(dy)/N - xhat * sum(dy * xhat)/N) over this thread's share of
// channel c (the CPU twin's form); reads dy[idx] before writing dx[idx], so dx may alias dy.
__device__ __forceinline__ void bn_backward_dx(const float* x, const float* dy, float* dx, float gamma, float mean,
                                               float invStd, double sdy, double sdyx, int c, int channels, i64 outer,
                                               i64 inner, i64 first, i64 stride) {
    i64 count = outer * inner;
    float k = gamma * invStd;
    float mdy = (float)(sdy / (double)count), mdyx = (float)(sdyx / (double)count);
    for_each_in_channel(c, channels, outer, inner, first, stride, [&](i64 idx) {
        float xhat = (x[idx] - mean) * invStd;
        dx[idx] = k * (dy[idx] - mdy - xhat * mdyx);
    });
}

// Backward (training mode), one block per channel, with xhat = (x - mean) * invStd:
//   dBeta[c] += sum dy;  dGamma[c] += sum dy * xhat;  dx as bn_backward_dx.
extern "C" __global__ void shears_batch_norm_backward(
        const float* x, const float* dy, const float* gamma, const float* saveMean, const float* saveInvStd,
        float* dx, float* dGamma, float* dBeta, i64 outer, int channels, i64 inner) {
    __shared__ double scratch[32];
    int c = blockIdx.x;
    float mean = saveMean[c], invStd = saveInvStd[c];
    double sdy = 0.0, sdyx = 0.0;
    i64 t = threadIdx.x, step = blockDim.x;  // each thread's share of the channel (for_each_in_channel)
    bn_backward_sums(x, dy, mean, invStd, c, channels, outer, inner, t, step, sdy, sdyx);
    sdy = block_allsum_d(sdy, scratch);
    sdyx = block_allsum_d(sdyx, scratch);
    bn_backward_dx(x, dy, dx, gamma[c], mean, invStd, sdy, sdyx, c, channels, outer, inner, t, step);
    if (threadIdx.x == 0) {
        dGamma[c] += (float)sdyx;
        dBeta[c] += (float)sdy;
    }
}

// Backward with a channel split over blocks, launch 1 of 2: block (c, p)'s sums of dy and
// dy * xhat to sums[c * parts + p] and sums[(channels + c) * parts + p] (sums: [2, channels, parts]).
extern "C" __global__ void shears_batch_norm_backward_sums(const float* x, const float* dy, const float* saveMean,
                                                          const float* saveInvStd, double* sums, i64 outer,
                                                          int channels, i64 inner) {
    __shared__ double scratch[32];
    int c = blockIdx.x, parts = gridDim.y;
    double sdy = 0.0, sdyx = 0.0;
    bn_backward_sums(x, dy, saveMean[c], saveInvStd[c], c, channels, outer, inner, channel_part_first(),
                     channel_part_stride(), sdy, sdyx);
    sdy = block_sum_d(sdy, scratch);
    if (threadIdx.x == 0) sums[(i64)c * parts + blockIdx.y] = sdy;
    sdyx = block_sum_d(sdyx, scratch);
    if (threadIdx.x == 0) sums[((i64)channels + c) * parts + blockIdx.y] = sdyx;
}

// Launch 2 of 2: dx over block (c, p)'s share from channel c's sums; block (c, 0) adds them to
// dGamma and dBeta.
extern "C" __global__ void shears_batch_norm_backward_apply(
        const float* x, const float* dy, const float* gamma, const float* saveMean, const float* saveInvStd,
        const double* sums, float* dx, float* dGamma, float* dBeta, i64 outer, int channels, i64 inner) {
    __shared__ double scratch[32];
    int c = blockIdx.x, parts = gridDim.y;
    double sdy = sum_parts_all(sums + (i64)c * parts, parts, scratch);
    double sdyx = sum_parts_all(sums + ((i64)channels + c) * parts, parts, scratch);
    bn_backward_dx(x, dy, dx, gamma[c], saveMean[c], saveInvStd[c], sdy, sdyx, c, channels, outer, inner,
                   channel_part_first(), channel_part_stride());
    if (blockIdx.y == 0 && threadIdx.x == 0) {
        dGamma[c] += (float)sdyx;
        dBeta[c] += (float)sdy;
    }
}
