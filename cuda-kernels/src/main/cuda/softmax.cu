// Row-wise softmax, log-softmax and the softmax backward over x viewed as [rows, cols].
// CPU twins: CpuBackend.softmax, logSoftmax, softmaxBackward. y may alias x.
// Each row subtracts its maximum before exponentiating; sums are kept in float per lane and
// reduced across the warp, so results agree with the CPU to a few ulps, not bit for bit.
#include "warp_rows.cuh"

// Version 1: one thread per row (kept as the reference; fine for tiny batches).
extern "C" __global__ void shears_softmax_naive(const float* x, float* y, int rows, int cols, int logOutput) {
    GRID_STRIDE(r, rows) {
        const float* xr = x + r * (i64)cols;
        float* yr = y + r * (i64)cols;
        float mx = -INFINITY;
        for (int j = 0; j < cols; j++) mx = fmaxf(mx, xr[j]);
        float s = 0.0f;
        for (int j = 0; j < cols; j++) s += expf(xr[j] - mx);
        if (logOutput) {
            float ls = logf(s);
            for (int j = 0; j < cols; j++) yr[j] = xr[j] - mx - ls;
        } else {
            float inv = 1.0f / s;
            for (int j = 0; j < cols; j++) yr[j] = expf(xr[j] - mx) * inv;
        }
    }
}

// Version 2: one warp per row; blockDim.x = 256 gives 8 rows per block.
extern "C" __global__ void shears_softmax(const float* x, float* y, int rows, int cols, int logOutput) {
    int lane = threadIdx.x & 31;
    i64 r = warp_row();
    if (r >= rows) return;
    const float* xr = x + r * cols;
    float* yr = y + r * cols;
    float mx = warp_row_max(xr, cols, lane);
    float s = warp_row_exp_sum(xr, cols, mx, lane);
    if (logOutput) {
        float ls = logf(s);
        for (int j = lane; j < cols; j += 32) yr[j] = xr[j] - mx - ls;
    } else {
        float inv = 1.0f / s;
        for (int j = lane; j < cols; j += 32) yr[j] = expf(xr[j] - mx) * inv;
    }
}

// dx = y * (dy - sum(dy * y)) per row; one warp per row.
extern "C" __global__ void shears_softmax_backward(const float* y, const float* dy, float* dx, int rows, int cols) {
    int lane = threadIdx.x & 31;
    i64 r = warp_row();
    if (r >= rows) return;
    const float* yr = y + r * cols;
    const float* dyr = dy + r * cols;
    float* dxr = dx + r * cols;
    float dot = 0.0f;
    for (int j = lane; j < cols; j += 32) dot += dyr[j] * yr[j];
    dot = warp_sum_all(dot);
    for (int j = lane; j < cols; j += 32) dxr[j] = yr[j] * (dyr[j] - dot);
}

// Log-softmax backward for y = logSoftmax(x): dx = dy - exp(y) * sum(dy) per row; dx may alias dy
// (each lane reads its dy before writing dx, and the row sum is complete before any write).
// CPU twin: HostKernels.logSoftmaxBackward.
extern "C" __global__ void shears_log_softmax_backward(const float* y, const float* dy, float* dx, int rows, int cols) {
    int lane = threadIdx.x & 31;
    i64 r = warp_row();
    if (r >= rows) return;
    const float* yr = y + r * cols;
    const float* dyr = dy + r * cols;
    float* dxr = dx + r * cols;
    float s = 0.0f;
    for (int j = lane; j < cols; j += 32) s += dyr[j];
    s = warp_sum_all(s);
    for (int j = lane; j < cols; j += 32) dxr[j] = dyr[j] - expf(yr[j]) * s;
}
