package dev.shears.core.cpu;

/**
 * Batch normalisation over x viewed as [outer, channels, inner]: statistics per channel over the
 * outer and inner axes, accumulated in double (two passes: mean, then centred squares). Channels
 * are independent, so large tensors split them over {@link Parallel}.
 */
final class CpuNorm {
    private CpuNorm() {}

    static void batchNormTrain(float[] x, float[] gamma, float[] beta, float[] runMean, float[] runVar,
                               float momentum, float eps, float[] y, float[] saveMean, float[] saveInvStd,
                               int outer, int channels, int inner) {
        long count = (long) outer * inner;
        Parallel.forRange(channels, CpuConv.grain(outer * inner), (c0, c1) -> {
            for (int c = c0; c < c1; c++) {
                double s = 0;
                for (int o = 0; o < outer; o++)
                    for (int j = 0, p = (o * channels + c) * inner; j < inner; j++, p++) s += x[p];
                double mean = count == 0 ? 0 : s / count;
                double sq = 0;
                for (int o = 0; o < outer; o++)
                    for (int j = 0, p = (o * channels + c) * inner; j < inner; j++, p++) {
                        double d = x[p] - mean;
                        sq += d * d;
                    }
                double var = count == 0 ? 0 : sq / count;
                double unbiased = count > 1 ? sq / (count - 1) : var;
                float meanF = (float) mean;
                float invStd = (float) (1.0 / Math.sqrt(var + eps));
                saveMean[c] = meanF;
                saveInvStd[c] = invStd;
                runMean[c] = momentum * runMean[c] + (1 - momentum) * meanF;
                runVar[c] = momentum * runVar[c] + (1 - momentum) * (float) unbiased;
                float a = gamma[c] * invStd, b = beta[c] - meanF * a; // y = a*x + b
                for (int o = 0; o < outer; o++)
                    for (int j = 0, p = (o * channels + c) * inner; j < inner; j++, p++) y[p] = a * x[p] + b;
            }
        });
    }

    static void batchNormInference(float[] x, float[] gamma, float[] beta, float[] runMean, float[] runVar,
                                   float eps, float[] y, int outer, int channels, int inner) {
        Parallel.forRange(channels, CpuConv.grain(outer * inner), (c0, c1) -> {
            for (int c = c0; c < c1; c++) {
                float invStd = (float) (1.0 / Math.sqrt((double) runVar[c] + eps));
                float a = gamma[c] * invStd, b = beta[c] - runMean[c] * a;
                for (int o = 0; o < outer; o++)
                    for (int j = 0, p = (o * channels + c) * inner; j < inner; j++, p++) y[p] = a * x[p] + b;
            }
        });
    }

    /**
     * With xhat = (x - mean) * invStd and M = outer*inner:
     * dBeta += sum(dy), dGamma += sum(dy * xhat),
     * dx = gamma * invStd / M * (M * dy - sum(dy) - xhat * sum(dy * xhat)).
     */
    static void batchNormBackward(float[] x, float[] dy, float[] gamma, float[] saveMean, float[] saveInvStd,
                                  float[] dx, float[] dGamma, float[] dBeta, int outer, int channels, int inner) {
        long count = (long) outer * inner;
        Parallel.forRange(channels, CpuConv.grain(outer * inner), (c0, c1) -> {
            for (int c = c0; c < c1; c++) {
                float mean = saveMean[c], inv = saveInvStd[c];
                double sdy = 0, sdyx = 0;
                for (int o = 0; o < outer; o++)
                    for (int j = 0, p = (o * channels + c) * inner; j < inner; j++, p++) {
                        sdy += dy[p];
                        sdyx += (double) dy[p] * ((x[p] - mean) * inv);
                    }
                dBeta[c] += (float) sdy;
                dGamma[c] += (float) sdyx;
                if (count == 0) continue; // no samples: nothing flows back
                float k = gamma[c] * inv;
                float mdy = (float) (sdy / count), mdyx = (float) (sdyx / count);
                for (int o = 0; o < outer; o++)
                    for (int j = 0, p = (o * channels + c) * inner; j < inner; j++, p++) {
                        float xhat = (x[p] - mean) * inv;
                        dx[p] = k * (dy[p] - mdy - xhat * mdyx);
                    }
            }
        });
    }
}
