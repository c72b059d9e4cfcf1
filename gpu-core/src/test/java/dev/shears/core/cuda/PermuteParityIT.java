package dev.shears.core.cuda;

import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.tensor.DType;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import dev.shears.kernels.PermuteKernels;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * permute.cu against its CPU twin (HostKernels.permute through CpuBackend) on seeded random
 * tensors: every permutation of ranks 2 to 4 and sampled ones (identity and reversal included) of
 * ranks 5 and 6, on shapes with axes of length 1 and tile edges that do not divide 32, through the
 * backend (the AUTO choice) and through each kernel forced. Tolerance: exact, bit for bit (the
 * kernels only move values).
 */
class PermuteParityIT extends GpuParityFixture {
    private static int[] permuted(int[] dims, int[] perm) {
        int[] out = new int[dims.length];
        for (int i = 0; i < dims.length; i++) out[i] = dims[perm[i]];
        return out;
    }

    /** The CPU twin's result, and each GPU path's, for one shape and permutation. */
    private void check(int[] dims, int[] perm, long seed) {
        int n = 1;
        for (int d : dims) n *= d;
        float[] x = Parity.uniform(n, seed, -1, 1);
        Shape in = Shape.of(dims), out = Shape.of(permuted(dims, perm));
        Tensor cx = cpu.upload(x, in), cy = cpu.allocate(out, DType.FLOAT32);
        cpu.permute(cx, cy, dims, perm);
        float[] expected = cpu.download(cy);
        String what = Arrays.toString(dims) + " by " + Arrays.toString(perm);

        try (Tensor gx = gpu.upload(x, in); Tensor gy = gpu.allocate(out, DType.FLOAT32)) {
            gpu.fill(gy, Float.NaN); // an element the kernel skipped stays NaN
            gpu.permute(gx, gy, dims, perm);
            Parity.assertBitExact("permute " + what, expected, gpu.download(gy));
            for (PermuteKernels.Variant v : new PermuteKernels.Variant[] {PermuteKernels.Variant.NAIVE, PermuteKernels.Variant.TILED}) {
                gpu.fill(gy, Float.NaN);
                gpu.permuteKernels().permute(((CudaTensor) gx).pointer(), ((CudaTensor) gy).pointer(), dims, perm, v);
                Parity.assertBitExact("permute " + v + " " + what, expected, gpu.download(gy));
            }
        }
    }

    private static void permutations(int[] prefix, int depth, boolean[] used, List<int[]> out) {
        if (depth == prefix.length) {
            out.add(prefix.clone());
            return;
        }
        for (int a = 0; a < prefix.length; a++) {
            if (used[a]) continue;
            used[a] = true;
            prefix[depth] = a;
            permutations(prefix, depth + 1, used, out);
            used[a] = false;
        }
    }

    private static int[] shuffled(int n, SplittableRandom r) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1), t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    @Test
    void everyPermutationOfRanksTwoToFour() {
        int[][] shapes = {{37, 45}, {1, 70}, {5, 3, 40}, {9, 1, 33}, {3, 4, 2, 36}, {2, 11, 1, 9}};
        long seed = 1;
        for (int[] dims : shapes) {
            List<int[]> perms = new ArrayList<>();
            permutations(new int[dims.length], 0, new boolean[dims.length], perms);
            for (int[] perm : perms) check(dims, perm, seed++);
        }
    }

    @Test
    void sampledPermutationsOfRanksFiveAndSix() {
        SplittableRandom r = new SplittableRandom(5);
        int[][] shapes = {{2, 3, 9, 4, 10}, {3, 1, 5, 2, 33}, {2, 3, 2, 4, 3, 9}, {1, 2, 1, 12, 3, 8}};
        long seed = 100;
        for (int[] dims : shapes) {
            int rank = dims.length;
            int[] identity = new int[rank], reversal = new int[rank];
            for (int i = 0; i < rank; i++) {
                identity[i] = i;
                reversal[i] = rank - 1 - i;
            }
            check(dims, identity, seed++);
            check(dims, reversal, seed++);
            for (int k = 0; k < 12; k++) check(dims, shuffled(rank, r), seed++);
        }
    }

    @Test
    void imageLayoutsBothWays() {
        // NCHW <-> NHWC: the tiled kernel's plane has edges 35 and 40 (tiles that do not divide 32)
        check(new int[] {4, 40, 5, 7}, new int[] {0, 2, 3, 1}, 7);
        check(new int[] {4, 5, 7, 40}, new int[] {0, 3, 1, 2}, 8);
        // three channels: the AUTO choice is the naive kernel
        check(new int[] {2, 3, 16, 16}, new int[] {0, 2, 3, 1}, 9);
    }

    @Test
    void badArgumentsAreRefusedAsOnTheCpu() {
        Tensor x = keep(gpu.allocate(Shape.of(2, 3), DType.FLOAT32)), y = keep(gpu.allocate(Shape.of(3, 2), DType.FLOAT32));
        Tensor cx = cpu.allocate(Shape.of(2, 3), DType.FLOAT32), cy = cpu.allocate(Shape.of(3, 2), DType.FLOAT32);
        String[] messages = new String[2];
        int k = 0;
        for (var call : List.<Runnable>of(() -> gpu.permute(x, y, new int[] {2, 3}, new int[] {1, 1}),
                () -> cpu.permute(cx, cy, new int[] {2, 3}, new int[] {1, 1}))) {
            messages[k++] = assertThrows(IllegalArgumentException.class, call::run).getMessage();
        }
        assertEquals(messages[1], messages[0]);
        assertTrue(messages[0].contains("[1, 1] is not a permutation of 0..1"), messages[0]);
        var size = assertThrows(IllegalArgumentException.class, () -> gpu.permute(x, y, new int[] {2, 4}, new int[] {1, 0}));
        assertTrue(size.getMessage().contains("permute x: expected 8 elements"), size.getMessage());
        var inPlace = assertThrows(IllegalArgumentException.class, () -> gpu.permute(x, x, new int[] {2, 3}, new int[] {1, 0}));
        assertTrue(inPlace.getMessage().contains("permute: y is x"), inPlace.getMessage());
    }
}
