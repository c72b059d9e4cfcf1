package dev.shears.core.cuda.sparse;

import dev.shears.core.cuda.CudaBackend;
import dev.shears.core.cuda.emulator.CudaEmulator;
import dev.shears.core.sparse.BlockPattern;
import dev.shears.core.sparse.BlockedEllMatrix;
import dev.shears.core.sparse.SparsePlanner;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CUDA planner offers Blocked-ELL with a block-pruned layer's own block size (detected by
 * {@link BlockPattern}, as the CPU planner does) even when the configured sizes lack it and its
 * ELL padding exceeds the fill limit, and the product it then runs matches the dense one; a
 * detected size cuSPARSE's Blocked-ELL cannot take here is skipped with the reason. On the CPU
 * emulator of CUDA and cuSPARSE (compute capability 9.0).
 */
class EmulatedCudaBlockPatternPlannerTest {
    private static final int B = 16;

    @BeforeAll static void emulator() { CudaEmulator.require(); }

    /**
     * A [rows, cols] pruned in B x B blocks: block row 0 keeps {@code wide} blocks, every other
     * block row one, so the ELL padding makes the fill (stored / nonzeros) large.
     */
    private static float[] blockPruned(int rows, int cols, int wide) {
        float[] a = new float[rows * cols];
        SplittableRandom rng = new SplittableRandom(7);
        int blockRows = (rows + B - 1) / B;
        for (int i = 0; i < blockRows; i++) {
            int keep = i == 0 ? wide : 1;
            for (int k = 0; k < keep; k++) {
                int j = i == 0 ? k : (i % ((cols + B - 1) / B));
                for (int y = i * B; y < Math.min(rows, (i + 1) * B); y++)
                    for (int x = j * B; x < Math.min(cols, (j + 1) * B); x++) a[y * cols + x] = (float) (rng.nextDouble() * 2 - 1) + 0.01f;
            }
        }
        return a;
    }

    @Test void aBlockPrunedLayerGetsItsOwnBlockSizeBeyondTheFillLimit() {
        int rows = 64, cols = 96, n = 5;
        float[] a = blockPruned(rows, cols, 4);
        assertEquals(B, BlockPattern.squareBlock(a, rows, cols), "the fixture is 16x16-block pruned");
        double fill = BlockedEllMatrix.fillRatio(a, rows, cols, B);
        assertTrue(fill > 2.0, "the fixture's fill exceeds the limit: " + fill);
        // configured: blocks of 4 only, limit 2.0; forcing blocked-ell-16 runs it if (and only if) it is a candidate
        CudaSparsePlanner.Options o = new CudaSparsePlanner.Options(0, 1, new int[] {4}, 2.0, 0.05, "blocked-ell-16")
                .withSettle(false);
        try (CudaBackend gpu = CudaBackend.create(0, CudaBackend.LeakPolicy.RELEASE);
             CusparseRuntime cusparse = new CusparseRuntime(gpu);
             Tensor dense = gpu.upload(a, Shape.of(rows, cols))) {
            CudaSparsePlanner.Choice c = new CudaSparsePlanner(o).choose(cusparse, a, dense, false, rows, cols, n, true);
            try {
                assertTrue(c.timings().stream().map(SparsePlanner.Timing::format).anyMatch("blocked-ell-16"::equals), c.timings().toString());
                assertEquals("blocked-ell-16", c.format(), c.toString());
                assertTrue(c.rejected().stream().anyMatch(r -> r.startsWith("blocked-ell-4: stores")), "the configured 4 keeps the fill limit: "
                        + c.rejected());
                float[] xs = new float[n * cols];
                SplittableRandom rng = new SplittableRandom(3);
                for (int i = 0; i < xs.length; i++) xs[i] = (float) (rng.nextDouble() * 2 - 1);
                float[] want = new float[n * rows];
                for (int s = 0; s < n; s++)
                    for (int r = 0; r < rows; r++) {
                        double acc = 0;
                        for (int k = 0; k < cols; k++) acc += (double) a[r * cols + k] * xs[s * cols + k];
                        want[s * rows + r] = (float) acc;
                    }
                try (Tensor x = gpu.upload(xs, Shape.of(xs.length));
                     Tensor y = gpu.upload(new float[n * rows], Shape.of((long) n * rows))) {
                    c.matrix().multiply(x, n, y);
                    float[] got = gpu.download(y);
                    for (int i = 0; i < want.length; i++)
                        assertEquals(want[i], got[i], 1e-4 * (1 + Math.abs(want[i])), "y[" + i + "] of the blocked-ell-16 product");
                }
            } finally {
                c.matrix().close();
            }
        }
    }

    @Test void aDetectedBlockThatDoesNotDivideTheMatrixIsSkippedWithTheReason() {
        int rows = 40, cols = 48; // 16 divides 48 but not 40: the last block row is partial
        float[] a = blockPruned(rows, cols, 2);
        assertEquals(B, BlockPattern.squareBlock(a, rows, cols));
        CudaSparsePlanner.Options o = new CudaSparsePlanner.Options(0, 1, new int[] {8}, 2.0, 0.05, null).withSettle(false);
        try (CudaBackend gpu = CudaBackend.create(0, CudaBackend.LeakPolicy.RELEASE);
             CusparseRuntime cusparse = new CusparseRuntime(gpu);
             Tensor dense = gpu.upload(a, Shape.of(rows, cols))) {
            CudaSparsePlanner.Choice c = new CudaSparsePlanner(o).choose(cusparse, a, dense, false, rows, cols, 2, true);
            try {
                assertFalse(c.timings().stream().anyMatch(t -> t.format().equals("blocked-ell-16")), c.timings().toString());
                assertTrue(c.rejected().stream().anyMatch(r -> r.startsWith("blocked-ell-16 (the layer's detected 16x16 block pattern)")
                        && r.contains("does not divide 40 x 48")), c.rejected().toString());
            } finally {
                c.matrix().close();
            }
        }
    }
}
