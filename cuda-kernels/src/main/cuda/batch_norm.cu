// Batch normalisation over x viewed as [outer, channels, inner], statistics per channel.
// CPU twins: CpuBackend.batchNormTrain, batchNormInference, batchNormBackward.
// Training and backward use one block per channel: the block reduces its channel in double and
// then sweeps the channel again to write the outputs (the second read mostly hits L2).
#include "common.cuh"

// y = gamma * (x - mean) * invStd + beta with the batch statistics (biased variance);
// saveMean/saveInvStd [channels] for backward; running = momentum*running + (1-momentum)*batch,
// the running variance taking the unbiased batch variance (Keras convention).
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
    double var = sq / (double)count;
    float invStd = (float)(1.0 / sqrt(var + (double)eps));
    float meanF = (float)mean;
    float a = gamma[c] * invStd, b = beta[c] - meanF * a;  // y = a*x + b, as the CPU twin
    for_each_in_channel(c, channels, outer, inner, t, step, [&](i64 idx) { y[idx] = a * x[idx] + b; });
    if (threadIdx.x == 0) {
        saveMean[c] = meanF;
        saveInvStd[c] = invStd;
        // one value per channel: the biased variance (0) rather than a division by zero
        double unbiased = count > 1 ? sq / (double)(count - 1) : var;
        runningMean[c] = momentum * runningMean[c] + (1.0f - momentum) * meanF;
        runningVar[c] = momentum * runningVar[c] + (1.0f - momentum) * (float)unbiased;
    }
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

// Backward (training mode), one block per channel, with xhat = (x - mean) * invStd:
//   dBeta[c] += sum dy;  dGamma[c] += sum dy * xhat;
//   dx = gamma * invStd * (dy - sum(dy)/N - xhat * sum(dy * xhat)/N)   (the CPU twin's form).
extern "C" __global__ void shears_batch_norm_backward(
        const float* x, const float* dy, const float* gamma, const float* saveMean, const float* saveInvStd,
        float* dx, float* dGamma, float* dBeta, i64 outer, int channels, i64 inner) {
    __shared__ double scratch[32];
    int c = blockIdx.x;
    i64 count = outer * inner;
    float mean = saveMean[c], invStd = saveInvStd[c];
    double sdy = 0.0, sdyx = 0.0;
    i64 t = threadIdx.x, step = blockDim.x;  // each thread's share of the channel (for_each_in_channel)
    for_each_in_channel(c, channels, outer, inner, t, step, [&](i64 idx) {
        double d = dy[idx];
        sdy += d;
        sdyx += d * (double)((x[idx] - mean) * invStd);  // xhat rounded to float, as on the CPU
    });
    sdy = block_allsum_d(sdy, scratch);
    sdyx = block_allsum_d(sdyx, scratch);
    float k = gamma[c] * invStd;
    float mdy = (float)(sdy / (double)count), mdyx = (float)(sdyx / (double)count);
    for_each_in_channel(c, channels, outer, inner, t, step, [&](i64 idx) {
        float xhat = (x[idx] - mean) * invStd;
        dx[idx] = k * (dy[idx] - mdy - xhat * mdyx);
    });
    if (threadIdx.x == 0) {
        dGamma[c] += (float)sdyx;
        dBeta[c] += (float)sdy;
    }
}
