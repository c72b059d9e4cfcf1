// The predicted class of each row of logits [rows, cols]: predicted[r] = the row's first arg-max.
// CPU twin: HostKernels.argMaxRows (CpuBackend.argMaxRows); the rule is countCorrect's: the lowest
// index among equal maxima, NaN never wins, a row of only NaN gives 0 (warp_row_argmax).
// One warp per row (blockDim.x = 256: 8 rows per block). Per-class accuracy needs the prediction
// itself, not the count countCorrect returns: this lets the host read rows ints instead of the
// rows x cols logits.
#include "warp_rows.cuh"

extern "C" __global__ void shears_argmax_rows(const float* logits, int rows, int cols, int* predicted) {
    int lane = threadIdx.x & 31;
    i64 r = warp_row();
    if (r >= rows) return;
    int best = warp_row_argmax(logits + r * cols, cols, lane);
    if (lane == 0) predicted[r] = best;
}
