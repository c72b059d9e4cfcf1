package dev.shears.core.backend;

import dev.shears.core.tensor.DType;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The contract every {@link Backend} must meet: each op on seeded random inputs against the
 * straightforward computations of {@link ReferenceOps} (double precision where they accumulate).
 * Subclass it with a factory: {@code CpuBackendContractTest} here, {@code CudaBackendContractIT}
 * in the CUDA module (shipped to it in gpu-core's test-jar).
 *
 * <p>Tolerances ({@code |actual - expected| <= atol + rtol * |expected|}), and why:
 * <ul>
 *   <li>{@link #EXACT}: memory ops, selections (max pooling, arg-max, im2col, permute), masks,
 *       dropout, magnitude thresholds and counts: no arithmetic, so no rounding to excuse.</li>
 *   <li>{@link #ELEMENTWISE} (atol 1e-6, rtol 2e-5): one float32 expression per element; a GPU's
 *       expf/tanhf/log1pf may be a few ulp (~1e-7 relative each) off the correctly rounded value,
 *       and the reference is computed in double.</li>
 *   <li>{@link #REDUCTION} (atol 2e-5, rtol 1e-4): sums of up to a few hundred float32 terms of
 *       size ~1 in an unspecified order (blocked, tree, atomics): error ~ sqrt(n) * 6e-8 * sum|x|.</li>
 *   <li>{@link #GEMM} (atol 1e-4, rtol 1e-4): dot products of length k <= 300 of values in [-1, 1];
 *       any accumulation order (and TF32 is NOT acceptable: it would miss by ~1e-3).</li>
 * </ul>
 * On a mismatch the message gives the count and the first indices with both values.
 */
public abstract class BackendContractTest {

    protected record Tol(double atol, double rtol) {}

    protected static final Tol EXACT = new Tol(0, 0);
    protected static final Tol ELEMENTWISE = new Tol(1e-6, 2e-5);
    protected static final Tol REDUCTION = new Tol(2e-5, 1e-4);
    protected static final Tol GEMM = new Tol(1e-4, 1e-4);

    /**
     * The backend under test, called before each test; it may return one shared instance (then
     * override {@link #releaseBackend} to keep it open). Throw a JUnit assumption failure to skip.
     */
    protected abstract Backend createBackend();

    /** Called after each test with the backend it used; closes it unless overridden. */
    protected void releaseBackend(Backend backend) { backend.close(); }

    protected Backend be;

    @BeforeEach
    void openBackend() { be = createBackend(); }

    @AfterEach
    void closeBackend() {
        if (be != null) {
            be.synchronize();
            releaseBackend(be);
        }
    }

    // ---------------------------------------------------------------- helpers

    protected static float[] rand(int n, long seed, double lo, double hi) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (lo + (hi - lo) * r.nextDouble());
        return v;
    }

    protected static float[] rand(int n, long seed) { return rand(n, seed, -1, 1); }

    protected static byte[] randMask(int n, long seed, double keep) {
        SplittableRandom r = new SplittableRandom(seed);
        byte[] m = new byte[n];
        for (int i = 0; i < n; i++) m[i] = (byte) (r.nextDouble() < keep ? 1 : 0);
        return m;
    }

    protected Tensor up(float[] v, int... dims) { return be.upload(v, Shape.of(dims)); }

    protected static double[] toDouble(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) d[i] = v[i];
        return d;
    }

    protected static void assertClose(String what, double[] expected, float[] actual, Tol tol) {
        assertEquals(expected.length, actual.length, what + ": length");
        int bad = 0;
        StringBuilder first = new StringBuilder();
        for (int i = 0; i < expected.length; i++) {
            double e = expected[i], a = actual[i];
            boolean ok = (Double.isNaN(e) && Double.isNaN(a)) || Math.abs(a - e) <= tol.atol() + tol.rtol() * Math.abs(e);
            if (!ok) {
                if (bad < 5) first.append(String.format(" [%d] expected %.9g got %.9g;", i, e, a));
                bad++;
            }
        }
        if (bad > 0) fail(what + ": " + bad + " of " + expected.length + " elements off (atol " + tol.atol() + ", rtol " + tol.rtol() + "):" + first);
    }

    protected static void assertClose(String what, float[] expected, float[] actual, Tol tol) {
        assertClose(what, toDouble(expected), actual, tol);
    }

    protected static void assertScalar(String what, double expected, double actual, Tol tol) {
        if (!(Math.abs(actual - expected) <= tol.atol() + tol.rtol() * Math.abs(expected)))
            fail(what + ": expected " + expected + " got " + actual);
    }

    // ---------------------------------------------------------------- memory

    @Test
    void allocateIsZeroFilledAndRoundTrips() {
        Tensor t = be.allocate(Shape.of(3, 5), DType.FLOAT32);
        assertArrayEquals(new float[15], be.download(t));
        assertEquals(Shape.of(3, 5), t.shape());
        Tensor b = be.allocate(Shape.of(7), DType.UINT8);
        assertArrayEquals(new byte[7], be.downloadBytes(b));
        float[] v = rand(37, 1);
        Tensor u = up(v, 37);
        assertArrayEquals(v, be.download(u));
        byte[] bytes = {0, 1, 1, 0, (byte) 200};
        assertArrayEquals(bytes, be.downloadBytes(be.uploadBytes(bytes, Shape.of(5))));
        float[] part = new float[4];
        be.download(u, 10, part, 1, 3);
        assertArrayEquals(new float[]{0, v[10], v[11], v[12]}, part);
    }

    @Test
    void writeCopyAndFill() {
        float[] v = rand(50, 2);
        Tensor t = be.allocate(Shape.of(50), DType.FLOAT32);
        be.write(v, 5, t, 10, 20);
        float[] exp = new float[50];
        System.arraycopy(v, 5, exp, 10, 20);
        assertArrayEquals(exp, be.download(t));

        Tensor src = up(v, 50), dst = be.allocate(Shape.of(60), DType.FLOAT32);
        be.copy(src, 3, dst, 7, 40);
        float[] e2 = new float[60];
        System.arraycopy(v, 3, e2, 7, 40);
        assertArrayEquals(e2, be.download(dst));

        be.fill(dst, 2.5f);
        float[] twos = new float[60];
        java.util.Arrays.fill(twos, 2.5f);
        assertArrayEquals(twos, be.download(dst));

        Tensor bytes = be.uploadBytes(new byte[]{1, 2, 3, 4, 5, 6}, Shape.of(6));
        Tensor bytes2 = be.allocate(Shape.of(6), DType.UINT8);
        be.copy(bytes, 1, bytes2, 0, 4);
        assertArrayEquals(new byte[]{2, 3, 4, 5, 0, 0}, be.downloadBytes(bytes2));
        be.fill(bytes2, 1f);
        assertArrayEquals(new byte[]{1, 1, 1, 1, 1, 1}, be.downloadBytes(bytes2));

        // INT32: copy the labels, then read them back through an op that uses them
        Tensor ints = be.uploadInts(new int[]{9, 2, 0}, Shape.of(3)), ints2 = be.allocate(Shape.of(3), DType.INT32);
        be.copy(ints, ints2);
        float[] logits = new float[3 * 10];
        logits[9] = logits[10 + 2] = logits[20] = 5f;
        assertEquals(3, be.countCorrect(up(logits, 3, 10), ints2, 3, 10));
        be.fill(ints2, 9f);
        assertEquals(1, be.countCorrect(up(logits, 3, 10), ints2, 3, 10));
    }

    @Test
    void countCorrectTiesAndNaN() {
        float nan = Float.NaN;
        // row 0: NaN first, max at 2; row 1: tie between 1 and 3 (first wins); row 2: all NaN -> class 0;
        // row 3: NaN after the max; row 4: a 40-wide row (more than one GPU warp lane each) with NaN and a tie
        int cols = 40;
        float[] x = new float[5 * cols];
        java.util.Arrays.fill(x, -1f);
        x[0] = nan; x[2] = 3f;
        x[cols + 1] = 7f; x[cols + 3] = 7f;
        java.util.Arrays.fill(x, 2 * cols, 3 * cols, nan);
        x[3 * cols + 5] = 4f; x[3 * cols + 6] = nan;
        x[4 * cols + 33] = 9f; x[4 * cols + 37] = 9f; x[4 * cols + 1] = nan; x[4 * cols + 32] = nan;
        Tensor logits = be.upload(x, Shape.of(5, cols));
        assertEquals(5, be.countCorrect(logits, be.uploadInts(new int[]{2, 1, 0, 5, 33}, Shape.of(5)), 5, cols));
        assertEquals(0, be.countCorrect(logits, be.uploadInts(new int[]{0, 3, 1, 6, 37}, Shape.of(5)), 5, cols));
    }

    @Test
    void reshapeSharesStorage() {
        Tensor t = up(rand(12, 3), 3, 4);
        Tensor v = t.reshape(Shape.of(2, 6));
        be.fill(v, 1f);
        float[] ones = new float[12];
        java.util.Arrays.fill(ones, 1f);
        assertArrayEquals(ones, be.download(t));
        assertThrows(IllegalArgumentException.class, () -> t.reshape(Shape.of(5)));
    }

    // ---------------------------------------------------------------- dense math

    @Test
    void gemmAllTranspositionsBatchedWithOffsets() {
        int m = 13, n = 17, k = 29, batch = 3;
        long sa = m * k + 5, sb = k * n + 3, sc = m * n + 7;
        int ao = 4, bo = 2, co = 6;
        for (boolean ta : new boolean[]{false, true})
            for (boolean tb : new boolean[]{false, true}) {
                float[] a = rand((int) (ao + sa * batch), 10), b = rand((int) (bo + sb * batch), 11), c = rand((int) (co + sc * batch), 12);
                Tensor A = up(a, a.length), B = up(b, b.length), C = up(c, c.length);
                be.gemm(ta, tb, m, n, k, 0.75f, A, ao, sa, B, bo, sb, -0.5f, C, co, sc, batch);
                float[] got = be.download(C);
                for (int bi = 0; bi < batch; bi++) {
                    double[] exp = ReferenceOps.gemm(ta, tb, m, n, k, 0.75f, a, (int) (ao + bi * sa), b, (int) (bo + bi * sb),
                            -0.5f, c, (int) (co + bi * sc));
                    float[] slice = java.util.Arrays.copyOfRange(got, (int) (co + bi * sc), (int) (co + bi * sc) + m * n);
                    assertClose("gemm ta=" + ta + " tb=" + tb + " batch " + bi, exp, slice, GEMM);
                }
                // the gaps between the C matrices are untouched
                for (int bi = 0; bi < batch; bi++)
                    for (long i = co + bi * sc + m * n; i < Math.min(c.length, co + (bi + 1) * sc); i++)
                        assertEquals(c[(int) i], got[(int) i], "gemm wrote outside C at " + i);
            }
    }

    @Test
    void gemmBroadcastsAWithStrideZero() {
        // the convolution's form: one weight matrix against a batch of column matrices
        int m = 6, n = 50, k = 27, batch = 9;
        float[] a = rand(m * k, 18), b = rand(k * n * batch, 19);
        Tensor C = be.allocate(Shape.of(batch, m, n), DType.FLOAT32);
        be.gemm(false, false, m, n, k, 1f, up(a, m * k), 0, 0, up(b, b.length), 0, (long) k * n, 0f, C, 0, (long) m * n, batch);
        float[] got = be.download(C);
        for (int bi = 0; bi < batch; bi++)
            assertClose("gemm strideA=0 batch " + bi, ReferenceOps.gemm(false, false, m, n, k, 1f, a, 0, b, bi * k * n, 0f, new float[m * n], 0),
                    java.util.Arrays.copyOfRange(got, bi * m * n, (bi + 1) * m * n), GEMM);
    }

    @Test
    void gemmLargerShapesAndPlainForm() {
        int m = 70, n = 300, k = 257;
        float[] a = rand(m * k, 13), b = rand(k * n, 14);
        Tensor C = be.allocate(Shape.of(m, n), DType.FLOAT32);
        be.gemm(false, false, m, n, k, 1f, up(a, m, k), up(b, k, n), 0f, C);
        assertClose("gemm 70x300x257", ReferenceOps.gemm(false, false, m, n, k, 1f, a, 0, b, 0, 0f, new float[m * n], 0), be.download(C), GEMM);
        float[] bt = rand(n * k, 15);
        be.gemm(true, true, n, m, k, 1f, up(bt, k, n), up(a, m, k), 0f, be.allocate(Shape.of(n, m), DType.FLOAT32));
    }

    @Test
    void gemmBetaZeroIgnoresNaNInC() {
        int m = 5, n = 9, k = 4;
        float[] a = rand(m * k, 16), b = rand(k * n, 17), c = new float[m * n];
        java.util.Arrays.fill(c, Float.NaN);
        Tensor C = up(c, m, n);
        be.gemm(false, false, m, n, k, 1f, up(a, m, k), up(b, k, n), 0f, C);
        assertClose("gemm beta=0 over NaN", ReferenceOps.gemm(false, false, m, n, k, 1f, a, 0, b, 0, 0f, c, 0), be.download(C), GEMM);
    }

    @Test
    void axpyScaleAddMul() {
        int n = 1003;
        float[] x = rand(n, 20), y = rand(n, 21);
        Tensor X = up(x, n), Y = up(y, n);
        be.axpy(-1.5f, X, Y);
        double[] e = new double[n];
        for (int i = 0; i < n; i++) e[i] = y[i] - 1.5 * x[i];
        assertClose("axpy", e, be.download(Y), ELEMENTWISE);

        be.scale(X, 3f);
        for (int i = 0; i < n; i++) e[i] = 3.0 * x[i];
        assertClose("scale", e, be.download(X), ELEMENTWISE);

        Tensor A = up(x, n), B = up(y, n), O = be.allocate(Shape.of(n), DType.FLOAT32);
        be.add(A, B, O);
        for (int i = 0; i < n; i++) e[i] = (double) x[i] + y[i];
        assertClose("add", e, be.download(O), ELEMENTWISE);
        be.add(A, B, A); // out aliases a
        assertClose("add in place", e, be.download(A), ELEMENTWISE);

        A = up(x, n);
        be.mul(A, B, O);
        for (int i = 0; i < n; i++) e[i] = (double) x[i] * y[i];
        assertClose("mul", e, be.download(O), ELEMENTWISE);
        be.mul(A, B, B); // out aliases b
        assertClose("mul in place", e, be.download(B), ELEMENTWISE);
    }

    @Test
    void addBiasAndBiasGrad() {
        for (int[] d : new int[][]{{7, 19, 1}, {3, 5, 37}, {1, 4, 8}}) {
            int o = d[0], c = d[1], in = d[2], n = o * c * in;
            float[] x = rand(n, 30 + c), bias = rand(c, 31 + c), g0 = rand(c, 32 + c);
            Tensor X = up(x, n);
            be.addBias(X, up(bias, c), o, c, in);
            double[] e = new double[n];
            for (int i = 0; i < n; i++) e[i] = (double) x[i] + bias[(i / in) % c];
            assertClose("addBias " + java.util.Arrays.toString(d), e, be.download(X), ELEMENTWISE);

            double[] sums = new double[c];
            for (int i = 0; i < n; i++) sums[(i / in) % c] += x[i];
            Tensor G = up(g0, c);
            be.biasGrad(up(x, n), G, o, c, in, false);
            assertClose("biasGrad overwrite", sums, be.download(G), REDUCTION);
            be.biasGrad(up(x, n), G, o, c, in, true);
            double[] twice = new double[c];
            for (int i = 0; i < c; i++) twice[i] = 2 * sums[i];
            assertClose("biasGrad accumulate", twice, be.download(G), REDUCTION);
        }
    }

    @Test
    void sumAndSumSquares() {
        float[] x = rand(5000, 40, -2, 3);
        double s = 0, q = 0;
        for (float v : x) { s += v; q += (double) v * v; }
        Tensor X = up(x, 5000);
        assertScalar("sum", s, be.sum(X), new Tol(1e-3, 1e-5));
        assertScalar("sumSquares", q, be.sumSquares(X), new Tol(1e-3, 1e-5));
    }

    // ---------------------------------------------------------------- activations, losses

    @ParameterizedTest
    @EnumSource(Activation.class)
    void activationForwardAndBackward(Activation f) {
        int n = 517;
        // RELU_CAPPED's cap 2.5 puts its upper kink on the edge value 2.5 below
        float alpha = f == Activation.ELU ? 0.7f : f == Activation.RELU_CAPPED ? 2.5f
                : f == Activation.HARD_SIGMOID ? Activation.HARD_SIGMOID_SLOPE : 0.2f;
        float beta = f == Activation.HARD_SIGMOID ? Activation.HARD_SIGMOID_OFFSET : 0f; // Keras 2's hard sigmoid
        float[] x = rand(n, 50 + f.ordinal(), -4, 4);
        x[0] = 0f; x[1] = -2.5f; x[2] = 2.5f; x[3] = 30f; x[4] = -30f; // edges and saturation
        x[5] = -3f; x[6] = 3f; // HARD_SWISH's kinks
        double[] e = new double[n];
        for (int i = 0; i < n; i++) e[i] = ReferenceOps.activation(f, alpha, beta, x[i]);
        Tensor X = up(x, n), Y = be.allocate(Shape.of(n), DType.FLOAT32);
        be.activation(f, alpha, beta, X, Y);
        float[] y = be.download(Y);
        assertClose("activation " + f, e, y, ELEMENTWISE);
        be.activation(f, alpha, beta, X, X); // y aliases x
        assertClose("activation " + f + " in place", e, be.download(X), ELEMENTWISE);

        float[] dy = rand(n, 60 + f.ordinal());
        double[] ed = new double[n];
        for (int i = 0; i < n; i++) ed[i] = dy[i] * ReferenceOps.derivative(f, alpha, beta, x[i]);
        Tensor DX = be.allocate(Shape.of(n), DType.FLOAT32), DY = up(dy, n);
        be.activationBackward(f, alpha, beta, up(x, n), up(y, n), DY, DX);
        // the backward may use y = f(x) (float) instead of x: allow its rounding
        assertClose("activationBackward " + f, ed, be.download(DX), new Tol(2e-6, 1e-4));
        be.activationBackward(f, alpha, beta, up(x, n), up(y, n), DY, DY); // dx aliases dy
        assertClose("activationBackward " + f + " in place", ed, be.download(DY), new Tol(2e-6, 1e-4));
    }

    /**
     * HARD_SIGMOID clip(alpha*x + beta, 0, 1) with its slope and offset: Keras 3's / PyTorch's 1/6,
     * 0.5 (kinks -3 and 3), kinks at -1 and 3, a negative slope (kinks swapped: 1 and -1), a slope
     * of 0 (a constant, gradient 0) and an offset outside [0, 1]. The edge values sit on the kinks.
     */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource({"0.16666667, 0.5", "0.25, 0.25", "-0.5, 0.5", "0, 0.3", "0.5, 1.5"})
    void hardSigmoidWithSlopeAndOffset(float alpha, float beta) {
        int n = 301;
        float[] x = rand(n, 81, -5, 5);
        x[0] = -3f; x[1] = 3f; x[2] = -1f; x[3] = 1f; x[4] = 30f; x[5] = -30f; x[6] = 0f;
        double[] e = new double[n];
        for (int i = 0; i < n; i++) e[i] = ReferenceOps.activation(Activation.HARD_SIGMOID, alpha, beta, x[i]);
        Tensor X = up(x, n), Y = be.allocate(Shape.of(n), DType.FLOAT32);
        be.activation(Activation.HARD_SIGMOID, alpha, beta, X, Y);
        float[] y = be.download(Y);
        assertClose("hard sigmoid " + alpha + ", " + beta, e, y, ELEMENTWISE);
        float[] dy = rand(n, 82);
        double[] ed = new double[n];
        for (int i = 0; i < n; i++) ed[i] = dy[i] * ReferenceOps.derivative(Activation.HARD_SIGMOID, alpha, beta, x[i]);
        Tensor DX = be.allocate(Shape.of(n), DType.FLOAT32);
        be.activationBackward(Activation.HARD_SIGMOID, alpha, beta, up(x, n), up(y, n), up(dy, n), DX);
        assertClose("hard sigmoid backward " + alpha + ", " + beta, ed, be.download(DX), ELEMENTWISE);
    }

    /** HARD_SIGMOID at Activation's Keras 2 constants is exactly the one at 0.2, 0.5, and Keras 2's float expression. */
    @Test
    void hardSigmoidAtKeras2ConstantsIsKeras2sBitForBit() {
        int n = 263;
        float[] x = rand(n, 83, -4, 4), dy = rand(n, 84);
        x[0] = -2.5f; x[1] = 2.5f;
        Tensor y4 = be.allocate(Shape.of(n), DType.FLOAT32), y5 = be.allocate(Shape.of(n), DType.FLOAT32);
        be.activation(Activation.HARD_SIGMOID, Activation.HARD_SIGMOID_SLOPE, Activation.HARD_SIGMOID_OFFSET, up(x, n), y4);
        be.activation(Activation.HARD_SIGMOID, 0.2f, 0.5f, up(x, n), y5);
        assertArrayEquals(be.download(y5), be.download(y4));
        float[] expect = new float[n];
        for (int i = 0; i < n; i++) expect[i] = Math.min(1f, Math.max(0f, 0.2f * x[i] + 0.5f)); // the float expression of before
        assertArrayEquals(expect, be.download(y4));
        Tensor d4 = be.allocate(Shape.of(n), DType.FLOAT32), d5 = be.allocate(Shape.of(n), DType.FLOAT32);
        be.activationBackward(Activation.HARD_SIGMOID, Activation.HARD_SIGMOID_SLOPE, Activation.HARD_SIGMOID_OFFSET, up(x, n), y4, up(dy, n), d4);
        be.activationBackward(Activation.HARD_SIGMOID, 0.2f, 0.5f, up(x, n), y5, up(dy, n), d5);
        float[] d = be.download(d4);
        assertArrayEquals(be.download(d5), d);
        for (int i = 0; i < n; i++) assertEquals(x[i] > -2.5f && x[i] < 2.5f ? 0.2f * dy[i] : 0f, d[i], "x = " + x[i]);
        assertEquals(0f, d[0]);
        assertEquals(0f, d[1]);
    }

    @Test
    void preluForwardAndBackward() {
        int o = 3, c = 4, in = 5, n = o * c * in;
        float[] x = rand(n, 70), slope = rand(c, 71, 0, 0.5), dy = rand(n, 72), ds0 = rand(c, 73);
        Tensor Y = be.allocate(Shape.of(n), DType.FLOAT32);
        be.prelu(up(x, n), up(slope, c), Y, o, c, in);
        double[] e = new double[n], edx = new double[n], eds = toDouble(ds0);
        for (int i = 0; i < n; i++) {
            int ch = (i / in) % c;
            e[i] = x[i] > 0 ? x[i] : (double) slope[ch] * x[i];
            edx[i] = x[i] > 0 ? dy[i] : (double) slope[ch] * dy[i];
            if (x[i] <= 0) eds[ch] += (double) dy[i] * x[i];
        }
        assertClose("prelu", e, be.download(Y), ELEMENTWISE);
        Tensor DX = be.allocate(Shape.of(n), DType.FLOAT32), DS = up(ds0, c);
        be.preluBackward(up(x, n), up(slope, c), up(dy, n), DX, DS, o, c, in);
        assertClose("preluBackward dx", edx, be.download(DX), ELEMENTWISE);
        assertClose("preluBackward dSlope (accumulated)", eds, be.download(DS), REDUCTION);
    }

    @Test
    void softmaxLogSoftmaxAndBackward() {
        int rows = 9, cols = 37;
        float[] x = rand(rows * cols, 80, -8, 8);
        x[5] = 80f; // large logits must not overflow
        Tensor Y = be.allocate(Shape.of(rows, cols), DType.FLOAT32), L = be.allocate(Shape.of(rows, cols), DType.FLOAT32);
        be.softmax(up(x, rows, cols), Y, rows, cols);
        be.logSoftmax(up(x, rows, cols), L, rows, cols);
        double[] sm = ReferenceOps.softmax(x, rows, cols, false), lsm = ReferenceOps.softmax(x, rows, cols, true);
        float[] y = be.download(Y), l = be.download(L);
        assertClose("softmax", sm, y, ELEMENTWISE);
        assertClose("logSoftmax", lsm, l, new Tol(1e-5, 2e-5));
        Tensor inPlace = up(x, rows, cols);
        be.softmax(inPlace, inPlace, rows, cols);
        assertClose("softmax in place", sm, be.download(inPlace), ELEMENTWISE);

        float[] dy = rand(rows * cols, 81);
        double[] e = new double[rows * cols], el = new double[rows * cols];
        for (int r = 0; r < rows; r++) {
            double dot = 0, s = 0;
            for (int j = 0; j < cols; j++) { dot += (double) dy[r * cols + j] * y[r * cols + j]; s += dy[r * cols + j]; }
            for (int j = 0; j < cols; j++) {
                e[r * cols + j] = y[r * cols + j] * (dy[r * cols + j] - dot);
                el[r * cols + j] = dy[r * cols + j] - Math.exp(l[r * cols + j]) * s;
            }
        }
        Tensor DX = be.allocate(Shape.of(rows, cols), DType.FLOAT32);
        be.softmaxBackward(up(y, rows, cols), up(dy, rows, cols), DX, rows, cols);
        assertClose("softmaxBackward", e, be.download(DX), REDUCTION);
        be.logSoftmaxBackward(up(l, rows, cols), up(dy, rows, cols), DX, rows, cols);
        assertClose("logSoftmaxBackward", el, be.download(DX), REDUCTION);
    }

    @Test
    void softmaxCrossEntropyAndCountCorrect() {
        int rows = 33, cols = 10;
        float[] x = rand(rows * cols, 90, -5, 5);
        int[] labels = new int[rows];
        SplittableRandom r = new SplittableRandom(91);
        for (int i = 0; i < rows; i++) labels[i] = r.nextInt(cols);
        double[] lsm = ReferenceOps.softmax(x, rows, cols, true);
        double loss = 0;
        double[] eg = new double[rows * cols];
        int correct = 0;
        for (int i = 0; i < rows; i++) {
            loss -= lsm[i * cols + labels[i]];
            int best = 0;
            for (int j = 0; j < cols; j++) {
                eg[i * cols + j] = (Math.exp(lsm[i * cols + j]) - (j == labels[i] ? 1 : 0)) * 0.25;
                if (x[i * cols + j] > x[i * cols + best]) best = j;
            }
            if (best == labels[i]) correct++;
        }
        Tensor X = up(x, rows, cols), Lb = be.uploadInts(labels, Shape.of(rows)), G = be.allocate(Shape.of(rows, cols), DType.FLOAT32);
        assertScalar("softmaxCrossEntropy loss", loss, be.softmaxCrossEntropy(X, Lb, G, 0.25f, rows, cols), new Tol(1e-4, 1e-5));
        assertClose("softmaxCrossEntropy dLogits", eg, be.download(G), ELEMENTWISE);
        assertScalar("softmaxCrossEntropy loss (no gradient)", loss, be.softmaxCrossEntropy(X, Lb, null, 1f, rows, cols), new Tol(1e-4, 1e-5));
        assertEquals(correct, be.countCorrect(X, Lb, rows, cols));
    }

    /**
     * Equal logits give log(cols) whatever their size: rows of 1e20 and -1e20 (which a real ResNet-50
     * graph with placeholder weights produces) scored 0 when max was added to log(sum) before x[label]
     * was subtracted.
     */
    @Test
    void softmaxCrossEntropyOfHugeEqualLogits() {
        int rows = 3, cols = 4;
        float[] x = new float[rows * cols];
        float[] level = {1e20f, -1e20f, 3e38f};
        for (int i = 0; i < rows; i++) java.util.Arrays.fill(x, i * cols, (i + 1) * cols, level[i]);
        Tensor X = up(x, rows, cols), Lb = be.uploadInts(new int[]{2, 0, 3}, Shape.of(rows));
        assertScalar("softmaxCrossEntropy of equal huge logits", rows * Math.log(cols),
                be.softmaxCrossEntropy(X, Lb, null, 1f, rows, cols), new Tol(1e-6, 1e-6));
    }

    // ---------------------------------------------------------------- convolution and pooling

    /** Geometries with stride, asymmetric padding, dilation, rectangular kernels, ceil mode. */
    protected static List<ConvGeometry> geometries() {
        return List.of(
                ConvGeometry.simple(3, 6, 7, 3, 1, 1),
                new ConvGeometry(2, 9, 8, 3, 2, 2, 3, 0, 1, 2, 0, 1, 1, false),
                new ConvGeometry(2, 10, 9, 3, 3, 1, 2, 2, 1, 1, 2, 2, 2, false),
                new ConvGeometry(1, 7, 7, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, true),
                new ConvGeometry(4, 5, 5, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, false));
    }

    @Test
    void im2colAndCol2im() {
        int gi = 0;
        for (ConvGeometry g : geometries()) {
            int img = g.channels() * g.height() * g.width(), rows = g.colRows(), cols = g.colCols();
            float[] x = rand(img + 11, 100 + gi);
            Tensor X = up(x, x.length), C = up(rand(rows * cols + 3, 101), rows * cols + 3);
            be.im2col(X, 11, g, C, 3);
            float[] got = be.download(C);
            double[] exp = new double[rows * cols];
            for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) exp[r * cols + c] = ReferenceOps.tap(x, 11, g, r, c);
            assertClose("im2col " + g, exp, java.util.Arrays.copyOfRange(got, 3, got.length), EXACT);

            // col2im accumulates the adjoint: dx[tap] += cols[r, c]
            float[] cv = rand(rows * cols, 102 + gi), dx0 = rand(img + 5, 103 + gi);
            double[] edx = toDouble(dx0);
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < cols; c++) {
                    int at = ReferenceOps.tapIndex(g, r, c);
                    if (at >= 0) edx[5 + at] += cv[r * cols + c];
                }
            Tensor DX = up(dx0, dx0.length);
            be.col2im(up(cv, cv.length), 0, g, DX, 5);
            assertClose("col2im " + g, edx, be.download(DX), REDUCTION);
            gi++;
        }
    }

    /**
     * One matrix per image: cols [n, rows, hw] with matrix i what im2col writes for image i, and
     * its adjoint adding into dx (not overwriting it); with enough images (and a LeNet-like
     * single-channel layer) for the CPU to split them over threads.
     */
    @Test
    void im2colImagesAndCol2imImages() {
        int gi = 0;
        List<ConvGeometry> all = new java.util.ArrayList<>(geometries());
        all.add(ConvGeometry.simple(1, 28, 28, 5, 1, 2));
        for (ConvGeometry g : all) {
            int n = 70, img = g.channels() * g.height() * g.width(), rows = g.colRows(), hw = g.colCols(), mat = rows * hw;
            float[] x = rand(n * img + 7, 420 + gi);
            float[] c0 = rand(n * mat + 5, 421 + gi);
            Tensor X = up(x, x.length), C = up(c0, c0.length);
            be.im2colImages(X, 7, n, g, C, 2);
            double[] exp = toDouble(c0);
            for (int i = 0; i < n; i++)
                for (int r = 0; r < rows; r++)
                    for (int c = 0; c < hw; c++) exp[2 + i * mat + r * hw + c] = ReferenceOps.tap(x, 7 + i * img, g, r, c);
            assertClose("im2colImages " + g, exp, be.download(C), EXACT);

            float[] cv = rand(n * mat + 3, 422 + gi), dx0 = rand(n * img + 4, 423 + gi);
            double[] edx = toDouble(dx0);
            for (int i = 0; i < n; i++)
                for (int r = 0; r < rows; r++)
                    for (int c = 0; c < hw; c++) {
                        int at = ReferenceOps.tapIndex(g, r, c);
                        if (at >= 0) edx[4 + i * img + at] += cv[3 + i * mat + r * hw + c];
                    }
            Tensor DX = up(dx0, dx0.length);
            be.col2imImages(up(cv, cv.length), 3, n, g, DX, 4);
            assertClose("col2imImages " + g, edx, be.download(DX), REDUCTION);
            gi++;
        }
    }

    /**
     * im2colBatch lays the images' im2col matrices side by side (image i in columns
     * [i*outH*outW, (i+1)*outH*outW)), at offsets into both buffers and leaving the rest of cols
     * alone; col2imBatch folds each image's columns into its own image (accumulating).
     */
    @Test
    void im2colBatchAndCol2imBatch() {
        int gi = 0;
        for (ConvGeometry g : geometries()) {
            int n = 3, img = g.channels() * g.height() * g.width(), rows = g.colRows(), hw = g.colCols(), span = n * hw;
            float[] x = rand(n * img + 7, 400 + gi);
            float[] c0 = rand(rows * span + 5, 401 + gi);
            Tensor X = up(x, x.length), C = up(c0, c0.length);
            be.im2colBatch(X, 7, n, g, C, 2);
            double[] exp = toDouble(c0);
            for (int i = 0; i < n; i++)
                for (int r = 0; r < rows; r++)
                    for (int c = 0; c < hw; c++) exp[2 + r * span + i * hw + c] = ReferenceOps.tap(x, 7 + i * img, g, r, c);
            assertClose("im2colBatch " + g, exp, be.download(C), EXACT);

            float[] cv = rand(rows * span, 402 + gi), dx0 = rand(n * img + 4, 403 + gi);
            double[] edx = toDouble(dx0);
            for (int i = 0; i < n; i++)
                for (int r = 0; r < rows; r++)
                    for (int c = 0; c < hw; c++) {
                        int at = ReferenceOps.tapIndex(g, r, c);
                        if (at >= 0) edx[4 + i * img + at] += cv[r * span + i * hw + c];
                    }
            Tensor DX = up(dx0, dx0.length);
            be.col2imBatch(up(cv, cv.length), 0, n, g, DX, 4);
            assertClose("col2imBatch " + g, edx, be.download(DX), REDUCTION);
            gi++;
        }
        ConvGeometry g = geometries().get(0);
        Tensor X = be.allocate(Shape.of(2 * g.channels() * g.height() * g.width()), DType.FLOAT32);
        Tensor C = be.allocate(Shape.of(2L * g.colRows() * g.colCols() - 1), DType.FLOAT32);
        assertThrows(IllegalArgumentException.class, () -> be.im2colBatch(X, 0, 2, g, C, 0), "cols one element short");
        assertThrows(IllegalArgumentException.class, () -> be.im2colBatch(X, 0, 0, g, C, 0), "no images");
        assertThrows(IllegalArgumentException.class, () -> be.col2imBatch(C, 0, 2, g, X, 0), "cols one element short");
    }

    /**
     * Pools whose windows all lie inside the image (no padding; the CPU takes a path without
     * clipping for them, unrolled for 2x2 stride 2), on enough planes to run in parallel: values
     * exactly as the reference, and the gradient routed to the reference's arg-maxima (ties to the
     * first tap), which checks the arg-maxima the backend recorded.
     */
    @Test
    void maxPoolWindowsInsideTheImage() {
        int n = 5, gi = 0;
        for (ConvGeometry g : List.of(
                new ConvGeometry(16, 28, 28, 2, 2, 2, 2, 0, 0, 0, 0, 1, 1, false),
                new ConvGeometry(16, 9, 11, 2, 2, 2, 2, 0, 0, 0, 0, 1, 1, false),  // odd sizes: last row/column unused
                new ConvGeometry(16, 13, 13, 3, 3, 2, 2, 0, 0, 0, 0, 1, 1, false),
                new ConvGeometry(16, 12, 10, 3, 2, 1, 2, 0, 0, 0, 0, 2, 1, false))) {
            int in = n * g.channels() * g.height() * g.width(), out = n * g.channels() * g.outH() * g.outW();
            float[] x = rand(in, 130 + gi);
            for (int i = 0; i < in; i += 3) x[i] = x[(i + 1) % in]; // ties: the first in window order wins
            int[] arg = new int[out];
            float[] ey = ReferenceOps.maxPool(x, arg, g, n);
            Tensor Y = be.allocate(Shape.of(out), DType.FLOAT32), A = be.allocate(Shape.of(out), DType.INT32);
            be.maxPool(up(x, in), Y, A, g, n);
            assertClose("maxPool " + g, ey, be.download(Y), EXACT);

            float[] dy = rand(out, 131 + gi);
            double[] edx = new double[in];
            int planeIn = g.height() * g.width(), planeOut = g.outH() * g.outW();
            for (int o = 0; o < out; o++) edx[(o / planeOut) * planeIn + arg[o]] += dy[o];
            Tensor DX = up(rand(in, 132), in); // overwritten, not accumulated
            be.maxPoolBackward(up(dy, out), A, DX, g, n);
            assertClose("maxPoolBackward " + g, edx, be.download(DX), REDUCTION);
            gi++;
        }
    }

    @Test
    void maxPoolAndBackward() {
        int n = 2, gi = 0;
        for (ConvGeometry g : geometries()) {
            int in = n * g.channels() * g.height() * g.width(), out = n * g.channels() * g.outH() * g.outW();
            float[] x = rand(in, 110 + gi);
            for (int i = 0; i < in; i += 7) x[i] = x[(i + 1) % in]; // ties: the first in window order wins
            int[] arg = new int[out];
            float[] ey = ReferenceOps.maxPool(x, arg, g, n);
            Tensor Y = be.allocate(Shape.of(out), DType.FLOAT32), A = be.allocate(Shape.of(out), DType.INT32);
            be.maxPool(up(x, in), Y, A, g, n);
            assertClose("maxPool " + g, ey, be.download(Y), EXACT);
            be.maxPool(up(x, in), Y, null, g, n); // arg-max optional

            float[] dy = rand(out, 111 + gi);
            double[] edx = new double[in];
            int planeIn = g.height() * g.width(), planeOut = g.outH() * g.outW();
            for (int o = 0; o < out; o++) if (arg[o] >= 0) edx[(o / planeOut) * planeIn + arg[o]] += dy[o];
            Tensor DX = up(rand(in, 112), in); // overwritten, not accumulated
            be.maxPoolBackward(up(dy, out), A, DX, g, n);
            assertClose("maxPoolBackward " + g, edx, be.download(DX), REDUCTION);
            gi++;
        }
    }

    @Test
    void avgPoolAndBackward() {
        int n = 2, gi = 0;
        for (ConvGeometry g : geometries()) {
            for (boolean includePad : new boolean[]{true, false}) {
                int in = n * g.channels() * g.height() * g.width(), out = n * g.channels() * g.outH() * g.outW();
                float[] x = rand(in, 120 + gi);
                int[] div = new int[out];
                double[] ey = ReferenceOps.avgPool(x, g, n, includePad, div);
                Tensor Y = be.allocate(Shape.of(out), DType.FLOAT32);
                be.avgPool(up(x, in), Y, g, n, includePad);
                assertClose("avgPool " + g + " includePad=" + includePad, ey, be.download(Y), REDUCTION);

                float[] dy = rand(out, 121 + gi);
                double[] edx = new double[in];
                ConvGeometry one = new ConvGeometry(1, g.height(), g.width(), g.kernelH(), g.kernelW(), g.strideH(), g.strideW(),
                        g.padTop(), g.padLeft(), g.padBottom(), g.padRight(), g.dilationH(), g.dilationW(), g.ceilMode());
                int planeIn = g.height() * g.width(), planeOut = g.outH() * g.outW();
                for (int o = 0; o < out; o++)
                    for (int r = 0; r < g.kernelH() * g.kernelW(); r++) {
                        int at = ReferenceOps.tapIndex(one, r, o % planeOut);
                        if (at >= 0 && div[o] > 0) edx[(o / planeOut) * planeIn + at] += (double) dy[o] / div[o];
                    }
                Tensor DX = up(rand(in, 122), in);
                be.avgPoolBackward(up(dy, out), DX, g, n, includePad);
                assertClose("avgPoolBackward " + g + " includePad=" + includePad, edx, be.download(DX), REDUCTION);
                gi++;
            }
        }
    }

    /** Sizes large enough that a backend splits the work (CPU threads, GPU blocks): same results. */
    @Test
    void largeImageOpsAgreeWithTheReference() {
        ConvGeometry g = ConvGeometry.simple(48, 20, 20, 3, 1, 1);
        int img = 48 * 400, rows = g.colRows(), cols = g.colCols();
        float[] x = rand(img, 300);
        Tensor C = be.allocate(Shape.of(rows * cols), DType.FLOAT32);
        be.im2col(up(x, img), 0, g, C, 0);
        double[] exp = new double[rows * cols];
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) exp[r * cols + c] = ReferenceOps.tap(x, 0, g, r, c);
        assertClose("im2col (large)", exp, be.download(C), EXACT);
        float[] cv = rand(rows * cols, 301);
        double[] edx = new double[img];
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) {
            int at = ReferenceOps.tapIndex(g, r, c);
            if (at >= 0) edx[at] += cv[r * cols + c];
        }
        Tensor DX = be.allocate(Shape.of(img), DType.FLOAT32);
        be.col2im(up(cv, cv.length), 0, g, DX, 0);
        assertClose("col2im (large)", edx, be.download(DX), REDUCTION);

        int n = 6;
        ConvGeometry p = new ConvGeometry(32, 24, 24, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, true);
        int in = n * 32 * 576, out = n * 32 * p.outH() * p.outW();
        float[] px = rand(in, 302);
        int[] arg = new int[out];
        Tensor Y = be.allocate(Shape.of(out), DType.FLOAT32);
        be.maxPool(up(px, in), Y, be.allocate(Shape.of(out), DType.INT32), p, n);
        assertClose("maxPool (large)", ReferenceOps.maxPool(px, arg, p, n), be.download(Y), EXACT);
        be.avgPool(up(px, in), Y, p, n, false);
        assertClose("avgPool (large)", ReferenceOps.avgPool(px, p, n, false, null), be.download(Y), REDUCTION);

        int o = 16, ch = 24, inner = 256, bn = o * ch * inner;
        float[] bx = rand(bn, 303, -1, 3), ones = new float[ch];
        java.util.Arrays.fill(ones, 1f);
        Tensor BY = be.allocate(Shape.of(bn), DType.FLOAT32);
        be.batchNormTrain(up(bx, bn), up(ones, ch), be.zeros(ch), be.zeros(ch), up(ones, ch), 0.9f, 1e-5f, BY,
                be.zeros(ch), be.zeros(ch), o, ch, inner);
        double[][] st = ReferenceOps.channelStats(bx, o, ch, inner);
        double[] ey = new double[bn];
        for (int i = 0; i < bn; i++) {
            int c = (i / inner) % ch;
            ey[i] = (bx[i] - st[0][c]) / Math.sqrt(st[1][c] + 1e-5);
        }
        assertClose("batchNormTrain (large)", ey, be.download(BY), REDUCTION);
    }

    // ---------------------------------------------------------------- normalisation, dropout

    @Test
    void batchNormTrainInferenceAndBackward() {
        int o = 6, c = 3, in = 10, n = o * c * in;
        float[] x = rand(n, 130, 2, 5); // an offset mean tests the variance numerics
        float[] gamma = rand(c, 131, 0.5, 1.5), beta = rand(c, 132), rm = rand(c, 133), rv = rand(c, 134, 0.5, 2);
        float momentum = 0.9f, eps = 1e-3f;
        double[][] st = ReferenceOps.channelStats(x, o, c, in);
        double m = (double) o * in;
        double[] ey = new double[n], erm = new double[c], erv = new double[c], emean = st[0], einv = new double[c];
        for (int ch = 0; ch < c; ch++) {
            einv[ch] = 1 / Math.sqrt(st[1][ch] + eps);
            erm[ch] = momentum * rm[ch] + (1 - momentum) * st[0][ch];
            erv[ch] = momentum * rv[ch] + (1 - momentum) * st[1][ch] * m / (m - 1);
        }
        for (int i = 0; i < n; i++) {
            int ch = (i / in) % c;
            ey[i] = gamma[ch] * (x[i] - st[0][ch]) * einv[ch] + beta[ch];
        }
        Tensor X = up(x, n), G = up(gamma, c), B = up(beta, c), RM = up(rm, c), RV = up(rv, c);
        Tensor Y = be.allocate(Shape.of(n), DType.FLOAT32), SM = be.allocate(Shape.of(c), DType.FLOAT32), SI = be.allocate(Shape.of(c), DType.FLOAT32);
        be.batchNormTrain(X, G, B, RM, RV, momentum, eps, Y, SM, SI, o, c, in);
        assertClose("batchNormTrain y", ey, be.download(Y), REDUCTION);
        assertClose("batchNormTrain saveMean", emean, be.download(SM), REDUCTION);
        assertClose("batchNormTrain saveInvStd", einv, be.download(SI), REDUCTION);
        assertClose("batchNormTrain runningMean", erm, be.download(RM), REDUCTION);
        assertClose("batchNormTrain runningVar (unbiased batch variance)", erv, be.download(RV), REDUCTION);

        double[] ei = new double[n];
        for (int i = 0; i < n; i++) {
            int ch = (i / in) % c;
            ei[i] = gamma[ch] * (x[i] - rm[ch]) / Math.sqrt(rv[ch] + eps) + beta[ch];
        }
        Tensor YI = be.allocate(Shape.of(n), DType.FLOAT32);
        be.batchNormInference(X, G, B, up(rm, c), up(rv, c), eps, YI, o, c, in);
        assertClose("batchNormInference", ei, be.download(YI), REDUCTION);

        float[] dy = rand(n, 135), dg0 = rand(c, 136), db0 = rand(c, 137);
        double[] sdy = new double[c], sdyx = new double[c];
        for (int i = 0; i < n; i++) {
            int ch = (i / in) % c;
            sdy[ch] += dy[i];
            sdyx[ch] += dy[i] * (x[i] - emean[ch]) * einv[ch];
        }
        double[] edx = new double[n], edg = new double[c], edb = new double[c];
        for (int ch = 0; ch < c; ch++) { edg[ch] = dg0[ch] + sdyx[ch]; edb[ch] = db0[ch] + sdy[ch]; }
        for (int i = 0; i < n; i++) {
            int ch = (i / in) % c;
            double xh = (x[i] - emean[ch]) * einv[ch];
            edx[i] = gamma[ch] * einv[ch] / m * (m * dy[i] - sdy[ch] - xh * sdyx[ch]);
        }
        Tensor DX = be.allocate(Shape.of(n), DType.FLOAT32), DG = up(dg0, c), DB = up(db0, c);
        be.batchNormBackward(X, up(dy, n), G, SM, SI, DX, DG, DB, o, c, in);
        assertClose("batchNormBackward dx", edx, be.download(DX), REDUCTION);
        assertClose("batchNormBackward dGamma (accumulated)", edg, be.download(DG), REDUCTION);
        assertClose("batchNormBackward dBeta (accumulated)", edb, be.download(DB), REDUCTION);
    }

    @Test
    void dropoutMaskFollowsTheDocumentedHash() {
        int n = 20_000;
        float rate = 0.3f;
        long seed = 0x5EEDL;
        float[] x = rand(n, 140);
        Tensor Y = be.allocate(Shape.of(n), DType.FLOAT32), K = be.allocate(Shape.of(n), DType.UINT8);
        be.dropout(up(x, n), Y, K, rate, seed);
        byte[] k = be.downloadBytes(K);
        float[] y = be.download(Y);
        float scale = 1.0f / (1.0f - rate);
        int kept = 0;
        double[] ey = new double[n];
        for (int i = 0; i < n; i++) {
            boolean keep = ReferenceOps.dropoutKeep(seed, i, rate);
            assertEquals(keep ? 1 : 0, k[i], "keep mask at " + i);
            ey[i] = keep ? x[i] * scale : 0f;
            if (keep) kept++;
        }
        assertClose("dropout y", ey, y, EXACT);
        double p = 1 - rate, sd = Math.sqrt(n * p * (1 - p));
        assertTrue(Math.abs(kept - n * p) < 5 * sd, "kept " + kept + " of " + n + " at rate " + rate);

        float[] dy = rand(n, 141);
        double[] edx = new double[n];
        for (int i = 0; i < n; i++) edx[i] = k[i] != 0 ? dy[i] * scale : 0f;
        Tensor DX = be.allocate(Shape.of(n), DType.FLOAT32);
        be.dropoutBackward(up(dy, n), K, DX, rate);
        assertClose("dropoutBackward", edx, be.download(DX), EXACT);

        // another seed, another mask
        be.dropout(up(x, n), Y, K, rate, seed + 1);
        assertTrue(!java.util.Arrays.equals(k, be.downloadBytes(K)), "a new seed must draw a new mask");
    }

    // ---------------------------------------------------------------- pruning

    /** Weights quantised to a few levels (heavy ties), some exact zeros and negative zeros. */
    protected static float[] tiedWeights(int n, long seed, int levels) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] w = new float[n];
        for (int i = 0; i < n; i++) {
            int q = r.nextInt(levels + 1); // 0..levels, 0 = zero
            float v = q * 0.125f;
            w[i] = r.nextBoolean() ? v : -v;
        }
        return w;
    }

    @Test
    void magnitudeThresholdsLayerScopeIsExactWithTies() {
        List<float[]> ws = List.of(tiedWeights(1000, 150, 5), tiedWeights(333, 151, 2), rand(4097, 152), tiedWeights(7, 153, 1));
        List<Tensor> ts = new ArrayList<>();
        for (float[] w : ws) ts.add(up(w, w.length));
        SplittableRandom r = new SplittableRandom(154);
        for (int trial = 0; trial < 5; trial++) {
            long[] k = new long[ws.size()];
            for (int i = 0; i < k.length; i++) k[i] = trial == 0 ? 1 : trial == 1 ? ws.get(i).length : 1 + r.nextInt(ws.get(i).length);
            float[] th = new float[k.length];
            long[] below = new long[k.length], equal = new long[k.length];
            be.magnitudeThresholds(ts, k, false, th, below, equal);
            for (int i = 0; i < k.length; i++) {
                float e = ReferenceOps.kthMagnitude(List.of(ws.get(i)), k[i]);
                assertEquals(e, th[i], "layer " + i + " k=" + k[i]);
                long eb = 0, eq = 0;
                for (float v : ws.get(i)) { if (Math.abs(v) < e) eb++; else if (Math.abs(v) == e) eq++; }
                assertEquals(eb, below[i], "below, layer " + i);
                assertEquals(eq, equal[i], "equal, layer " + i);
                assertTrue(below[i] < k[i] && k[i] <= below[i] + equal[i], "k-th lies among the ties");
            }
        }
    }

    @Test
    void magnitudeThresholdsGlobalScopeIsExactWithTies() {
        List<float[]> ws = List.of(tiedWeights(800, 160, 3), rand(2000, 161, -0.5, 0.5), tiedWeights(50, 162, 1), new float[64]);
        List<Tensor> ts = new ArrayList<>();
        int total = 0;
        for (float[] w : ws) { ts.add(up(w, w.length)); total += w.length; }
        for (long k : new long[]{1, 64, 65, total / 2, total * 9L / 10, total}) {
            float[] th = new float[ws.size()];
            long[] below = new long[ws.size()], equal = new long[ws.size()];
            be.magnitudeThresholds(ts, new long[]{k}, true, th, below, equal);
            float e = ReferenceOps.kthMagnitude(ws, k);
            long sumBelow = 0, sumEqual = 0;
            for (int i = 0; i < ws.size(); i++) {
                assertEquals(e, th[i], "global threshold for k=" + k + " in tensor " + i);
                long eb = 0, eq = 0;
                for (float v : ws.get(i)) { if (Math.abs(v) < e) eb++; else if (Math.abs(v) == e) eq++; }
                assertEquals(eb, below[i], "below, tensor " + i + ", k=" + k);
                assertEquals(eq, equal[i], "equal, tensor " + i + ", k=" + k);
                sumBelow += below[i];
                sumEqual += equal[i];
            }
            assertTrue(sumBelow < k && k <= sumBelow + sumEqual, "k=" + k + " lies among the global ties");
        }
    }

    @Test
    void magnitudeThresholdsRejectsBadK() {
        List<Tensor> ts = List.of(up(rand(10, 170), 10));
        float[] th = new float[1];
        long[] a = new long[1], b = new long[1];
        assertThrows(IllegalArgumentException.class, () -> be.magnitudeThresholds(ts, new long[]{0}, false, th, a, b));
        assertThrows(IllegalArgumentException.class, () -> be.magnitudeThresholds(ts, new long[]{11}, true, th, a, b));
    }

    @Test
    void updateMaskPrunesExactlyKAndOnlyGainsZeros() {
        int n = 3001;
        float[] w = tiedWeights(n, 180, 4);
        byte[] oldMask = randMask(n, 181, 0.8);
        for (int i = 0; i < n; i++) if (oldMask[i] == 0) w[i] = 0f; // the invariant: masked weights are zero
        int masked = 0;
        for (byte b : oldMask) if (b == 0) masked++;
        for (long k : new long[]{masked, masked + 1, n / 2, n - 3, n}) {
            Tensor W = up(w, n), M = be.uploadBytes(oldMask, Shape.of(n));
            float[] th = new float[1];
            long[] below = new long[1], equal = new long[1];
            be.magnitudeThresholds(List.of(W), new long[]{k}, false, th, below, equal);
            long ties = k - below[0];
            long ones = be.updateMask(W, M, th[0], ties);
            byte[] got = be.downloadBytes(M);
            assertArrayEquals(ReferenceOps.updateMask(w, oldMask, th[0], ties), got, "mask for k=" + k);
            assertEquals(n - k, ones, "ones returned for k=" + k);
            float[] wNew = be.download(W);
            long zeros = 0;
            for (int i = 0; i < n; i++) {
                if (oldMask[i] == 0) assertEquals(0, got[i], "masks only gain zeros (" + i + ")");
                if (got[i] == 0) { zeros++; assertEquals(0f, wNew[i], "masked weight " + i + " zeroed"); }
                else assertEquals(w[i], wNew[i], "kept weight " + i + " untouched");
            }
            assertEquals(k, zeros, "exactly k pruned");
        }
        // a target below what is already masked keeps every old zero
        Tensor W = up(w, n), M = be.uploadBytes(oldMask, Shape.of(n));
        be.updateMask(W, M, 0f, 1);
        byte[] got = be.downloadBytes(M);
        for (int i = 0; i < n; i++) if (oldMask[i] == 0) assertEquals(0, got[i]);
    }

    @Test
    void updateMaskNmKeepsTheLargestOfEveryGroup() {
        // {outer, k, inner, m, keep}: a Dense kernel [22, 7] with a short last group (22 = 5*4 + 2),
        // Conv2D kernels as the pruner lays them out, (out, in, kh*kw): [8, 6, 3, 3] (groups of
        // input channels 0-3 and a short 4-5 at each of 9 positions), [4, 16, 5, 5], a 1x1 [3, 5, 1, 1];
        // a flat k = 27 run (a last group of 3), longer groups, keep 0 and keep m, and LeNet's first
        // layer [784, 300] (58800 groups: many blocks on a GPU)
        int[][] cases = {{1, 22, 7, 4, 2}, {8, 6, 9, 4, 2}, {8, 6, 9, 4, 3}, {4, 16, 25, 4, 2}, {3, 5, 1, 4, 2},
                {5, 27, 1, 4, 1}, {5, 27, 1, 4, 3}, {3, 37, 2, 8, 3}, {2, 37, 3, 16, 5},
                {1, 13, 4, 32, 7}, {2, 9, 3, 4, 0}, {2, 9, 3, 4, 4}, {1, 784, 300, 4, 2}, {4, 5, 1, 1, 1}};
        int seed = 200;
        for (int[] c : cases) {
            int outer = c[0], k = c[1], inner = c[2], m = c[3], keep = c[4], n = outer * k * inner;
            String what = "updateMaskNm [outer " + outer + ", k " + k + ", inner " + inner + "] keep " + keep + " of " + m;
            for (boolean zeroMasked : new boolean[]{true, false}) {
                float[] w = tiedWeights(n, seed++, 3); // heavy ties, zeros and negative zeros
                if (n > 40) { w[3] = Float.NaN; w[n - 2] = -Float.NaN; } // NaN ranks largest
                byte[] oldMask = randMask(n, seed++, 0.85);
                // with the invariant (masked weights are zero) and without: masked stays masked regardless
                if (zeroMasked) for (int i = 0; i < n; i++) if (oldMask[i] == 0) w[i] = 0f;
                Tensor W = up(w, n), M = be.uploadBytes(oldMask, Shape.of(n));
                long ones = be.updateMaskNm(W, M, outer, k, inner, keep, m);
                byte[] expected = ReferenceOps.updateMaskNm(w, oldMask, outer, k, inner, keep, m);
                byte[] got = be.downloadBytes(M);
                int bad = 0;
                StringBuilder first = new StringBuilder();
                for (int i = 0; i < n; i++)
                    if (expected[i] != got[i] && bad++ < 5) first.append(" [").append(i).append("] expected ").append(expected[i]).append(" got ").append(got[i]).append(';');
                if (bad > 0) fail(what + ": " + bad + " of " + n + " mask entries differ from the sorted reference:" + first);
                long expectedOnes = 0;
                for (byte b : expected) expectedOnes += b;
                assertEquals(expectedOnes, ones, what + ": ones returned");
                float[] wNew = be.download(W);
                for (int i = 0; i < n; i++) {
                    if (got[i] == 0) assertEquals(0f, wNew[i], what + ": masked weight " + i + " zeroed");
                    else assertEquals(Float.floatToRawIntBits(w[i]), Float.floatToRawIntBits(wNew[i]), what + ": kept weight " + i + " untouched");
                }
                W.close();
                M.close();
            }
        }
    }

    @Test
    void updateMaskNmRejectsBadArguments() {
        Tensor W = up(rand(24, 210), 24), M = be.uploadBytes(new byte[24], Shape.of(24));
        assertThrows(IllegalArgumentException.class, () -> be.updateMaskNm(W, M, 1, 6, 4, 5, 4), "keep > m");
        assertThrows(IllegalArgumentException.class, () -> be.updateMaskNm(W, M, 1, 6, 4, -1, 4), "keep < 0");
        assertThrows(IllegalArgumentException.class, () -> be.updateMaskNm(W, M, 1, 6, 4, 1, 0), "m = 0");
        assertThrows(IllegalArgumentException.class, () -> be.updateMaskNm(W, M, 1, 6, 4, 1, Backend.NM_MAX_GROUP + 1), "m too long");
        assertThrows(IllegalArgumentException.class, () -> be.updateMaskNm(W, M, 1, 5, 4, 1, 4), "layout of 20 for 24 elements");
        assertThrows(IllegalArgumentException.class, () -> be.updateMaskNm(W, M, 2, 6, 4, 1, 4), "layout of 48 for 24 elements");
    }

    @Test
    void applyMask() {
        int n = 257;
        float[] w = rand(n, 190);
        byte[] m = randMask(n, 191, 0.6);
        Tensor W = up(w, n);
        long ones = be.applyMask(W, be.uploadBytes(m, Shape.of(n)));
        double[] e = new double[n];
        long eo = 0;
        for (int i = 0; i < n; i++) { e[i] = m[i] != 0 ? w[i] : 0; if (m[i] != 0) eo++; }
        assertEquals(eo, ones);
        assertClose("applyMask", e, be.download(W), EXACT);
    }

    @Test
    void sgdUpdateWithoutVelocityIsPlainSgd() {
        int n = 1027;
        for (boolean masked : new boolean[]{false, true}) {
            float[] w = rand(n, 210), g = rand(n, 211);
            byte[] m = randMask(n, 212, 0.7);
            float lr = 0.05f, wd = 1e-3f;
            Tensor W = up(w, n), Wref = up(w, n), G = up(g, n), zero = up(new float[n], n);
            Tensor M = masked ? be.uploadBytes(m, Shape.of(n)) : null;
            be.sgdUpdate(W, G, null, M, lr, 0f, wd, false);
            be.sgdUpdate(Wref, G, zero, M, lr, 0f, wd, false); // momentum 0 from a zero velocity: the same step, g'
            assertArrayEquals(be.download(Wref), be.download(W), "sgd without velocity, masked=" + masked);
            double[] ew = new double[n];
            for (int i = 0; i < n; i++) ew[i] = masked && m[i] == 0 ? 0 : w[i] - lr * (g[i] + wd * w[i]);
            assertClose("sgd without velocity, masked=" + masked, ew, be.download(W), ELEMENTWISE);
        }
    }

    @Test
    void sgdUpdateMaskedMomentumNesterovDecay() {
        int n = 1027;
        for (boolean nesterov : new boolean[]{false, true})
            for (boolean masked : new boolean[]{false, true}) {
                float[] w = rand(n, 200), g = rand(n, 201), v = rand(n, 202);
                byte[] m = randMask(n, 203, 0.7);
                m[3] = 0;
                if (masked) v[3] = Float.NaN; // state under the mask is cleared whatever it held
                float lr = 0.05f, mom = 0.9f, wd = 1e-3f;
                double[] ew = new double[n], ev = new double[n];
                for (int i = 0; i < n; i++) {
                    double mk = masked ? m[i] : 1;
                    if (mk == 0) continue;
                    double gp = g[i] + wd * w[i];
                    ev[i] = mom * v[i] + gp;
                    double step = nesterov ? gp + mom * ev[i] : ev[i];
                    ew[i] = w[i] - lr * step;
                }
                Tensor W = up(w, n), V = up(v, n);
                be.sgdUpdate(W, up(g, n), V, masked ? be.uploadBytes(m, Shape.of(n)) : null, lr, mom, wd, nesterov);
                String what = "sgd nesterov=" + nesterov + " masked=" + masked;
                assertClose(what + " w", ew, be.download(W), ELEMENTWISE);
                assertClose(what + " velocity", ev, be.download(V), ELEMENTWISE);
                if (masked) {
                    float[] wg = be.download(W), vg = be.download(V);
                    for (int i = 0; i < n; i++) if (m[i] == 0) {
                        assertEquals(0f, wg[i], what + ": masked weight " + i);
                        assertEquals(0f, vg[i], what + ": masked velocity " + i);
                    }
                }
            }
    }

    @Test
    void adamUpdateMaskedCoupledAndDecoupled() {
        int n = 1029;
        for (boolean decoupled : new boolean[]{false, true}) {
            float[] w = rand(n, 210), g = rand(n, 211), m1 = rand(n, 212, -0.1, 0.1), v1 = rand(n, 213, 0, 0.01);
            byte[] mask = randMask(n, 214, 0.75);
            float lr = 1e-3f, b1 = 0.9f, b2 = 0.999f, eps = 1e-7f, wd = 0.01f;
            long step = 7;
            double bc1 = 1 - Math.pow(b1, step), bc2 = 1 - Math.pow(b2, step);
            double[] ew = new double[n], em = new double[n], ev = new double[n];
            for (int i = 0; i < n; i++) {
                if (mask[i] == 0) continue;
                double gp = g[i] + (decoupled ? 0 : wd * w[i]);
                em[i] = b1 * m1[i] + (1 - b1) * gp;
                ev[i] = b2 * v1[i] + (1 - b2) * gp * gp;
                ew[i] = w[i] - (lr * (em[i] / bc1) / (Math.sqrt(ev[i] / bc2) + eps) + (decoupled ? lr * wd * w[i] : 0));
            }
            Tensor W = up(w, n), M = up(m1, n), V = up(v1, n);
            be.adamUpdate(W, up(g, n), M, V, be.uploadBytes(mask, Shape.of(n)), lr, b1, b2, eps, wd, decoupled, step);
            String what = "adam decoupled=" + decoupled;
            assertClose(what + " w", ew, be.download(W), ELEMENTWISE);
            assertClose(what + " m", em, be.download(M), ELEMENTWISE);
            assertClose(what + " v", ev, be.download(V), ELEMENTWISE);
            float[] wg = be.download(W), mg = be.download(M), vg = be.download(V);
            for (int i = 0; i < n; i++) if (mask[i] == 0) {
                assertEquals(0f, wg[i], what + ": masked w " + i);
                assertEquals(0f, mg[i], what + ": masked m " + i);
                assertEquals(0f, vg[i], what + ": masked v " + i);
            }
        }
        // unmasked (mask == null) updates every element
        float[] w = rand(40, 215), g = rand(40, 216);
        Tensor W = up(w, 40);
        be.adamUpdate(W, up(g, 40), be.allocate(Shape.of(40), DType.FLOAT32), be.allocate(Shape.of(40), DType.FLOAT32), null,
                0.1f, 0.9f, 0.999f, 1e-8f, 0f, false, 1);
        double[] ew = new double[40];
        // step 1 from zero state: m/bc1 = g, v/bc2 = g^2, so the step is lr * sign(g) (up to eps)
        for (int i = 0; i < 40; i++) ew[i] = w[i] - 0.1 * g[i] / (Math.abs(g[i]) + 1e-8);
        assertClose("adam first step", ew, be.download(W), new Tol(1e-6, 1e-5));
    }

    // ---------------------------------------------------------------- rarer ops

    @Test
    void permute() {
        int[] dims = {2, 3, 4, 5};
        int[] perm = {0, 3, 1, 2};
        int n = 120;
        float[] x = rand(n, 220);
        Tensor Y = be.allocate(Shape.of(2, 5, 3, 4), DType.FLOAT32);
        be.permute(up(x, dims), Y, dims, perm);
        double[] e = new double[n];
        for (int a = 0; a < 2; a++) for (int b = 0; b < 3; b++) for (int c = 0; c < 4; c++) for (int d = 0; d < 5; d++)
            e[((a * 5 + d) * 3 + b) * 4 + c] = x[((a * 3 + b) * 4 + c) * 5 + d];
        assertClose("permute", e, be.download(Y), EXACT);
    }

    /** permute between ranges of larger tensors: the rest of y is untouched; overlapping ranges of one tensor are refused. */
    @Test
    void permuteAtOffsets() {
        int[] dims = {3, 4, 5};
        int[] perm = {1, 0, 2};
        int n = 60;
        float[] x = rand(n + 9, 221), y0 = rand(n + 13, 222);
        Tensor Y = up(y0, y0.length), X = up(x, x.length);
        be.permute(X, 9, Y, 6, dims, perm);
        double[] e = toDouble(y0);
        for (int a = 0; a < 3; a++) for (int b = 0; b < 4; b++) for (int c = 0; c < 5; c++)
            e[6 + (b * 3 + a) * 5 + c] = x[9 + (a * 4 + b) * 5 + c];
        assertClose("permute at offsets", e, be.download(Y), EXACT);
        assertThrows(IllegalArgumentException.class, () -> be.permute(X, 9, Y, 14, dims, perm), "y range past the end");
        Tensor Z = be.allocate(Shape.of(2 * n), DType.FLOAT32);
        assertThrows(IllegalArgumentException.class, () -> be.permute(Z, 0, Z, n - 1, dims, perm), "overlapping ranges");
        be.permute(Z, 0, Z, n, dims, perm); // disjoint ranges of one tensor are fine
    }

    @Test
    void lrn() {
        int o = 2, c = 7, in = 6, n = o * c * in, size = 4;
        float alpha = 1e-2f, beta = 0.75f, bias = 2f;
        float[] x = rand(n, 230, -3, 3);
        double[] e = new double[n];
        for (int a = 0; a < o; a++) for (int ch = 0; ch < c; ch++) for (int i = 0; i < in; i++) {
            double sq = 0;
            for (int cc = ch - (size - 1) / 2; cc <= ch + size / 2; cc++) // ceil((size-1)/2) == size/2
                if (cc >= 0 && cc < c) sq += (double) x[(a * c + cc) * in + i] * x[(a * c + cc) * in + i];
            int at = (a * c + ch) * in + i;
            e[at] = x[at] / Math.pow(bias + alpha / size * sq, beta);
        }
        Tensor Y = be.allocate(Shape.of(n), DType.FLOAT32);
        be.lrn(up(x, n), Y, o, c, in, size, alpha, beta, bias);
        assertClose("lrn", e, be.download(Y), REDUCTION);
    }

    @Test
    void nameAndKind() {
        assertTrue(!be.name().isBlank());
        assertTrue(be.kind().equals("cpu") || be.kind().equals("cuda"), be.kind());
        be.synchronize();
    }
}
