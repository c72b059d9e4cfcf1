package dev.shears.core.sparse;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/** {@link BlockPattern} detection, and the planner adding Blocked-ELL with a block-pruned matrix's own block. */
class BlockPatternTest {

    /** A [rows, cols] with nonzero entries (|a| >= 0.1), each R x C block zeroed with probability {@code sparsity}. */
    static float[] blockPruned(int rows, int cols, int r, int c, double sparsity, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] a = new float[rows * cols];
        for (int i = 0; i < a.length; i++) a[i] = (float) (rng.nextDouble() + 0.1) * (rng.nextBoolean() ? 1 : -1);
        int br = (rows + r - 1) / r, bc = (cols + c - 1) / c;
        for (int i = 0; i < br; i++)
            for (int j = 0; j < bc; j++)
                if (rng.nextDouble() < sparsity)
                    for (int y = i * r; y < Math.min(rows, (i + 1) * r); y++)
                        for (int x = j * c; x < Math.min(cols, (j + 1) * c); x++) a[y * cols + x] = 0f;
        return a;
    }

    @Test void detectsTheShapeAMatrixWasPrunedIn() {
        // 300 x 784 like LeNet-300-100's first layer (A = W^T): 300 is not a multiple of 16, so the last block-row is partial
        for (int[] rc : List.of(new int[]{16, 16}, new int[]{4, 4}, new int[]{1, 8}, new int[]{8, 2}, new int[]{32, 64})) {
            float[] a = blockPruned(300, 784, rc[0], rc[1], 0.9, 7);
            BlockPattern p = BlockPattern.detect(a, 300, 784);
            assertNotNull(p, rc[0] + "x" + rc[1]);
            assertEquals(rc[0] + "x" + rc[1], p.shape());
            int blocks = ((300 + rc[0] - 1) / rc[0]) * ((784 + rc[1] - 1) / rc[1]);
            assertEquals(blocks, p.blocks());
            assertEquals(0.9, p.emptyFraction(), 0.05);
            assertEquals(Math.min(rc[0], rc[1]) >= 2 ? Math.min(rc[0], rc[1]) : 0, BlockPattern.squareBlock(a, 300, 784));
        }
    }

    @Test void unstructuredSparsityAndDenseMatricesFollowNoPattern() {
        float[] a = blockPruned(64, 96, 1, 1, 0.9, 3); // 1x1 "blocks": unstructured 90%
        assertNull(BlockPattern.detect(a, 64, 96));
        assertEquals(0, BlockPattern.squareBlock(a, 64, 96));
        float[] dense = blockPruned(64, 96, 4, 4, 0.0, 3);
        assertNull(BlockPattern.detect(dense, 64, 96), "no zero block: no pattern");
        // one stray zero inside a kept block breaks the 4x4 pattern
        float[] b = blockPruned(64, 96, 4, 4, 0.8, 5);
        assertEquals("4x4", BlockPattern.detect(b, 64, 96).shape());
        for (int i = 0; i < b.length; i++) if (b[i] != 0f) { b[i] = 0f; break; }
        BlockPattern after = BlockPattern.detect(b, 64, 96);
        assertTrue(after == null || !after.shape().equals("4x4"), String.valueOf(after));
        assertEquals(0, BlockPattern.squareBlock(b, 64, 96));
    }

    @Test void thePlannerTriesBlockedEllWithThePrunedBlockSize() {
        float[] a = blockPruned(128, 256, 16, 16, 0.9, 11);
        SparsePlanner quick = new SparsePlanner(SparsePlanner.Options.quick()); // configured block sizes: 4 only
        SparsePlanner.Choice c = quick.choose(a, 128, 256, 8, true);
        List<String> names = c.timings().stream().map(SparsePlanner.Timing::format).toList();
        assertTrue(names.contains("blocked-ell-16"), "the pruned block size is a candidate: " + names);
        // forced, it computes the same product as dense
        SparsePlanner forced = new SparsePlanner(SparsePlanner.Options.quick().forcing("blocked-ell-16"));
        SparsePlanner.Choice f = forced.choose(a, 128, 256, 8, true);
        BlockedEllMatrix bell = assertInstanceOf(BlockedEllMatrix.class, f.matrix());
        assertEquals(16, bell.blockSize());
        assertArrayEquals(a, bell.toDense());
        // an unstructured matrix of the same sparsity gets no extra candidate
        float[] u = blockPruned(128, 256, 1, 1, 0.9, 11);
        List<String> un = quick.choose(u, 128, 256, 8, true).timings().stream().map(SparsePlanner.Timing::format).toList();
        assertFalse(un.contains("blocked-ell-16"), un.toString());
    }

    @Test void aPrunedBlockAmongTheConfiguredSizesIsTriedWhateverItsPadding() {
        // every block-row but the first keeps one 8x8 block, the first keeps all 16: ELL pads the others to 16 slots (fill 8x)
        int rows = 64, cols = 128;
        float[] a = new float[rows * cols];
        for (int y = 0; y < rows; y++)
            for (int x = 0; x < cols; x++) if (y < 8 || x < 8) a[y * cols + x] = 1f + (y * cols + x) % 7;
        assertTrue(BlockedEllMatrix.fillRatio(a, rows, cols, 8) > 2.0);
        assertEquals(8, BlockPattern.squareBlock(a, rows, cols));
        SparsePlanner planner = new SparsePlanner(new SparsePlanner.Options(1, 3, 0, new int[]{8}, 2.0, 0.05));
        List<String> names = planner.choose(a, rows, cols, 4, true).timings().stream().map(SparsePlanner.Timing::format).toList();
        assertEquals(List.of("dense", "csr", "blocked-ell-8"), names);
    }
}
