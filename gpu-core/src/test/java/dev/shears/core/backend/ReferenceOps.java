package dev.shears.core.backend;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Straightforward reference computations of the {@link Backend} ops on host arrays, in double
 * where they accumulate, written from the Backend Javadoc and independently of CpuBackend (no code
 * shared with it), so a contract test against them means something for the CPU backend too.
 */
public final class ReferenceOps {
    private ReferenceOps() {}

    public static double[] gemm(boolean ta, boolean tb, int m, int n, int k, float alpha, float[] a, int ao,
                                float[] b, int bo, float beta, float[] c, int co) {
        double[] out = new double[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < k; p++) {
                    double av = ta ? a[ao + p * m + i] : a[ao + i * k + p];
                    double bv = tb ? b[bo + j * k + p] : b[bo + p * n + j];
                    s += av * bv;
                }
                out[i * n + j] = alpha * s + (beta == 0 ? 0 : beta * (double) c[co + i * n + j]);
            }
        return out;
    }

    /** f(x); beta is the HARD_SIGMOID offset, alpha its slope. */
    public static double activation(Activation f, double alpha, double beta, double x) {
        return switch (f) {
            case LINEAR -> x;
            case RELU -> Math.max(x, 0);
            case LEAKY_RELU -> x > 0 ? x : alpha * x;
            case SIGMOID -> 1 / (1 + Math.exp(-x));
            case TANH -> Math.tanh(x);
            case ELU -> x > 0 ? x : alpha * (Math.exp(x) - 1);
            case SELU -> (double) Activation.SELU_SCALE * (x > 0 ? x : (double) Activation.SELU_ALPHA * (Math.exp(x) - 1));
            case SOFTPLUS -> Math.log1p(Math.exp(x));
            case SOFTSIGN -> x / (1 + Math.abs(x));
            case HARD_SIGMOID -> Math.min(1, Math.max(0, alpha * x + beta));
            case RELU_CAPPED -> Math.min(Math.max(x, 0), alpha);
            case HARD_SWISH -> x * Math.min(Math.max(x + 3, 0), 6) / 6;
            case SWISH -> x / (1 + Math.exp(-x));
        };
    }

    /** f'(x), from x alone; beta is the HARD_SIGMOID offset, alpha its slope. */
    public static double derivative(Activation f, double alpha, double beta, double x) {
        return switch (f) {
            case LINEAR -> 1;
            case RELU -> x > 0 ? 1 : 0;
            case LEAKY_RELU -> x > 0 ? 1 : alpha;
            case SIGMOID -> { double s = 1 / (1 + Math.exp(-x)); yield s * (1 - s); }
            case TANH -> { double t = Math.tanh(x); yield 1 - t * t; }
            case ELU -> x > 0 ? 1 : alpha * Math.exp(x);
            case SELU -> (double) Activation.SELU_SCALE * (x > 0 ? 1 : (double) Activation.SELU_ALPHA * Math.exp(x));
            case SOFTPLUS -> 1 / (1 + Math.exp(-x));
            case SOFTSIGN -> 1 / ((1 + Math.abs(x)) * (1 + Math.abs(x)));
            // the slope strictly inside (0, 1), the flat side's 0 at the kinks (where alpha*x + beta is 0 or 1)
            case HARD_SIGMOID -> { double z = alpha * x + beta; yield z > 0 && z < 1 ? alpha : 0; }
            // kinks: the flat side's derivative (Activation's Javadoc)
            case RELU_CAPPED -> x > 0 && x < alpha ? 1 : 0;
            case HARD_SWISH -> x <= -3 ? 0 : x >= 3 ? 1 : (2 * x + 3) / 6;
            case SWISH -> { double s = 1 / (1 + Math.exp(-x)); yield s + x * s * (1 - s); }
        };
    }

    public static double[] softmax(float[] x, int rows, int cols, boolean log) {
        double[] y = new double[rows * cols];
        for (int r = 0; r < rows; r++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < cols; j++) max = Math.max(max, x[r * cols + j]);
            double s = 0;
            for (int j = 0; j < cols; j++) s += Math.exp(x[r * cols + j] - max);
            for (int j = 0; j < cols; j++) {
                double v = x[r * cols + j] - max;
                y[r * cols + j] = log ? v - Math.log(s) : Math.exp(v) / s;
            }
        }
        return y;
    }

    /** The input value an im2col entry reads, or 0 for padding. */
    public static float tap(float[] x, int xo, ConvGeometry g, int row, int col) {
        int kk = g.kernelH() * g.kernelW();
        int c = row / kk, ki = (row % kk) / g.kernelW(), kj = row % g.kernelW();
        int oh = col / g.outW(), ow = col % g.outW();
        int h = oh * g.strideH() - g.padTop() + ki * g.dilationH();
        int w = ow * g.strideW() - g.padLeft() + kj * g.dilationW();
        if (h < 0 || h >= g.height() || w < 0 || w >= g.width()) return 0f;
        return x[xo + (c * g.height() + h) * g.width() + w];
    }

    /** The flat in-plane index an im2col entry reads, or -1 for padding. */
    public static int tapIndex(ConvGeometry g, int row, int col) {
        int kk = g.kernelH() * g.kernelW();
        int c = row / kk, ki = (row % kk) / g.kernelW(), kj = row % g.kernelW();
        int oh = col / g.outW(), ow = col % g.outW();
        int h = oh * g.strideH() - g.padTop() + ki * g.dilationH();
        int w = ow * g.strideW() - g.padLeft() + kj * g.dilationW();
        if (h < 0 || h >= g.height() || w < 0 || w >= g.width()) return -1;
        return (c * g.height() + h) * g.width() + w;
    }

    /** Max pooling: values and, per output, the in-plane index of the first maximum (-1 if none). */
    public static float[] maxPool(float[] x, int[] argOut, ConvGeometry g, int n) {
        int planes = n * g.channels(), oH = g.outH(), oW = g.outW(), H = g.height(), W = g.width();
        float[] y = new float[planes * oH * oW];
        ConvGeometry one = new ConvGeometry(1, H, W, g.kernelH(), g.kernelW(), g.strideH(), g.strideW(),
                g.padTop(), g.padLeft(), g.padBottom(), g.padRight(), g.dilationH(), g.dilationW(), g.ceilMode());
        for (int p = 0; p < planes; p++)
            for (int o = 0; o < oH * oW; o++) {
                int best = -1;
                for (int r = 0; r < g.kernelH() * g.kernelW(); r++) {
                    int at = tapIndex(one, r, o);
                    if (at >= 0 && (best < 0 || x[p * H * W + at] > x[p * H * W + best])) best = at;
                }
                y[p * oH * oW + o] = best < 0 ? 0f : x[p * H * W + best];
                argOut[p * oH * oW + o] = best;
            }
        return y;
    }

    /** Average pooling and, per output, the divisor used. */
    public static double[] avgPool(float[] x, ConvGeometry g, int n, boolean includePad, int[] divisorOut) {
        int planes = n * g.channels(), oH = g.outH(), oW = g.outW(), H = g.height(), W = g.width();
        double[] y = new double[planes * oH * oW];
        ConvGeometry one = new ConvGeometry(1, H, W, g.kernelH(), g.kernelW(), g.strideH(), g.strideW(),
                g.padTop(), g.padLeft(), g.padBottom(), g.padRight(), g.dilationH(), g.dilationW(), g.ceilMode());
        for (int p = 0; p < planes; p++)
            for (int o = 0; o < oH * oW; o++) {
                double s = 0;
                int cnt = 0;
                for (int r = 0; r < g.kernelH() * g.kernelW(); r++) {
                    int at = tapIndex(one, r, o);
                    if (at >= 0) { s += x[p * H * W + at]; cnt++; }
                }
                int div = includePad ? g.kernelH() * g.kernelW() : cnt;
                y[p * oH * oW + o] = div == 0 ? 0 : s / div;
                if (divisorOut != null) divisorOut[p * oH * oW + o] = div;
            }
        return y;
    }

    /** Per-channel mean and biased variance of x viewed as [outer, channels, inner]. */
    public static double[][] channelStats(float[] x, int outer, int channels, int inner) {
        double[] mean = new double[channels], var = new double[channels];
        for (int c = 0; c < channels; c++) {
            double s = 0;
            for (int o = 0; o < outer; o++) for (int i = 0; i < inner; i++) s += x[(o * channels + c) * inner + i];
            mean[c] = s / ((double) outer * inner);
            double q = 0;
            for (int o = 0; o < outer; o++) for (int i = 0; i < inner; i++) {
                double d = x[(o * channels + c) * inner + i] - mean[c];
                q += d * d;
            }
            var[c] = q / ((double) outer * inner);
        }
        return new double[][]{mean, var};
    }

    /** The k-th smallest |w| (1-based) over the arrays together, by sorting. */
    public static float kthMagnitude(List<float[]> arrays, long k) {
        int total = 0;
        for (float[] a : arrays) total += a.length;
        float[] all = new float[total];
        int at = 0;
        for (float[] a : arrays) for (float v : a) all[at++] = Math.abs(v);
        Arrays.sort(all);
        return all[(int) (k - 1)];
    }

    /** The mask updateMask must produce, straight from its Javadoc. */
    public static byte[] updateMask(float[] w, byte[] oldMask, float threshold, long tiesToPrune) {
        int n = w.length;
        byte[] m = new byte[n];
        List<Integer> ties = new ArrayList<>();
        for (int i = 0; i < n; i++) if (oldMask[i] == 0 && Math.abs(w[i]) == threshold) ties.add(i);
        for (int i = 0; i < n; i++) if (oldMask[i] != 0 && Math.abs(w[i]) == threshold) ties.add(i);
        boolean[] pruneTie = new boolean[n];
        for (int t = 0; t < Math.min(tiesToPrune, ties.size()); t++) pruneTie[ties.get(t)] = true;
        for (int i = 0; i < n; i++) {
            boolean pruned = oldMask[i] == 0 || Math.abs(w[i]) < threshold || pruneTie[i];
            m[i] = (byte) (pruned ? 0 : 1);
        }
        return m;
    }

    /**
     * The mask updateMaskNm must produce, straight from its Javadoc, by sorting: w viewed as
     * [outer, k, inner], groups of m consecutive k indices; in each group the unmasked elements
     * sorted by |w| descending (Float.compare: NaN largest, -0 == +0), lower k index first on
     * ties; the first {@code keep} stay.
     */
    public static byte[] updateMaskNm(float[] w, byte[] oldMask, int outer, int k, int inner, int keep, int m) {
        byte[] out = new byte[w.length];
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
                for (int k0 = 0; k0 < k; k0 += m) {
                    List<Integer> live = new ArrayList<>();
                    for (int kk = k0; kk < Math.min(k, k0 + m); kk++) {
                        int idx = (o * k + kk) * inner + i;
                        if (oldMask[idx] != 0) live.add(idx);
                    }
                    live.sort((a, b) -> {
                        int c = Float.compare(Math.abs(w[b]), Math.abs(w[a]));
                        return c != 0 ? c : Integer.compare(a, b); // within one (o, i) run, index order is k order
                    });
                    for (int t = 0; t < Math.min(keep, live.size()); t++) out[live.get(t)] = 1;
                }
        return out;
    }

    /** The dropout keep decision, re-derived from the formula documented in DropoutHash. */
    public static boolean dropoutKeep(long seed, long i, float rate) {
        long z = seed + (i + 1) * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z ^= z >>> 31;
        long r = z >>> 40;
        long t = (long) (rate * 16777216.0f);
        return r >= t;
    }
}
