package dev.shears.pruning;

import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.Parameter;
import dev.shears.core.sparse.BlockedEllMatrix;
import dev.shears.core.sparse.SparseMatrix;
import dev.shears.core.tensor.Shape;
import dev.shears.pruning.recipe.BlockStructure;
import dev.shears.pruning.train.PruningEvent;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.*;

/** {@link MagnitudePruner#updateBlocks}, and block GMP end to end on Fashion-MNIST into Blocked-ELL. */
class BlockPruningTest {
    private final Backend be = new CpuBackend(1);
    private final MagnitudePruner pruner = new MagnitudePruner(be);

    /**
     * The GEMM matrix A [rows, cols] the sparse planner multiplies, built independently of
     * BlockLayout: W^T for a Dense kernel [in, out], the kernel itself for Conv2D [out, in, kh, kw].
     */
    private static float[] gemmMatrix(float[] w, Shape s) {
        if (s.rank() == 4) return w.clone();
        return SparseMatrix.fromDenseKernel(w, s.dim(0), s.dim(1));
    }

    /** Mean |a| of every R x C block of A (row-major block grid), partial edge blocks by their own size. */
    private static double[] blockMeans(float[] a, int rows, int cols, int r, int c) {
        int br = (rows + r - 1) / r, bc = (cols + c - 1) / c;
        double[] out = new double[br * bc];
        for (int i = 0; i < br; i++)
            for (int j = 0; j < bc; j++) {
                double sum = 0;
                int n = 0;
                for (int y = i * r; y < Math.min(rows, (i + 1) * r); y++)
                    for (int x = j * c; x < Math.min(cols, (j + 1) * c); x++) { sum += Math.abs(a[y * cols + x]); n++; }
                out[i * bc + j] = sum / n;
            }
        return out;
    }

    /** Blocks of A that are all zero. */
    private static TreeSet<Integer> zeroBlocks(float[] a, int rows, int cols, int r, int c) {
        int br = (rows + r - 1) / r, bc = (cols + c - 1) / c;
        TreeSet<Integer> out = new TreeSet<>();
        for (int i = 0; i < br; i++)
            for (int j = 0; j < bc; j++) {
                boolean zero = true;
                for (int y = i * r; y < Math.min(rows, (i + 1) * r) && zero; y++)
                    for (int x = j * c; x < Math.min(cols, (j + 1) * c) && zero; x++) zero = a[y * cols + x] == 0f;
                if (zero) out.add(i * bc + j);
            }
        return out;
    }

    private static TreeSet<Integer> smallest(double[] score, int k) {
        return java.util.stream.IntStream.range(0, score.length).boxed()
                .sorted(java.util.Comparator.<Integer>comparingDouble(b -> score[b]).thenComparingInt(b -> b)).limit(k)
                .collect(java.util.stream.Collectors.toCollection(TreeSet::new));
    }

