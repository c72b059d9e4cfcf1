// Local response normalisation across channels (ONNX LRN), forward and backward, over x viewed
// as [outer, channels, inner]. CPU twins: HostKernels.lrn and HostKernels.lrnBackward (gpu-core).
// Channel c's window is c - before .. c + after (before = floor((size-1)/2), after = the rest),
// clipped to the channels that exist; d_c = bias + alpha/size * (sum of x^2 over the window),
// y_c = x_c / d_c^beta.
// One thread per (outer, inner) column walks its channels with a sliding window: per channel one
// square enters and one leaves, whatever the size. Neighbouring threads take neighbouring inner
// positions, so every load and store of a warp is coalesced (for inner >= 32).
// Numerics: squares of floats are exact in double and the window sum is kept in double, so the
// add-one-drop-one walk does not drift (a float running sum would, and could go negative after a
// large value leaves the window); d is formed in double as the CPU does, rounded once to float,
// and raised with powf (a few ulp from the CPU's double Math.pow).
#include "common.cuh"

// The sum of x^2 over channel c's window, slid one channel at a time. Every walk starts at channel
// 0 and advances by the same operations, so two walks agree bit for bit at the same channel.
struct LrnWindow {
    const float* x;  // the column: channel k at x[k * inner]
    i64 inner;
    int channels, before, after;
    int c;     // the channel whose window this is
    double s;  // sum of x^2 over [c - before, c + after] ∩ [0, channels)

    __device__ __forceinline__ double square(int k) const {
        if (k < 0 || k >= channels) return 0.0;
        double v = x[k * inner];
        return v * v;
    }

    __device__ __forceinline__ void start() {
        c = 0;
        s = 0.0;
        for (int k = 0; k <= after && k < channels; k++) s += square(k);
    }

    __device__ __forceinline__ void advance() {
        s += square(c + 1 + after);
        s -= square(c - before);
        c++;
    }

    // d_c = bias + scale * sum, in double (the CPU twin's precision), rounded to float once.
    __device__ __forceinline__ float d(double scale, float bias) const { return (float)((double)bias + scale * fmax(s, 0.0)); }
};

__device__ __forceinline__ LrnWindow lrn_window(const float* x, i64 inner, int channels, int size) {
    LrnWindow w;
    w.x = x;
    w.inner = inner;
    w.channels = channels;
    w.before = (size - 1) / 2;
    w.after = size - 1 - w.before;
    w.start();
    return w;
}

extern "C" __global__ void shears_lrn(const float* x, float* y, int outer, int channels, i64 inner,
                                      int size, float alpha, float beta, float bias) {
    // the CPU twin's alpha / size is a float division, widened to double for the product
    double scale = (double)(alpha / (float)size);
    i64 columns = (i64)outer * inner;
    GRID_STRIDE(col, columns) {
        i64 o = col / inner, i = col - o * inner;
        i64 base = o * channels * inner + i;
        LrnWindow w = lrn_window(x + base, inner, channels, size);
        for (int c = 0; c < channels; c++) {
            i64 at = base + (i64)c * inner;
            y[at] = x[at] / powf(w.d(scale, bias), beta);
            w.advance();
        }
    }
}

// dx_j = dy_j d_j^-beta - (2 alpha beta / size) x_j T_j, where T_j sums t_c = dy_c y_c / d_c over
// the channels c whose window holds j (j - after <= c <= j + before). T slides too: t of channel
// j + before + 1 enters, t of channel j - after leaves. Three window walks give d at channel j
// (centre), at the entering channel (lead) and at the leaving one (lag); the lag recomputes the
// t the lead added, bit for bit (same walk, same operations), so T's add-and-remove cancels up to
// double rounding. dx may not alias x or dy (they are read after dx is written).
extern "C" __global__ void shears_lrn_backward(const float* x, const float* dy, float* dx, int outer, int channels, i64 inner,
                                               int size, float alpha, float beta, float bias) {
    double scale = (double)alpha / (double)size;  // the CPU twin's backward scale, in double
    double k = 2.0 * scale * (double)beta;
    int before = (size - 1) / 2, after = size - 1 - before;
    i64 columns = (i64)outer * inner;
    GRID_STRIDE(col, columns) {
        i64 o = col / inner, i = col - o * inner;
        i64 base = o * channels * inner + i;
        const float* xc = x + base;
        const float* dyc = dy + base;
        LrnWindow centre = lrn_window(xc, inner, channels, size), lead = centre, lag = centre;
        // t_c from the window of channel c
        auto t = [&](const LrnWindow& w) -> double {
            float d = w.d(scale, bias);
            float yc = xc[w.c * inner] / powf(d, beta);
            return (double)dyc[w.c * inner] * (double)yc / (double)d;
        };
        double sum = 0.0;  // T_0: channels 0 .. before
        for (int c = 0; c <= before && c < channels; c++) {
            sum += t(lead);
            lead.advance();
        }
        for (int j = 0; j < channels; j++) {
            i64 at = base + (i64)j * inner;
            float first = dy[at] / powf(centre.d(scale, bias), beta);
            dx[at] = (float)((double)first - k * (double)x[at] * sum);
            centre.advance();
            if (j + before + 1 < channels) {  // lead.c == j + before + 1
                sum += t(lead);
                lead.advance();
            }
            if (j - after >= 0) {  // lag.c == j - after
                sum -= t(lag);
                lag.advance();
            }
        }
    }
}
