package dev.shears.core.cpu;

/**
 * Array kernels for the rarer ops that {@code Backend} gives default (host round-trip)
 * implementations: axis permutation, local response normalisation, log-softmax backward. The
 * CPU backend calls them on its arrays directly; another backend's default method downloads,
 * calls them and writes back, until it overrides the op with a kernel of its own.
 */
public final class HostKernels {
    private HostKernels() {}

    /**
     * y = x with axes permuted: y's axis i is x's axis perm[i]; {@code dims} are x's dimensions
     * (the batch axis included, if any).
     */
    public static void permute(float[] x, int xOff, float[] y, int yOff, int[] dims, int[] perm) {
        int r = dims.length;
        if (perm.length != r) throw new IllegalArgumentException("permutation " + java.util.Arrays.toString(perm) + " for rank " + r);
        int[] xStride = new int[r];
        int s = 1;
        for (int i = r - 1; i >= 0; i--) {
            xStride[i] = s;
            s *= dims[i];
        }
        int[] outDims = new int[r];
        int[] stride = new int[r]; // x stride of each output axis
        for (int i = 0; i < r; i++) {
            outDims[i] = dims[perm[i]];
            stride[i] = xStride[perm[i]];
        }
        int total = s;
        if (total == 0) return;
        int[] idx = new int[r];
        int src = 0;
        int last = r - 1;
        int innerN = outDims[last], innerStride = stride[last];
        for (int o = 0; o < total; o += innerN) {
            for (int j = 0, p = src; j < innerN; j++, p += innerStride) y[yOff + o + j] = x[xOff + p];
            // advance the multi-index over the outer axes (odometer)
            for (int a = last - 1; a >= 0; a--) {
                idx[a]++;
                src += stride[a];
                if (idx[a] < outDims[a]) break;
                src -= stride[a] * outDims[a];
                idx[a] = 0;
            }
        }
    }

    /**
     * ONNX LRN across channels of x viewed as [outer, channels, inner]:
     * y = x / (bias + alpha / size * sum of x^2 over channels c - floor((size-1)/2) .. c + ceil((size-1)/2))^beta.
     */
    public static void lrn(float[] x, float[] y, int outer, int channels, int inner,
                           int size, float alpha, float beta, float bias) {
        int before = (size - 1) / 2, after = size - 1 - before;
        for (int o = 0; o < outer; o++) {
            int base = o * channels * inner;
            for (int c = 0; c < channels; c++) {
                int lo = Math.max(0, c - before), hi = Math.min(channels - 1, c + after);
                for (int i = 0; i < inner; i++) {
                    double sq = 0;
                    for (int cc = lo; cc <= hi; cc++) {
                        double v = x[base + cc * inner + i];
                        sq += v * v;
                    }
                    int at = base + c * inner + i;
                    y[at] = (float) (x[at] / Math.pow(bias + alpha / size * sq, beta));
                }
            }
        }
    }

    /**
     * Backward of {@link #lrn}: with d_c = bias + alpha/size * sum of x^2 over c's window and
     * y_c = x_c d_c^-beta, dx_j = dy_j d_j^-beta - (2 alpha beta / size) x_j * sum over the channels
     * c whose window holds j (c - before <= j <= c + after) of dy_c y_c / d_c.
     */
    public static void lrnBackward(float[] x, float[] dy, float[] dx, int outer, int channels, int inner,
                                   int size, float alpha, float beta, float bias) {
        int before = (size - 1) / 2, after = size - 1 - before;
        double scale = alpha / (double) size;
        double[] d = new double[channels], t = new double[channels];
        for (int o = 0; o < outer; o++) {
            int base = o * channels * inner;
            for (int i = 0; i < inner; i++) {
                for (int c = 0; c < channels; c++) {
                    double sq = 0;
                    for (int cc = Math.max(0, c - before); cc <= Math.min(channels - 1, c + after); cc++) {
                        double v = x[base + cc * inner + i];
                        sq += v * v;
                    }
                    d[c] = bias + scale * sq;
                    int at = base + c * inner + i;
                    double y = x[at] / Math.pow(d[c], beta);
                    t[c] = dy[at] * y / d[c];
                }
                for (int j = 0; j < channels; j++) {
                    double sum = 0;
                    for (int c = Math.max(0, j - after); c <= Math.min(channels - 1, j + before); c++) sum += t[c];
                    int at = base + j * inner + i;
                    dx[at] = (float) (dy[at] / Math.pow(d[j], beta) - 2 * scale * beta * x[at] * sum);
                }
            }
        }
    }

    /** For y = logSoftmax(x) over rows: dx = dy - exp(y) * sum(dy), per row. dx may alias dy. */
    public static void logSoftmaxBackward(float[] y, float[] dy, float[] dx, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            int b = r * cols;
            double s = 0;
            for (int j = 0; j < cols; j++) s += dy[b + j];
            float sf = (float) s;
            for (int j = 0; j < cols; j++) dx[b + j] = dy[b + j] - (float) Math.exp(y[b + j]) * sf;
        }
    }

    /**
     * The arg-max of row x[base, base + cols): the first maximum (the lowest index among equal
     * values); NaN never wins, and a row of only NaN (or no columns) gives 0. Backend.countCorrect's
     * rule, and argMaxRows's.
     */
    public static int argMax(float[] x, int base, int cols) {
        int best = -1;
        for (int j = 0; j < cols; j++) {
            float v = x[base + j];
            if (!Float.isNaN(v) && (best < 0 || v > x[base + best])) best = j;
        }
        return Math.max(best, 0);
    }

    /** predicted[r] = {@link #argMax} of row r of x [rows, cols], for r < rows. */
    public static void argMaxRows(float[] x, int rows, int cols, int[] predicted) {
        for (int r = 0; r < rows; r++) predicted[r] = argMax(x, r * cols, cols);
    }
}