    @Test void removesRoundSBBlocksWithTheSmallestMeanAsWholesInTheGemmOrientation() {
        // Dense [in 22, out 13]: A = [13, 22]; Conv2D [13, 3, 3, 3]: A = [13, 27]; both with partial edge blocks
        for (Shape s : List.of(Shape.of(22, 13), Shape.of(13, 3, 3, 3)))
            for (BlockStructure bs : List.of(new BlockStructure(4, 4), new BlockStructure(2, 8), new BlockStructure(1, 4))) {
                Parameter p = TestModels.kernel(be, "k", s, 5);
                int rows = s.dim(0 + (s.rank() == 2 ? 1 : 0)), cols = (int) (s.size() / rows);
                float[] w0 = be.download(p.value());
                float[] a0 = gemmMatrix(w0, s);
                double[] mean = blockMeans(a0, rows, cols, bs.rows(), bs.cols());
                int blocks = mean.length;
                assertEquals(BlockLayout.of("k", s, bs.rows(), bs.cols()).blocks(), blocks);
                MaskUpdate u = pruner.updateBlocks(List.of(p), 0.6, bs);
                int k = (int) Math.round(0.6 * blocks);
                float[] a = gemmMatrix(be.download(p.value()), s);
                TreeSet<Integer> expected = smallest(mean, k);
                assertEquals(expected, zeroBlocks(a, rows, cols, bs.rows(), bs.cols()), s + " " + bs);
                // every other weight is untouched, and the mask zeroes exactly the pruned blocks' elements
                byte[] mask = be.downloadBytes(p.mask());
                float[] maskF = new float[mask.length];
                for (int i = 0; i < mask.length; i++) maskF[i] = mask[i];
                float[] maskA = gemmMatrix(maskF, s);
                long zeros = 0;
                for (int y = 0; y < rows; y++)
                    for (int x = 0; x < cols; x++) {
                        int b = (y / bs.rows()) * ((cols + bs.cols() - 1) / bs.cols()) + x / bs.cols();
                        boolean gone = expected.contains(b);
                        assertEquals(gone ? 0f : 1f, maskA[y * cols + x], "mask at A[" + y + ", " + x + "] of " + s + " " + bs);
                        assertEquals(gone ? 0f : a0[y * cols + x], a[y * cols + x], "weight at A[" + y + ", " + x + "]");
                        if (gone) zeros++;
                    }
                assertEquals(bs, u.structure());
                assertEquals(zeros, u.layers().getFirst().pruned());
                assertTrue(u.describe().contains("whole " + bs.rows() + "x" + bs.cols() + " blocks"), u.describe());
                // a lower target later removes nothing and brings nothing back (masks only gain zeros)
                pruner.updateBlocks(List.of(p), 0.1, bs);
                assertArrayEquals(mask, be.downloadBytes(p.mask()));
                // a higher one keeps every block pruned before and adds the next smallest
                pruner.updateBlocks(List.of(p), 0.8, bs);
                TreeSet<Integer> later = zeroBlocks(gemmMatrix(be.download(p.value()), s), rows, cols, bs.rows(), bs.cols());
                assertTrue(later.containsAll(expected));
                assertEquals(Math.round(0.8 * blocks), later.size());
            }
    }

    @Test void equalMeansGoLowerBlockFirstMaskedBlocksFirstAndALayerKeepsOneBlock() {
        // Dense [in 4, out 2] -> A = W^T [2, 4]; blocks 1x2: (row 0: cols 0-1, 2-3), (row 1: cols 0-1, 2-3)
        Parameter p = new Parameter("tie", Parameter.Role.KERNEL, Shape.of(4, 2), true);
        // A = [[1, 1, 3, 3], [1, 1, 3, 3]]: blocks 0 and 2 tie at mean 1, 1 and 3 at mean 3
        float[] w = {1, 1, 1, 1, 3, 3, 3, 3};
        p.setValue(be.upload(w, p.shape()));
        BlockStructure bs = new BlockStructure(1, 2);
        pruner.updateBlocks(List.of(p), 0.25, bs); // round(1) = 1: block 0, the lower of the tie
        assertArrayEquals(new float[]{0, 1, 0, 1, 3, 3, 3, 3}, be.download(p.value()));

        // already-masked first: block 3 masked by hand (weights zeroed by the update), block 0 zero but unmasked
        Parameter q = new Parameter("masked", Parameter.Role.KERNEL, Shape.of(4, 2), true);
        q.setValue(be.upload(new float[]{0, 1, 0, 1, 3, 3, 3, 3}, q.shape()));
        q.setMask(be.uploadBytes(new byte[]{1, 1, 1, 1, 1, 0, 1, 0}, q.shape()));
        pruner.updateBlocks(List.of(q), 0.25, bs); // one block: block 3 (masked whole) though block 0 is all zero and lower
        assertArrayEquals(new byte[]{1, 1, 1, 1, 1, 0, 1, 0}, be.downloadBytes(q.mask()));
        assertArrayEquals(new float[]{0, 1, 0, 1, 3, 0, 3, 0}, be.download(q.value()));

        pruner.updateBlocks(List.of(p), 0.99, bs); // round(3.96) = 4, capped at 3
        assertEquals(1, zeroBlocksOfMask(be.downloadBytes(p.mask())), "one block (two weights) stays");
        assertEquals(3, BlockStructure.removed(0.99, 4));
        assertEquals(0, BlockStructure.removed(0.4, 1), "a one-block layer keeps its block");
    }

