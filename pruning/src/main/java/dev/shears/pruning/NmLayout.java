package dev.shears.pruning;

import dev.shears.core.nn.Parameter;
import dev.shears.core.tensor.Shape;

/**
 * How a prunable kernel is cut into N:M groups: the tensor viewed as [outer, k, inner] with groups
 * of M consecutive indices along k, the GEMM reduction axis. That is the axis along the rows of A
 * in {@link dev.shears.core.sparse.SparseMatrix}, so a kernel pruned this way converts to
 * {@link dev.shears.core.sparse.NmMatrix} without loss:
 * <ul>
 *   <li>Dense kernel W [in, out] (A = W^T [out, in]): (1, in, out), i.e. for each output, inputs
 *       4g..4g+3 form a group;</li>
 *   <li>Conv2D kernel [out, in, kh, kw] (A = [out, in*kh*kw]): (out, in*kh*kw, 1), i.e. consecutive
 *       elements of the flattened kernel of one output channel.</li>
 * </ul>
 * When M does not divide k, the last group of each run is shorter and keeps at most as many
 * weights as a full group (NmMatrix checks the same "at most N" on it).
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
            case 4 -> new NmLayout(s.dim(0), (long) s.dim(1) * s.dim(2) * s.dim(3), 1);
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
        for (long o = 0; o < outer; o++)
            for (long i = 0; i < inner; i++)
                for (long k0 = 0; k0 < k; k0 += m) {
                    int nz = 0;
                    for (long kk = k0; kk < Math.min(k, k0 + m); kk++) if (w[(int) ((o * k + kk) * inner + i)] != 0f) nz++;
                    if (nz > n) return false;
                }
        return true;
    }
}
