package dev.shears.core.cpu;

import dev.shears.core.sparse.CsrMatrix;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * The CPU kernels give the same bits whether the JIT has compiled them yet or not. The Vector
 * API's {@code reduceLanes(ADD)} on floats leaves the order of its additions to the
 * implementation (its Javadoc), and the interpreter's order differs from C2's intrinsic, so a sum
 * reduced that way changed its last bits once the method got hot: a CNN's weights then drifted
 * between the 3rd and 4th identical run in one JVM, and a resumed run was not bit-exact. Each
 * case here calls a kernel until C2 has compiled it (thousands of calls) and compares every
 * result with the first one, computed cold.
 */
class JitDeterminismTest {
    private static final int CALLS = 60000;

    private static float[] random(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextDouble(-1, 1);
        return a;
    }

    /** Calls {@code kernel} {@link #CALLS} times and checks every result against the first, computed cold. */
    private static void assertSameColdAndHot(Supplier<float[]> kernel) {
        float[] first = kernel.get();
        for (int call = 1; call < CALLS; call++) assertArrayEquals(first, kernel.get(), "call " + call);
    }

    private static void assertGemmSameColdAndHot(int m, int n, int k, long seedA, long seedB) {
        float[] a = random(m * k, seedA), b = random(n * k, seedB);
        assertSameColdAndHot(() -> {
            float[] c = new float[m * n];
            Sgemm.gemm(false, true, m, n, k, 1f, a, 0, k, b, 0, k, 0f, c, 0, n);
            return c;
        });
    }

    @Test
    void smallMTransposedBGemmIsTheSameColdAndHot() {
        assertGemmSameColdAndHot(3, 9, 37, 1, 2);   // m <= SMALL_M with op(B) = B^T: the dot-product path, with tails
    }

    @Test
    void dotProductGemmIsTheSameColdAndHot() {
        // B transposed, few C elements, long k: the dot-product path, with edges and tails
        assertGemmSameColdAndHot(7, 9, Sgemm.DOT_MIN_K + 37, 4, 5);
    }

    @Test
    void biasGradientIsTheSameColdAndHot() {
        CpuBackend be = new CpuBackend(1);
        int outer = 2, channels = 3, inner = 37;
        Tensor dy = be.upload(random(outer * channels * inner, 3), Shape.of(outer, channels, inner));
        Tensor g = be.zeros(channels);
        assertSameColdAndHot(() -> {
            be.biasGrad(dy, g, outer, channels, inner, false);
            return be.download(g);
        });
    }

    @Test
    void csrMatrixVectorProductIsTheSameColdAndHot() {
        int rows = 5, cols = 41;
        float[] w = random(rows * cols, 4);
        for (int i = 0; i < w.length; i += 3) w[i] = 0f;
        CsrMatrix csr = CsrMatrix.fromDense(w, rows, cols);
        float[] x = random(cols, 5);
        assertSameColdAndHot(() -> {
            float[] y = new float[rows];
            csr.multiply(x, 1, y);
            return y;
        });
    }

    @Test
    void depthwiseConvolutionIsTheSameColdAndHot() {
        // stride 2 with padding (edges) and a multiplier of 2; forward, input and kernel gradients in one result;
        // a 3x3 kernel (Depthwise3x3) and a 3x5 one (CpuDepthwise's general loops)
        assertDepthwiseSameColdAndHot(new dev.shears.core.backend.ConvGeometry(2, 7, 6, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, false));
        assertDepthwiseSameColdAndHot(new dev.shears.core.backend.ConvGeometry(2, 7, 6, 3, 5, 2, 1, 1, 2, 1, 0, 1, 1, false));
    }

    private static void assertDepthwiseSameColdAndHot(dev.shears.core.backend.ConvGeometry g) {
        int n = 2, m = 2, out = n * 2 * m * g.outH() * g.outW(), taps = g.kernelH() * g.kernelW();
        float[] x = random(n * 2 * 7 * 6, 6), w = random(2 * m * taps, 7), dy = random(out, 8);
        assertSameColdAndHot(() -> {
            float[] y = new float[out], dx = new float[x.length], dW = new float[w.length];
            CpuDepthwise.forward(x, w, y, g, n, m);
            CpuDepthwise.backward(x, w, dy, dx, dW, g, n, m);
            float[] all = new float[y.length + dx.length + dW.length];
            System.arraycopy(y, 0, all, 0, y.length);
            System.arraycopy(dx, 0, all, y.length, dx.length);
            System.arraycopy(dW, 0, all, y.length + dx.length, dW.length);
            return all;
        });
    }

    @Test
    void batchNormIsTheSameColdAndHot() {
        // inner 37: vector rows with a scalar tail; training forward, running statistics, backward in one result
        int outer = 3, channels = 2, inner = 37, n = outer * channels * inner;
        float[] x = random(n, 9), dy = random(n, 10), gamma = random(channels, 11), beta = random(channels, 12);
        assertSameColdAndHot(() -> {
            float[] y = new float[n], dx = new float[n], rm = new float[channels], rv = new float[channels];
            float[] mean = new float[channels], inv = new float[channels], dg = new float[channels], db = new float[channels];
            CpuNorm.batchNormTrain(x, gamma, beta, rm, rv, 0.9f, 1e-3f, y, mean, inv, outer, channels, inner);
            CpuNorm.batchNormBackward(x, dy, gamma, mean, inv, dx, dg, db, outer, channels, inner);
            float[] all = new float[2 * n + 6 * channels];
            System.arraycopy(y, 0, all, 0, n);
            System.arraycopy(dx, 0, all, n, n);
            float[][] small = {rm, rv, mean, inv, dg, db};
            for (int k = 0; k < small.length; k++) System.arraycopy(small[k], 0, all, 2 * n + k * channels, channels);
            return all;
        });
    }
}
