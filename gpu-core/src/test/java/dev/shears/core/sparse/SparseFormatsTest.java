package dev.shears.core.sparse;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Exact conversion (dense -> format -> dense is the identity, bit for bit) and products against a
 * double-precision reference for every format. Product tolerance: the worst-case float dot-product
 * bound (k + 2) * 2^-24 * sum_c |A[r,c] x[c]|, doubled; a wrong index is off by far more.
 */
class SparseFormatsTest {
    private static final double U = Math.ulp(1.0f) / 2;

    /** Every format of A; 2:4 only where A follows the pattern. */
    static List<SparseMatrix> formats(float[] a, int rows, int cols) {
        List<SparseMatrix> out = new ArrayList<>();
        out.add(new DenseMatrix(a, rows, cols));
        out.add(CsrMatrix.fromDense(a, rows, cols));
        for (int b : new int[]{1, 3, 4, 16}) out.add(BlockedEllMatrix.fromDense(a, rows, cols, b));
        if (NmMatrix.follows(a, rows, cols, 2, 4)) out.add(NmMatrix.fromDense(a, rows, cols));
        return out;
    }

    private static final int[][] SHAPES = {{1, 1}, {1, 9}, {7, 1}, {5, 8}, {17, 33}, {64, 48}, {129, 70}};

    @Test void denseToSparseToDenseIsTheIdentity() {
        long seed = 1;
        for (int[] s : SHAPES)
            for (double sp : new double[]{0.0, 0.5, 0.9, 0.99, 1.0}) {
                float[] a = SparseBench.randomSparse(s[0], s[1], sp, seed++);
                for (SparseMatrix f : formats(a, s[0], s[1])) {
                    assertArrayEquals(a, f.toDense(), SparsePlanner.label(f) + " " + s[0] + "x" + s[1] + " at " + sp);
                    long nz = 0;
                    for (float v : a) if (v != 0f) nz++;
                    assertEquals(nz, f.nonZeros(), SparsePlanner.label(f) + " nonZeros");
                }
                float[] p = SparseBench.prune24(a, s[0], s[1]);
                NmMatrix nm = NmMatrix.fromDense(p, s[0], s[1]);
                assertArrayEquals(p, nm.toDense(), "2:4 " + s[0] + "x" + s[1]);
            }
    }

    @Test void kernelOrientationIsTheTranspose() {
        int in = 6, out = 5;
        float[] w = SparseBench.randomSparse(in, out, 0.5, 3); // Dense kernel [in, out]
        float[] expected = new float[out * in];
        for (int i = 0; i < in; i++) for (int o = 0; o < out; o++) expected[o * in + i] = w[i * out + o];
        assertArrayEquals(expected, CsrMatrix.fromKernel(w, in, out).toDense());
        assertArrayEquals(expected, BlockedEllMatrix.fromKernel(w, in, out, 2).toDense());
        assertArrayEquals(expected, DenseMatrix.fromKernel(w, in, out).toDense());
        CsrMatrix csr = CsrMatrix.fromKernel(w, in, out);
        assertEquals(out, csr.rows());
        assertEquals(in, csr.cols());
    }

    @Test void csrArraysFollowTheStandardLayout() {
        float[] a = {0, 2, 0,
                     0, 0, 0,
                     3, 0, 4};
        CsrMatrix c = CsrMatrix.fromDense(a, 3, 3);
        assertArrayEquals(new int[]{0, 1, 1, 3}, c.rowPointers());
        assertArrayEquals(new int[]{1, 0, 2}, c.columnIndices());
        assertArrayEquals(new float[]{2, 3, 4}, c.nonZeroValues());
    }

    @Test void blockedEllFollowsTheCusparseLayout() {
        // 4x4 with block 2: block (0,1) and block (1,0) nonzero; one slot per block-row
        float[] a = {0, 0, 1, 2,
                     0, 0, 3, 0,
                     5, 0, 0, 0,
                     0, 6, 0, 0};
        BlockedEllMatrix b = BlockedEllMatrix.fromDense(a, 4, 4, 2);
        assertEquals(1, b.ellBlocks());
        assertArrayEquals(new int[]{1, 0}, b.blockColumns());
        assertArrayEquals(new float[]{1, 2, 3, 0, 5, 0, 0, 6}, b.blockValues());
        assertEquals(1.0 * 8 / 5, BlockedEllMatrix.fillRatio(a, 4, 4, 2), 1e-12);
    }

    @Test void twoFourStoresTwoValuesAndPositionsPerGroup() {
        float[] a = {0, 7, 0, 9,   1, 0, 0, 0};
        NmMatrix nm = NmMatrix.fromDense(a, 1, 8);
        assertArrayEquals(new float[]{7, 9, 1, 0}, nm.compressedValues());
        byte[] pos = nm.compressedPositions();
        assertEquals(1, pos[0]);
        assertEquals(3, pos[1]);
        assertEquals(0, pos[2]);
        assertTrue(pos[3] != 0, "padding must use a free position");
        assertEquals(3, nm.nonZeros());
    }

