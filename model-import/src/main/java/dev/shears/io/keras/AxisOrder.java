package dev.shears.io.keras;

import java.util.Arrays;

/**
 * Axis permutations between Shears' NCHW tensors and the Keras tensors they stand for. An order
 * {@code p} relates an IR tensor T to a Keras tensor K by "Keras axis i is IR axis p[i]" (per
 * sample, batch excluded). For a channels_last image, T is [C, H, W] and K is [H, W, C], so
 * {@code p = CHANNELS_LAST = (1, 2, 0)}.
 */
final class AxisOrder {
    private AxisOrder() {}

    /** Keras [H, W, C] over IR [C, H, W]. */
    static final int[] CHANNELS_LAST = {1, 2, 0};

    static int[] identity(int rank) {
        int[] p = new int[rank];
        for (int i = 0; i < rank; i++) p[i] = i;
        return p;
    }

    static boolean isIdentity(int[] p) {
        for (int i = 0; i < p.length; i++) if (p[i] != i) return false;
        return true;
    }

    static int[] inverse(int[] p) {
        int[] inv = new int[p.length];
        for (int i = 0; i < p.length; i++) inv[p[i]] = i;
        return inv;
    }

    /** (a then b): result[i] = a[b[i]]. */
    static int[] compose(int[] a, int[] b) {
        int[] r = new int[b.length];
        for (int i = 0; i < b.length; i++) r[i] = a[b[i]];
        return r;
    }

    /** dims of the tensor whose axis i is axis perm[i] of a tensor with dims {@code dims}. */
    static int[] permuteDims(int[] dims, int[] perm) {
        int[] out = new int[perm.length];
        for (int i = 0; i < perm.length; i++) out[i] = dims[perm[i]];
        return out;
    }

    /**
     * Row-major data permuted so that output axis i is input axis perm[i]; with a leading
     * {@code batch} axis left in place (pass 1 for a single array).
     */
    static float[] permuteData(float[] data, int batch, int[] dims, int[] perm) {
        if (isIdentity(perm)) return data.clone();
        int rank = dims.length;
        int per = 1;
        for (int d : dims) per *= d;
        int[] inStride = new int[rank];
        for (int i = rank - 1, s = 1; i >= 0; s *= dims[i], i--) inStride[i] = s;
        int[] outDims = permuteDims(dims, perm);
        int[] strideOfOutAxis = new int[rank];
        for (int i = 0; i < rank; i++) strideOfOutAxis[i] = inStride[perm[i]];
        float[] out = new float[data.length];
        int[] idx = new int[rank];
        for (int b = 0; b < batch; b++) {
            int base = b * per;
            Arrays.fill(idx, 0);
            int src = 0;
            for (int o = 0; o < per; o++) {
                out[base + o] = data[base + src];
                for (int ax = rank - 1; ax >= 0; ax--) { // odometer over the output index
                    idx[ax]++;
                    src += strideOfOutAxis[ax];
                    if (idx[ax] < outDims[ax]) break;
                    src -= strideOfOutAxis[ax] * outDims[ax];
                    idx[ax] = 0;
                }
            }
        }
        return out;
    }
}
