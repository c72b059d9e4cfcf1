package dev.shears.kernels;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Mask update for a threshold with the tie rule, and mask apply (update_mask.cu); both return the
 * number of ones in the mask. Without ties to prune the update is one pass; with them, three
 * kernels (count ties per chunk, scan, apply by rank). And the N:M update (update_mask_nm.cu):
 * one thread per group.
 */
public final class MaskKernels {
    /** Elements per block in the tie kernels (MASK_CHUNK in the .cu file). */
    static final int CHUNK = 16 * 256;

    private final KernelRuntime rt;
    private final Kernel simple, countTies, scanTies, applyTies, apply, nm;

    public MaskKernels(KernelRuntime rt) {
        this.rt = rt;
        this.simple = rt.kernel("shears_mask_update_simple");
        this.countTies = rt.kernel("shears_mask_count_ties");
        this.scanTies = rt.kernel("shears_mask_scan_ties");
        this.applyTies = rt.kernel("shears_mask_apply_ties");
        this.apply = rt.kernel("shears_mask_apply");
        this.nm = rt.kernel("shears_mask_update_nm");
    }

    /**
     * The {@code Backend.updateMask} rule on FLOAT32 weights {@code w} and UINT8 {@code mask} of
     * {@code n} elements; returns the ones in the new mask.
     */
    public long updateMask(long w, long mask, long n, float threshold, long tiesToPrune) {
        if (tiesToPrune < 0) throw new IllegalArgumentException("updateMask: tiesToPrune " + tiesToPrune + " < 0");
        if (n == 0) return 0;
        rt.clearResults();
        if (tiesToPrune == 0) {
            rt.args().ptr(w).ptr(mask).i64(n).f32(threshold).ptr(rt.result(0));
            rt.launch1d(simple, n);
            return rt.readResults().get(JAVA_LONG, 0);
        }
        long chunks = (n + CHUNK - 1) / CHUNK;
        long offsetsAt = (4 * chunks + 255) / 256 * 256;
        long scratch = rt.memory().allocate(offsetsAt + 8 * chunks);
        try {
            long chunkTies = scratch, offsets = scratch + offsetsAt;
            rt.args().ptr(w).ptr(mask).i64(n).f32(threshold).ptr(chunkTies).ptr(rt.result(8));
            rt.launch(countTies, chunks, 1, 256, 0);
            rt.args().ptr(chunkTies).i64(chunks).ptr(offsets);
            rt.launch(scanTies, 1, 1, 1024, 0);
            rt.args().ptr(w).ptr(mask).i64(n).f32(threshold).ptr(offsets).ptr(rt.result(8)).i64(tiesToPrune).ptr(rt.result(0));
            rt.launch(applyTies, chunks, 1, 256, 0);
            return rt.readResults().get(JAVA_LONG, 0);
        } finally {
            rt.memory().free(scratch);
        }
    }

    /** w = 0 where the mask is 0; returns the ones in the mask. */
    public long applyMask(long w, long mask, long n) {
        if (n == 0) return 0;
        rt.clearResults();
        rt.args().ptr(w).ptr(mask).i64(n).ptr(rt.result(0));
        rt.launch1d(apply, n);
        return rt.readResults().get(JAVA_LONG, 0);
    }

    /**
     * The {@code Backend.updateMaskNm} rule on FLOAT32 weights {@code w} and UINT8 {@code mask}
     * viewed as [outer, k, inner], groups of {@code m} along k keeping {@code keep}; returns the
     * ones in the new mask. Arguments are checked by the caller (CudaBackend, through
     * {@code Backend.checkNmLayout}); here only what would make the launch itself invalid.
     */
    public long updateMaskNm(long w, long mask, long outer, long k, long inner, int keep, int m) {
        if (m < 1 || m > 32) throw new IllegalArgumentException("updateMaskNm: group length " + m + " outside [1, 32] (NM_MAX_GROUP in update_mask_nm.cu)");
        long groups = outer * ((k + m - 1) / m) * inner;
        if (groups == 0) return 0;
        rt.clearResults();
        rt.args().ptr(w).ptr(mask).i64(outer).i64(k).i64(inner).i32(keep).i32(m).ptr(rt.result(0));
        rt.launch1d(nm, groups);
        return rt.readResults().get(JAVA_LONG, 0);
    }
}