    @Test void twoFourViolationNamesTheFirstGroup() {
        float[] a = new float[2 * 8];
        a[8 + 4] = 1;
        a[8 + 5] = 2;
        a[8 + 7] = 3; // row 1, columns 4..7: three nonzeros
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NmMatrix.fromDense(a, 2, 8));
        assertEquals("not a 2:4 sparse matrix: row 1, columns 4..7 hold 3 nonzeros, more than 2 (prune with a 2:4 pattern first, or use CSR)",
                e.getMessage());
        assertFalse(NmMatrix.follows(a, 2, 8, 2, 4));
        // the same as a Dense kernel [in=8, out=2]: output 1, inputs 4..7
        float[] w = new float[8 * 2];
        for (int o = 0; o < 2; o++) for (int i = 0; i < 8; i++) w[i * 2 + o] = a[o * 8 + i];
        IllegalArgumentException k = assertThrows(IllegalArgumentException.class, () -> NmMatrix.fromKernel(w, 8, 2, 2, 4));
        assertTrue(k.getMessage().contains("Dense kernel [in, out]: output 1, inputs 4..7 hold 3 nonzeros"), k.getMessage());
    }

    @Test void productsMatchTheReference() {
        long seed = 100;
        for (int[] s : SHAPES)
            for (double sp : new double[]{0.0, 0.7, 0.95}) {
                int rows = s[0], cols = s[1];
                float[] a = SparseBench.randomSparse(rows, cols, sp, seed++);
                List<SparseMatrix> fs = formats(a, rows, cols);
                fs.add(NmMatrix.fromDense(SparseBench.prune24(a, rows, cols), rows, cols));
                for (SparseMatrix f : fs) {
                    float[] dense = f.toDense();
                    for (int n : new int[]{1, 2, 3, 15, 16, 17, 64, 65, 100}) {
                        float[] x = SparseBench.randomSparse(n, cols, 0.0, seed++);
                        float[] y = new float[n * rows];
                        java.util.Arrays.fill(y, Float.NaN); // overwritten, never read
                        f.multiply(x, n, y);
                        // y[b, r] = sum_c x[b, c] A[r, c]
                        check(SparsePlanner.label(f) + " multiply " + rows + "x" + cols + " n=" + n, dense, rows, cols, n,
                                (b, c) -> x[b * cols + c], (b, r) -> y[b * rows + r]);
                        // Y = A X with offsets and padded leading dimensions
                        int ldx = n + 3, ldy = n + 5, xOff = 7, yOff = 2;
                        float[] xt = new float[xOff + cols * ldx];
                        for (int c = 0; c < cols; c++) for (int b = 0; b < n; b++) xt[xOff + c * ldx + b] = x[b * cols + c];
                        float[] yt = new float[yOff + rows * ldy];
                        java.util.Arrays.fill(yt, -123f);
                        f.multiplyT(xt, xOff, ldx, n, yt, yOff, ldy);
                        check(SparsePlanner.label(f) + " multiplyT " + rows + "x" + cols + " n=" + n, dense, rows, cols, n,
                                (b, c) -> x[b * cols + c], (b, r) -> yt[yOff + r * ldy + b]);
                        for (int i = 0; i < yt.length; i++) {
                            int rel = i - yOff;
                            boolean inside = rel >= 0 && rel % ldy < n;
                            if (!inside && yt[i] != -123f) fail(SparsePlanner.label(f) + " multiplyT wrote outside Y at " + i);
                        }
                    }
                }
            }
    }

    interface Get { float at(int i, int j); }

    private static void check(String what, float[] a, int rows, int cols, int n, Get x, Get y) {
        for (int b = 0; b < n; b++)
            for (int r = 0; r < rows; r++) {
                double s = 0, mag = 0;
                for (int c = 0; c < cols; c++) {
                    double t = (double) a[r * cols + c] * x.at(b, c);
                    s += t;
                    mag += Math.abs(t);
                }
                double got = y.at(b, r);
                double tol = 2 * (cols + 2) * U * mag + 1e-30;
                if (!(Math.abs(got - s) <= tol))
                    fail(String.format("%s: y[%d, %d] = %s, reference %s (tol %.3g)", what, b, r, got, s, tol));
            }
    }

    @Test void largeProductsRunInParallelAndMatch() {
        int rows = 512, cols = 700;
        float[] a = SparseBench.randomSparse(rows, cols, 0.9, 77);
        float[] dense = new float[rows * cols];
        System.arraycopy(a, 0, dense, 0, a.length);
        SplittableRandom rng = new SplittableRandom(5);
        for (int n : new int[]{1, 64}) {
            float[] x = new float[n * cols];
            for (int i = 0; i < x.length; i++) x[i] = (float) rng.nextDouble();
            float[] want = new float[n * rows];
            new DenseMatrix(a, rows, cols).multiply(x, n, want);
            for (SparseMatrix f : List.of(CsrMatrix.fromDense(a, rows, cols), BlockedEllMatrix.fromDense(a, rows, cols, 8))) {
                float[] got = new float[n * rows];
                f.multiply(x, n, got);
                for (int i = 0; i < got.length; i++)
                    assertEquals(want[i], got[i], 1e-4 * (1 + Math.abs(want[i])), SparsePlanner.label(f) + " n=" + n + " at " + i);
            }
        }
    }
}
