// Knowledge distillation's soft-target term (Hinton, Vinyals and Dean 2015, "Distilling the
// Knowledge in a Neural Network", arXiv:1503.02531) over student logits s and teacher logits t:
//   loss  += T^2 * KL(softmax(t/T) || softmax(s/T))            per row, summed in double
//   dLogits += weight * T * (softmax(s/T) - softmax(t/T)) * gradScale
// CPU twin: CpuBackend.distillation. One warp per row (blockDim.x = 256: 8 rows per block), like
// cross_entropy.cu. Both softmaxes are taken as log-softmaxes of the scaled logits, so a row of
// extreme logits gives probabilities that underflow to 0 (and a 0 * finite KL term), never NaN.
// The hard-label part of the loss is shears_softmax_cross_entropy, launched before this kernel
// with gradScale * (1 - weight): this kernel adds into the dLogits it wrote.
#include "warp_rows.cuh"

extern "C" __global__ void shears_distillation(
        const float* student, const float* teacher, float* dLogits, float weight, float temperature, float gradScale,
        int rows, int cols, double* lossSum) {
    int lane = threadIdx.x & 31;
    i64 r = warp_row();
    if (r >= rows) return;
    const float* sr = student + r * cols;
    const float* tr = teacher + r * cols;
    float invT = 1.0f / temperature;
    // x/T - max(x/T) taken as (x - max(x)) / T (for T > 0): the difference of two floats near the
    // max is exact, where x/T rounds first (ulp(4000/3) = 1.2e-4) unless 1/T is a power of two
    float ms = warp_row_max(sr, cols, lane);
    float mt = warp_row_max(tr, cols, lane);
    float ss = 0.0f, st = 0.0f;
    for (int j = lane; j < cols; j += 32) {
        ss += expf((sr[j] - ms) * invT);
        st += expf((tr[j] - mt) * invT);
    }
    // log of each softmax's denominator, taken apart from the max: (x - max)/T - log(sum) keeps the
    // precision of the small differences near the max when the logits are large (4000 - 4000.3)
    float ls = logf(warp_sum_all(ss));
    float lt = logf(warp_sum_all(st));
    float scale = weight * temperature * gradScale;
    float kl = 0.0f;
    for (int j = lane; j < cols; j += 32) {
        float logP = (tr[j] - mt) * invT - lt, logQ = (sr[j] - ms) * invT - ls;
        float p = expf(logP);
        // p = 0 adds nothing: where a row spans more than the float range, x - max is -inf in both
        // softmaxes, and 0 * (-inf - -inf) would be NaN
        if (p > 0.0f) kl += p * (logP - logQ);
        if (dLogits != nullptr) dLogits[r * cols + j] += scale * (expf(logQ) - p);
    }
    kl = warp_sum(kl);
    if (lane == 0) atomicAdd(lossSum, (double)temperature * (double)temperature * (double)kl);
}
