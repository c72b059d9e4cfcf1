// Fused softmax + cross-entropy against INT32 labels, and the count of correct arg-maxes.
// CPU twins: CpuBackend.softmaxCrossEntropy and CpuBackend.countCorrect.
// One warp per row (blockDim.x = 256: 8 rows per block). The summed loss is accumulated in
// double with one atomic per warp. A label outside [0, cols) is not guessed at: the row is
// skipped and counted in *badLabels, which the host turns into an error naming the row (the
// first bad row is kept in *firstBadRow via atomicMin).
#include "warp_rows.cuh"

extern "C" __global__ void shears_softmax_cross_entropy(
        const float* logits, const int* labels, float* dLogits, float gradScale, int rows, int cols,
        double* lossSum, unsigned int* badLabels, int* firstBadRow) {
    int lane = threadIdx.x & 31;
    i64 r = warp_row();
    if (r >= rows) return;
    int label = labels[r];
    if (label < 0 || label >= cols) {
        if (lane == 0) { atomicAdd(badLabels, 1u); atomicMin(firstBadRow, (int)r); }
        return;
    }
    const float* xr = logits + r * cols;
    float mx = warp_row_max(xr, cols, lane);
    float s = warp_row_exp_sum(xr, cols, mx, lane);
    if (dLogits != nullptr) {
        float inv = 1.0f / s;
        float* dr = dLogits + r * cols;
        for (int j = lane; j < cols; j += 32) {
            float p = expf(xr[j] - mx) * inv;
            dr[j] = (p - (j == label ? 1.0f : 0.0f)) * gradScale;
        }
    }
    if (lane == 0) {
        // -log softmax[label] = log(sum) - (x[label] - max): the difference of two floats is exact in
        // double, while log(sum) + max loses log(sum) once |max| nears 1e17 (CpuBackend's order too)
        double loss = (double)logf(s) - ((double)xr[label] - (double)mx);
        atomicAdd(lossSum, loss);
    }
}

// Rows whose first arg-max equals the label; one warp per row.
extern "C" __global__ void shears_count_correct(const float* logits, const int* labels, int rows, int cols,
                                                unsigned int* correct) {
    int lane = threadIdx.x & 31;
    i64 r = warp_row();
    if (r >= rows) return;
    int best = warp_row_argmax(logits + r * cols, cols, lane);
    if (lane == 0 && best == labels[r]) atomicAdd(correct, 1u);
}
