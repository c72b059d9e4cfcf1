package dev.shears.core.cpu;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The fast {@link Sgemm#gemm} against the scalar {@link Sgemm#reference} (which accumulates in
 * double). Tolerance: the worst-case bound for a length-k float dot product,
 * |c - ref| <= (k + 2) * 2^-24 * (|alpha| * sum_p |a_ip b_pj| + |beta c_ij|), doubled for slack;
 * a wrong index or a missed element is off by far more than that.
 */
class SgemmTest {
    private static final double U = Math.ulp(1.0f) / 2; // unit round-off, 2^-24

    /** Runs one case on random data with padding around every matrix (offsets, leading dims). */
    private static void check(boolean ta, boolean tb, int m, int n, int k, float alpha, float beta, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int aRows = ta ? k : m, aCols = ta ? m : k;
        int bRows = tb ? n : k, bCols = tb ? k : n;
        int lda = aCols + 3, ldb = bCols + 5, ldc = n + 2;
        int aOff = 7, bOff = 11, cOff = 13;
        float[] a = random(rng, aOff + aRows * lda + 4);
        float[] b = random(rng, bOff + bRows * ldb + 4);
        float[] c0 = random(rng, cOff + m * ldc + 4);
        if (beta == 0f) for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) c0[cOff + i * ldc + j] = Float.NaN;
        float[] got = c0.clone();
        float[] want = c0.clone();
        Sgemm.gemm(ta, tb, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, got, cOff, ldc);
        Sgemm.reference(ta, tb, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, want, cOff, ldc);
        String what = String.format("gemm(transA=%b, transB=%b, m=%d, n=%d, k=%d, alpha=%s, beta=%s)", ta, tb, m, n, k, alpha, beta);
        int bad = 0;
        StringBuilder msg = new StringBuilder();
        for (int idx = 0; idx < got.length; idx++) {
            int rel = idx - cOff;
            boolean inside = rel >= 0 && rel / ldc < m && rel % ldc < n;
            if (!inside) {
                if (Float.floatToRawIntBits(got[idx]) != Float.floatToRawIntBits(c0[idx])) {
                    fail(what + " wrote outside C at array index " + idx);
                }
                continue;
            }
            int i = rel / ldc, j = rel % ldc;
            double mag = 0;
            for (int p = 0; p < k; p++) {
                float av = ta ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
                float bv = tb ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j];
                mag += Math.abs((double) av * bv);
            }
            mag = Math.abs(alpha) * mag + (beta == 0f ? 0 : Math.abs(beta * c0[idx]));
            double tol = 2 * (k + 2) * U * mag + 1e-30;
            double err = Math.abs((double) got[idx] - want[idx]);
            if (!(err <= tol)) {
                if (bad++ < 5) msg.append(String.format("%n  C[%d,%d] = %s, reference %s (|err| %.3g > tol %.3g)", i, j, got[idx], want[idx], err, tol));
            }
        }
        if (bad > 0) fail(what + ": " + bad + " mismatches" + msg);
    }

    private static float[] random(SplittableRandom rng, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (rng.nextDouble() * 2 - 1);
        return v;
    }

    @Test void everyTransposeOnOddSizes() {
        int[] sizes = {1, 2, 7, 17, 33, 129};
        long seed = 1;
        for (boolean ta : new boolean[]{false, true})
            for (boolean tb : new boolean[]{false, true})
                for (int m : sizes)
                    for (int n : sizes)
                        for (int k : new int[]{1, 7, 33, 129})
                            check(ta, tb, m, n, k, 1f, 0f, seed++);
    }

    @Test void alphaAndBeta() {
        long seed = 100;
        for (boolean ta : new boolean[]{false, true})
            for (boolean tb : new boolean[]{false, true})
                for (float[] ab : new float[][]{{1f, 1f}, {0.5f, -2f}, {-1.5f, 0f}, {2f, 0.25f}})
                    for (int[] s : new int[][]{{3, 5, 4}, {37, 45, 19}, {130, 70, 65}})
                        check(ta, tb, s[0], s[1], s[2], ab[0], ab[1], seed++);
    }

    /** Sizes that cross the k-, m- and n-blocks and take the multithreaded path. */
    @Test void blockedAndParallelSizes() {
        long seed = 200;
        for (boolean ta : new boolean[]{false, true})
            for (boolean tb : new boolean[]{false, true}) {
                check(ta, tb, Sgemm.MC + 5, Sgemm.NC + 3, Sgemm.KC + 1, 1f, 0f, seed++);
                check(ta, tb, 2 * Sgemm.MC + Sgemm.MR + 1, 97, 2 * Sgemm.KC + 17, 0.75f, 0.5f, seed++);
            }
    }

    /** The LeNet-300-100 training shapes at batch 128, forward and backward. */
    @Test void lenetShapes() {
        check(false, false, 128, 300, 784, 1f, 0f, 301);
        check(false, false, 128, 100, 300, 1f, 0f, 302);
        check(false, false, 128, 10, 100, 1f, 0f, 303);
        check(true, false, 784, 300, 128, 1f, 1f, 304);  // dW1 = X^T dY, accumulated
        check(true, false, 300, 100, 128, 1f, 0f, 305);
        check(false, true, 128, 300, 100, 1f, 0f, 306);  // dX2 = dY W2^T
        check(false, true, 128, 100, 10, 1f, 0f, 307);
    }

    /**
     * A not transposed, B transposed, few C elements and long k (a convolution's weight gradient,
     * dY_i * cols_i^T) take the dot-product path: row blocks of DOT_ROWS with their edges, column
     * edges, k tails, alpha and beta, and a product big enough to split over threads.
     */
    @Test void dotProductPath() {
        long seed = 500;
        for (int m : new int[]{Sgemm.SMALL_M + 1, 6, 7, 16, 33})
            for (int n : new int[]{1, 3, 4, 25, 150})
                for (int k : new int[]{Sgemm.DOT_MIN_K, Sgemm.DOT_MIN_K + 37, 784})
                    check(false, true, m, n, k, 1f, 0f, seed++);
        check(false, true, 6, 25, 784, 1f, 1f, seed++);      // LeNet-5 conv1 dW, accumulated
        check(false, true, 32, 9, 676, -0.5f, 2f, seed++);   // mnist-cnn conv1 dW
        check(false, true, 16, 150, 100, -0.5f, 2f, seed++); // LeNet-5 conv2 dW: k too short, the packed path
        check(false, true, 60, 60, 1000, 1f, 0.25f, seed++); // over the parallel threshold
    }

    /** m <= SMALL_M takes the streaming path (batch-1 inference), threaded when large. */
    @Test void fewRows() {
        long seed = 400;
        for (boolean ta : new boolean[]{false, true})
            for (boolean tb : new boolean[]{false, true})
                for (int m = 1; m <= Sgemm.SMALL_M + 1; m++) {
                    check(ta, tb, m, 1000, 517, 1f, 0f, seed++);
                    check(ta, tb, m, 19, 23, -0.5f, 2f, seed++);
                }
    }

    @Test void betaZeroIgnoresNaNAndKZeroScales() {
        float[] c = {Float.NaN, Float.NaN, 3f, 4f};
        Sgemm.gemm(false, false, 2, 2, 0, 1f, new float[0], 0, 0, new float[0], 0, 2, 0f, c, 0, 2);
        for (float v : c) assertEquals(0f, v);
        float[] d = {1f, 2f, 3f, 4f};
        Sgemm.gemm(false, false, 2, 2, 3, 0f, new float[6], 0, 3, new float[6], 0, 2, 2f, d, 0, 2);
        assertEquals(8f, d[3]);
        float[] e = {Float.NaN, Float.NaN};
        float[] a = {1f, 2f};
        float[] b = {3f, 4f, 5f, 6f};
        Sgemm.gemm(false, false, 1, 2, 2, 1f, a, 0, 2, b, 0, 2, 0f, e, 0, 2);
        assertEquals(13f, e[0]);
        assertEquals(16f, e[1]);
        assertFalse(Float.isNaN(e[0]));
    }

    @Test void negativeSizeIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Sgemm.gemm(false, false, -1, 2, 2, 1f, new float[4], 0, 2, new float[4], 0, 2, 0f, new float[4], 0, 2));
        assertEquals("sgemm: negative size m=-1 n=2 k=2", e.getMessage());
    }
}