    private static int zeroBlocksOfMask(byte[] mask) {
        int ones = 0;
        for (byte b : mask) ones += b;
        return ones / 2;
    }

    @Test void refusesAParameterThatIsNoKernelNamingIt() {
        Parameter p = TestModels.kernel(be, "norm/gamma", Shape.of(8), 1);
        var e = assertThrows(IllegalArgumentException.class, () -> pruner.updateBlocks(List.of(p), 0.5, new BlockStructure(4, 4)));
        assertTrue(e.getMessage().contains("norm/gamma") && e.getMessage().contains("Dense kernels"), e.getMessage());
        assertNull(p.mask(), "failed before touching any mask");
    }

    @Test void blockGmpOnFashionMnistKeepsWholeBlocksAndGivesExactBlockedEll() {
        FashionMnistGmpRun run = FashionMnistGmpRun.of(be,
                "{type: gmp, structure: \"block:4x4\", initSparsity: 0.1, finalSparsity: 0.9, startEpoch: 0, endEpoch: 2, updateFrequency: 0.5}", "blk");
        Model model = run.model();
        List<PruningEvent> events = run.events();

        assertTrue(events.size() >= 4, "updates every half epoch");
        assertTrue(events.getLast().isFinal());
        assertEquals(0.9, events.getLast().update().target(), 1e-12, "the final update is at the final sparsity");
        for (PruningEvent e : events) {
            assertEquals(List.of("fc1/kernel", "fc2/kernel", "fc3/kernel"), e.update().layers().stream().map(LayerSparsity::name).toList(),
                    "the output layer is block-pruned like the others");
            for (LayerSparsity l : e.update().layers()) {
                BlockLayout bl = BlockLayout.of(l.name(), model.parameter(l.name()).shape(), 4, 4);
                long blocks = bl.blocks();
                long removed = BlockStructure.removed(e.update().target(), blocks);
                // fc3's A = [10, 100] has a partial last block-row (2 rows, blocks of 8 weights)
                assertTrue(l.pruned() >= removed * 8 && l.pruned() <= removed * 16, l.name() + " " + l.pruned() + " for " + removed + " blocks");
                if (bl.rows() % 4 == 0 && bl.cols() % 4 == 0) assertEquals(removed * 16, l.pruned(), l.name() + " at step " + e.step());
                assertEquals(bl.rows() * (long) bl.cols(), l.size());
            }
        }
        // after the training steps that followed the last update, masked weights are zero and every block is masked whole or not at all
        for (String name : List.of("fc1/kernel", "fc2/kernel", "fc3/kernel")) {
            Parameter p = model.parameter(name);
            Shape s = p.shape();
            float[] w = be.download(p.value());
            byte[] mask = be.downloadBytes(p.mask());
            for (int i = 0; i < w.length; i++) if (mask[i] == 0) assertEquals(0f, w[i], name + "[" + i + "] masked but non-zero");
            BlockLayout l = BlockLayout.of(name, s, 4, 4);
            int[] masked = new int[l.blocks()];
            for (int i = 0; i < mask.length; i++) if (mask[i] == 0) masked[l.blockOf(i)]++;
            int gone = 0;
            for (int b = 0; b < masked.length; b++) {
                assertTrue(masked[b] == 0 || masked[b] == l.blockSize(b), name + " block " + b + " is masked in part: " + masked[b]);
                if (masked[b] > 0) gone++;
            }
            assertEquals(BlockStructure.removed(0.9, l.blocks()), gone, name + " reaches round(0.9 B) blocks");

            // Blocked-ELL with the pruned block size stores exactly the kept blocks and converts back exactly
            float[] a = SparseMatrix.fromDenseKernel(w, s.dim(0), s.dim(1));
            BlockedEllMatrix bell = BlockedEllMatrix.fromKernel(w, s.dim(0), s.dim(1), 4);
            int kept = 0;
            for (int c : bell.blockColumns()) if (c >= 0) kept++;
            assertEquals(l.blocks() - gone, kept, name + ": (1 - s) of the blocks");
            assertArrayEquals(a, bell.toDense(), name + " round trip");
        }
    }
}
