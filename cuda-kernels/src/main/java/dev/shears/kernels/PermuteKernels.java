package dev.shears.kernels;

import dev.shears.nativebind.Cuda;

/**
 * Axis permutation (permute.cu) on a {@link PermutePlan}: a device-to-device copy when the
 * permutation moves nothing, else the naive gather (one thread per output, coalesced writes) or
 * the shared-memory tiled transpose (coalesced reads and writes) when x's innermost axis moves.
 */
public final class PermuteKernels {
    /** Which kernel runs a permutation that moves x's innermost axis (others always use the naive one). */
    public enum Variant {
        /** tiled when both tile axes span at least a 32-byte sector ({@link #TILED_MIN_DIM} floats), else naive */
        AUTO,
        NAIVE,
        TILED
    }

    /**
     * The shortest tile axis worth the tiled kernel: 8 floats fill a 32-byte memory sector, so the
     * tile's rows are whole sectors; below that the naive kernel's strided reads touch about as
     * many sectors and it keeps all its threads busy.
     */
    public static final int TILED_MIN_DIM = 8;
    /** PERMUTE_TILE in permute.cu */
    static final int TILE = 32;

    private final KernelRuntime rt;
    private final Kernel naive, tiled;

    public PermuteKernels(KernelRuntime rt) {
        this.rt = rt;
        this.naive = rt.kernel("shears_permute");
        this.tiled = rt.kernel("shears_permute_tiled");
    }

    /** y = x with axes permuted (y's axis i is x's axis perm[i]; dims are x's); y may not alias x unless nothing moves. */
    public void permute(long x, long y, int[] dims, int[] perm) { permute(x, y, dims, perm, Variant.AUTO); }

    public void permute(long x, long y, int[] dims, int[] perm, Variant variant) {
        PermutePlan p = PermutePlan.of(dims, perm);
        if (p.size() == 0) return;
        if (p.isCopy()) {
            if (x != y) Cuda.memcpyDtoDAsync(y, x, p.size() * Float.BYTES, rt.stream().handle());
            return;
        }
        if (x == y) throw new IllegalArgumentException("permute: y is x; a permutation cannot run in place, give it another buffer");
        int[] outDims = PermutePlan.padded(p.outDims()), srcStride = PermutePlan.padded(p.srcStride());
        int last = p.rank() - 1, q = p.innerAxis();
        boolean useTiled = p.movesInnermost() && switch (variant) {
            case NAIVE -> false;
            case TILED -> true;
            case AUTO -> p.outDims()[last] >= TILED_MIN_DIM && p.outDims()[q] >= TILED_MIN_DIM;
        };
        if (useTiled) {
            long tiles = ceilDiv(p.outDims()[last], TILE) * ceilDiv(p.outDims()[q], TILE);
            long planes = p.size() / ((long) p.outDims()[last] * p.outDims()[q]);
            rt.args().ptr(x).ptr(y).ints(outDims).ints(srcStride).i32(p.rank()).i32(q);
            rt.launch(tiled, planes * tiles, 1, KernelRuntime.BLOCK, 0);
        } else {
            rt.args().ptr(x).ptr(y).ints(outDims).ints(srcStride).i32(p.rank()).i64(p.size());
            rt.launch1d(naive, p.size());
        }
    }

    private static long ceilDiv(long a, long b) { return (a + b - 1) / b; }
}
