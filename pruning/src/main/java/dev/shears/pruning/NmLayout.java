package dev.shears.pruning;

import dev.shears.core.nn.Parameter;
import dev.shears.core.tensor.Shape;

/**
 * How a prunable kernel is cut into N:M groups: the tensor viewed as [outer, k, inner] with groups
 * of M consecutive indices along k, the GEMM reduction axis. The grouping is NVIDIA's, so that a
 * kernel Shears prunes 2:4 is 2:4 for the tools that run sparse tensor cores on it:
 * <ul>
 *   <li>Dense kernel W [in, out]: (1, in, out), i.e. for each output, inputs 4g..4g+3 form a
 *       group (the input dimension, as for a PyTorch Linear weight [out, in]). These are
 *       consecutive columns of A = W^T [out, in] in {@link dev.shears.core.sparse.SparseMatrix},
 *       so a pruned Dense kernel converts to {@link dev.shears.core.sparse.NmMatrix} without loss;</li>
 *   <li>Conv2D kernel [out, in, kh, kw] (OIHW, ONNX's KCRS): (out, in, kh*kw), i.e. for each
 *       output channel and kernel position (r, s), input channels 4g..4g+3 form a group. This is
 *       NVIDIA Apex ASP's {@code m4n2_1d} on convolutions: {@code create_mask} permutes a 4-d
 *       weight (K, C, R, S) to (R, S, K, C), views it as [R*S*K, C] and groups consecutive
 *       elements of each row, i.e. along C (NVIDIA/apex, apex/contrib/sparsity/sparse_masklib.py;
 *       asp.py says "For Conv2d dim= K x CRS; we prune along C"). Keras stores the same kernel as
 *       [kh, kw, in, out]: the groups still run along its {@code in} axis. The groups are
 *       consecutive in A = [out, in*kh*kw] (the im2col GEMM) only for a 1x1 kernel; for larger
 *       ones they stride kh*kw there, so the CPU sparse planner offers NmMatrix for 1x1
 *       convolutions only and keeps CSR/Blocked-ELL/dense for the others (see SparsePlanner).</li>
 * </ul>
 * Until this was changed, Shears grouped a Conv2D kernel along the flattened in*kh*kw axis of each
 * output channel instead; a run saved that way cannot be resumed (GmpTrainer#resumeFrom says so).
 *
 * <p>When M does not divide k, the last group of each run is shorter and keeps at most as many
 * weights as a full group (NmMatrix checks the same "at most N" on it; ASP pads C with zeros to
 * a multiple of M, which keeps the same weights). A kernel with k < M (a first convolution on
 * 1-channel images) has only short groups: with keep >= k nothing in it is pruned.
 *
 * @param outer independent runs before the reduction axis
 * @param k     length of the reduction axis
 * @param inner independent runs after it (the stride between a group's elements)
 */
public record NmLayout(long outer, long k, long inner) {

    /**
     * The layout of a Dense or Conv2D kernel, told apart by rank (the only prunable parameters).
     *
     * @throws IllegalArgumentException naming the parameter when its shape is neither
     */
    public static NmLayout of(Parameter p) { return of(p.name(), p.shape()); }

    public static NmLayout of(String name, Shape s) {
        return switch (s.rank()) {
            case 2 -> new NmLayout(1, s.dim(0), s.dim(1));
            case 4 -> new NmLayout(s.dim(0), s.dim(1), (long) s.dim(2) * s.dim(3));
            default -> throw new IllegalArgumentException(name + " has shape " + s + ": N:M pruning takes Dense kernels [in, out] "
                    + "and Conv2D kernels [out, in, kh, kw] only (exclude it from the modifier's params)");
        };
    }

    /** Number of groups of length {@code m}, short ones included. */
    public long groups(int m) { return outer * inner * ((k + m - 1) / m); }

    /** The most weights that can stay nonzero with {@code keep} per group of {@code m}. */
    public long maxKept(int keep, int m) {
        long full = k / m, tail = k % m;
        return outer * inner * (full * Math.min(keep, m) + Math.min(keep, tail));
    }

    /** Whether the host weights {@code w} (this layout) have at most {@code n} nonzeros in every group of {@code m}. */
    public boolean follows(float[] w, int n, int m) {
        if (w.length != outer * k * inner) throw new IllegalArgumentException(w.length + " weights for the layout " + this);
        return firstViolation(j -> w[j] != 0f, n, m) < 0;
    }

    /** Whether the UINT8 mask {@code mask} (this layout) keeps at most {@code n} weights in every group of {@code m}. */
    public boolean followsMask(byte[] mask, int n, int m) { return firstMaskViolation(mask, n, m) < 0; }

    /**
     * The flat index of the first element of the first group of {@code m} in which the UINT8
     * {@code mask} (this layout) keeps more than {@code n} weights, or -1 when there is none.
     */
    public long firstMaskViolation(byte[] mask, int n, int m) {
        if (mask.length != outer * k * inner) throw new IllegalArgumentException(mask.length + " mask entries for the layout " + this);
        return firstViolation(j -> mask[j] != 0, n, m);
    }

    /** The group of {@code m} that starts at flat index {@code start}, e.g. {@code [outer 3, k 4..7, inner 5]}. */
    public String group(long start, int m) {
        long i = start % inner, kk = start / inner % k, o = start / inner / k;
        return "[outer " + o + ", k " + kk + ".." + (Math.min(k, kk + m) - 1) + ", inner " + i + "]";
    }

    /** The flat index of the first element of the first group with more than {@code n} set elements, or -1. */
    private long firstViolation(java.util.function.IntPredicate set, int n, int m) {
        for (long o = 0; o < outer; o++)
            for (long i = 0; i < inner; i++)
                for (long k0 = 0; k0 < k; k0 += m) {
                    int nz = 0;
                    for (long kk = k0; kk < Math.min(k, k0 + m); kk++) if (set.test((int) ((o * k + kk) * inner + i))) nz++;
                    if (nz > n) return (o * k + k0) * inner + i;
                }
        return -1;
    }
}
