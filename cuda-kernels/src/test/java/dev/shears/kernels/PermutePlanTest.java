package dev.shears.kernels;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link PermutePlan}'s axis merging, checked on the CPU: the naive kernel's gather (the odometer
 * of shears_permute, written out here in Java) over the merged plan must equal the permutation
 * computed axis by axis on the original shape, for random shapes (with axes of length 1) and
 * permutations of rank 1 to 6.
 */
class PermutePlanTest {

    /** y[i0..ir] = x[index with axis perm[k] = i_k], straight from the definition. */
    private static int[] reference(int[] dims, int[] perm) {
        int r = dims.length, n = 1;
        for (int d : dims) n *= d;
        int[] xStride = new int[r];
        for (int a = r - 1, s = 1; a >= 0; a--) {
            xStride[a] = s;
            s *= dims[a];
        }
        int[] y = new int[n];
        int[] idx = new int[r];
        for (int o = 0; o < n; o++) {
            int rem = o, src = 0;
            for (int k = r - 1; k >= 0; k--) {
                int d = dims[perm[k]];
                idx[k] = rem % d;
                rem /= d;
                src += idx[k] * xStride[perm[k]];
            }
            y[o] = src; // x[i] = i, so y holds source indices
        }
        return y;
    }

    /** shears_permute's gather on the plan. */
    private static int[] gather(PermutePlan p) {
        int[] y = new int[(int) p.size()];
        for (int o = 0; o < y.length; o++) {
            int rem = o, src = 0;
            for (int a = p.rank() - 1; a >= 0; a--) {
                int d = p.outDims()[a];
                src += (rem % d) * p.srcStride()[a];
                rem /= d;
            }
            y[o] = src;
        }
        return y;
    }

    @Test
    void mergedPlansGatherTheSameElementsAsThePermutationItself() {
        SplittableRandom r = new SplittableRandom(11);
        for (int trial = 0; trial < 400; trial++) {
            int rank = 1 + r.nextInt(6);
            int[] dims = new int[rank];
            for (int a = 0; a < rank; a++) dims[a] = r.nextInt(4) == 0 ? 1 : 2 + r.nextInt(4);
            int[] perm = shuffled(rank, r);
            PermutePlan p = PermutePlan.of(dims, perm);
            String what = java.util.Arrays.toString(dims) + " by " + java.util.Arrays.toString(perm) + " -> " + p;
            assertArrayEquals(reference(dims, perm), gather(p), what);
            if (p.rank() > 0) assertEquals(1, p.srcStride()[p.innerAxis()], what);
            for (int a = 0; a + 1 < p.rank(); a++)
                assertNotEquals((long) p.srcStride()[a], (long) p.srcStride()[a + 1] * p.outDims()[a + 1], "unmerged neighbours in " + what);
        }
    }

    @Test
    void channelsLastFoldsToThreeAxes() {
        PermutePlan p = PermutePlan.of(new int[] {8, 3, 5, 7}, new int[] {0, 2, 3, 1});
        assertArrayEquals(new int[] {8, 35, 3}, p.outDims());
        assertArrayEquals(new int[] {105, 1, 35}, p.srcStride());
        assertEquals(1, p.innerAxis());
        assertTrue(p.movesInnermost());
    }

    @Test
    void identitiesAndUnitAxisShufflesAreCopies() {
        assertTrue(PermutePlan.of(new int[] {2, 3, 4}, new int[] {0, 1, 2}).isCopy());
        assertTrue(PermutePlan.of(new int[] {5, 1, 6}, new int[] {1, 0, 2}).isCopy(), "moving a length-1 axis moves no data");
        assertTrue(PermutePlan.of(new int[] {1, 1}, new int[] {1, 0}).isCopy());
        PermutePlan keepsInner = PermutePlan.of(new int[] {2, 3, 4}, new int[] {1, 0, 2});
        assertFalse(keepsInner.isCopy());
        assertFalse(keepsInner.movesInnermost());
        assertEquals(0, PermutePlan.of(new int[] {3, 0, 2}, new int[] {2, 0, 1}).size());
    }

    @Test
    void badArgumentsAreRefusedNamingThem() {
        var notPerm = assertThrows(IllegalArgumentException.class, () -> PermutePlan.of(new int[] {2, 3}, new int[] {0, 0}));
        assertTrue(notPerm.getMessage().contains("[0, 0] is not a permutation of 0..1"), notPerm.getMessage());
        var length = assertThrows(IllegalArgumentException.class, () -> PermutePlan.of(new int[] {2, 3}, new int[] {0, 1, 2}));
        assertTrue(length.getMessage().contains("has 3 axes, the tensor [2, 3] has 2"), length.getMessage());
        var huge = assertThrows(IllegalArgumentException.class, () -> PermutePlan.of(new int[] {1 << 16, 1 << 16}, new int[] {1, 0}));
        assertTrue(huge.getMessage().contains("2^31-1"), huge.getMessage());
        int[] dims = new int[18], perm = new int[18];
        for (int a = 0; a < 18; a++) {
            dims[a] = 2;
            perm[a] = 17 - a; // reversal: no two axes merge
        }
        var rank = assertThrows(IllegalArgumentException.class, () -> PermutePlan.of(dims, perm));
        assertTrue(rank.getMessage().contains("needs 18 axes") && rank.getMessage().contains("at most 16"), rank.getMessage());
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
}
