package dev.shears.kernels;

import java.util.Arrays;

/**
 * An axis permutation reduced to what permute.cu needs: axes of length 1 dropped, and runs of
 * output axes that read consecutive input axes in order merged into one (so NCHW -> NHWC of any
 * batch is the 3-axis [N, C, HW] -> [N, HW, C]). The kernels then see the smallest equivalent
 * permutation: fewer divisions per element, and an identity becomes a plain copy.
 *
 * @param outDims   the output's dimensions after merging, [rank]
 * @param srcStride the input's stride in elements along each output axis, [rank]
 * @param innerAxis the output axis that is the input's innermost (stride 1); rank - 1 when the
 *                  permutation keeps it innermost (then reads are contiguous too); -1 when rank is 0
 * @param size      elements in the tensor (at most 2^31 - 1)
 */
public record PermutePlan(int[] outDims, int[] srcStride, int innerAxis, long size) {
    /** The most axes the kernels take after merging (PERMUTE_MAX_RANK in permute.cu). */
    public static final int MAX_RANK = 16;

    /**
     * The plan for y = x with axes permuted, y's axis i being x's axis perm[i]; {@code dims} are
     * x's dimensions. Fails naming the arguments when perm is not a permutation of
     * 0..dims.length-1, a dimension is negative, or the tensor is too large or of too high a rank.
     */
    public static PermutePlan of(int[] dims, int[] perm) {
        int r = dims.length;
        if (perm.length != r)
            throw new IllegalArgumentException("permute: permutation " + Arrays.toString(perm) + " has " + perm.length
                    + " axes, the tensor " + Arrays.toString(dims) + " has " + r);
        boolean[] seen = new boolean[r];
        for (int p : perm) {
            if (p < 0 || p >= r || seen[p])
                throw new IllegalArgumentException("permute: " + Arrays.toString(perm) + " is not a permutation of 0.." + (r - 1));
            seen[p] = true;
        }
        long size = 1;
        for (int d : dims) {
            if (d < 0) throw new IllegalArgumentException("permute: negative dimension in " + Arrays.toString(dims));
            size *= d;
            if (size > Integer.MAX_VALUE)
                throw new IllegalArgumentException("permute: " + Arrays.toString(dims) + " has more than 2^31-1 elements");
        }
        if (size == 0) return new PermutePlan(new int[0], new int[0], -1, 0);

        // output positions of the axes longer than 1, as x-axis numbers
        int[] kept = Arrays.stream(perm).filter(a -> dims[a] != 1).toArray();
        // groups: maximal runs of output positions reading x axes a, a+1, ... (axes of length 1
        // between them were dropped, so they are adjacent in memory too)
        int[] groupStart = new int[kept.length], groupEnd = new int[kept.length];
        int groups = 0;
        for (int i = 0; i < kept.length; i++) {
            if (groups > 0 && nextKept(dims, groupEnd[groups - 1]) == kept[i]) {
                groupEnd[groups - 1] = kept[i];
            } else {
                groupStart[groups] = kept[i];
                groupEnd[groups] = kept[i];
                groups++;
            }
        }
        if (groups > MAX_RANK)
            throw new IllegalArgumentException("permute: " + Arrays.toString(perm) + " of " + Arrays.toString(dims) + " needs "
                    + groups + " axes after merging adjacent ones; the kernels take at most " + MAX_RANK);
        // each group's length, and its stride in x (the product of the lengths of the x axes after it)
        int[] outDims = new int[groups], srcStride = new int[groups];
        int innerAxis = -1;
        int innermostX = -1;
        for (int a = dims.length - 1; a >= 0; a--) {
            if (dims[a] != 1) {
                innermostX = a;
                break;
            }
        }
        for (int g = 0; g < groups; g++) {
            long len = 1;
            for (int a = groupStart[g]; a <= groupEnd[g]; a++) len *= dims[a];
            long stride = 1;
            for (int a = groupEnd[g] + 1; a < dims.length; a++) stride *= dims[a];
            outDims[g] = (int) len;
            srcStride[g] = (int) stride;
            if (groupEnd[g] == innermostX) innerAxis = g;
        }
        return new PermutePlan(outDims, srcStride, innerAxis, size);
    }

    /** The first x axis after {@code a} whose length is not 1, or -1. */
    private static int nextKept(int[] dims, int a) {
        for (int b = a + 1; b < dims.length; b++) if (dims[b] != 1) return b;
        return -1;
    }

    public int rank() { return outDims.length; }

    /** True when the permutation moves no data: y is a copy of x. */
    public boolean isCopy() { return rank() <= 1; }

    /** True when x's innermost axis is not y's: reads along y's order stride through x. */
    public boolean movesInnermost() { return rank() > 1 && innerAxis != rank() - 1; }

    /** The axes padded to {@link #MAX_RANK} ints (the PermuteAxes struct). */
    static int[] padded(int[] axes) { return Arrays.copyOf(axes, MAX_RANK); }

    @Override public String toString() {
        return "PermutePlan[outDims=" + Arrays.toString(outDims) + ", srcStride=" + Arrays.toString(srcStride)
                + ", innerAxis=" + innerAxis + ", size=" + size + "]";
    }
}
