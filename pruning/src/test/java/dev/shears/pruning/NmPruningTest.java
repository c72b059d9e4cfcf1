package dev.shears.pruning;

import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.Parameter;
import dev.shears.core.sparse.NmMatrix;
import dev.shears.core.tensor.Shape;
import dev.shears.pruning.recipe.NmStructure;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/** {@link MagnitudePruner#updateNm} on Dense and Conv2D kernels, checked against NmMatrix's own reading of the pattern. */
class NmPruningTest {
    private final Backend be = new CpuBackend(1);
    private final MagnitudePruner pruner = new MagnitudePruner(be);

    /**
     * Checks every group of m along the layout's reduction axis: at most {@code keep} nonzeros
     * (exactly min(keep, length) here: the weights are Gaussian, no zeros), and every kept |w|
     * at least every pruned |w| of the same group.
     */
    private static void assertGroups(String what, float[] before, float[] after, NmLayout l, int keep, int m) {
        for (long o = 0; o < l.outer(); o++)
            for (long i = 0; i < l.inner(); i++)
                for (long k0 = 0; k0 < l.k(); k0 += m) {
                    int len = (int) Math.min(m, l.k() - k0), kept = 0;
                    double minKept = Double.POSITIVE_INFINITY, maxPruned = 0;
                    for (long kk = k0; kk < k0 + len; kk++) {
                        int idx = (int) ((o * l.k() + kk) * l.inner() + i);
                        if (after[idx] != 0f) {
                            kept++;
                            assertEquals(before[idx], after[idx], what + ": kept weight changed at " + idx);
                            minKept = Math.min(minKept, Math.abs(before[idx]));
                        } else {
                            maxPruned = Math.max(maxPruned, Math.abs(before[idx]));
                        }
                    }
                    assertEquals(Math.min(keep, len), kept, what + ": group (" + o + ", " + k0 + ", " + i + ")");
                    assertTrue(minKept >= maxPruned, what + ": a pruned weight outranks a kept one in group (" + o + ", " + k0 + ", " + i + ")");
                }
    }

    @Test void denseKernelsGroupAlongTheInputAxisAndConvertToNmMatrix() {
        int in = 22, out = 6; // 22 = 5 groups of 4 + a short group of 2 for each output
        Parameter p = TestModels.kernel(be, "dense_1/kernel", Shape.of(in, out), 1);
        float[] w0 = be.download(p.value());
        NmLayout l = NmLayout.of(p);
        assertEquals(new NmLayout(1, in, out), l);

        MaskUpdate u = pruner.updateNm(List.of(p), 0.3, NmStructure.TWO_FOUR);
        assertEquals(3, u.keepPerGroup());
        assertEquals(0.25, u.effectiveTarget());
        float[] w1 = be.download(p.value());
        assertGroups("keep 3", w0, w1, l, 3, 4);
        assertEquals(out * (5 + 0), u.pruned(), "one of 4 in each full group, none of the short groups of 2");

        MaskUpdate fin = pruner.updateNm(List.of(p), 0.5, NmStructure.TWO_FOUR);
        assertEquals(2, fin.keepPerGroup());
        float[] w2 = be.download(p.value());
        assertGroups("keep 2 after 3", w1, w2, l, 2, 4);
        byte[] mask = be.downloadBytes(p.mask());
        for (int i = 0; i < w2.length; i++) assertEquals(w2[i] != 0f ? 1 : 0, mask[i], "mask and zeros agree at " + i);
        assertEquals(out * 5 * 2, fin.pruned());
        // the sparse format reads it as 2:4 and gives back exactly these weights
        NmMatrix nm = NmMatrix.fromKernel(w2, in, out, 2, 4);
        float[] a = nm.toDense(); // [out, in]
        for (int i = 0; i < in; i++)
            for (int o = 0; o < out; o++) assertEquals(w2[i * out + o], a[o * in + i]);
        assertTrue(fin.describe().contains("keep 2 of every 4"), fin.describe());
    }

    /**
     * NVIDIA's grouping (Apex ASP m4n2_1d on a (K, C, R, S) weight): at each output channel and
     * kernel position, input channels 4g..4g+3 hold at most 2 nonzeros; read here straight off
     * the OIHW array, not through NmLayout.
     */
    @Test void convKernelsGroupAlongTheInputChannelsAtEachKernelPosition() {
        int out = 5, in = 6, kh = 3, kw = 3; // in = 6: channels 0-3 and a short group 4-5 at each (o, r, s)
        Parameter p = TestModels.kernel(be, "conv_1/kernel", Shape.of(out, in, kh, kw), 2);
        float[] w0 = be.download(p.value());
        NmLayout l = NmLayout.of(p);
        assertEquals(new NmLayout(out, in, kh * kw), l);
        pruner.updateNm(List.of(p), 0.5, NmStructure.TWO_FOUR);
        float[] w1 = be.download(p.value());
        assertGroups("conv keep 2", w0, w1, l, 2, 4);
        int fullGroupsSeen = 0;
        for (int o = 0; o < out; o++)
            for (int r = 0; r < kh; r++)
                for (int c = 0; c < kw; c++) {
                    int nz = 0;
                    for (int i = 0; i < 4; i++) if (w1[((o * in + i) * kh + r) * kw + c] != 0f) nz++;
                    assertEquals(2, nz, "channels 0-3 at (o " + o + ", r " + r + ", s " + c + ")");
                    for (int i = 4; i < 6; i++) assertEquals(w0[((o * in + i) * kh + r) * kw + c], w1[((o * in + i) * kh + r) * kw + c],
                            "the short group of 2 keeps both at (o " + o + ", r " + r + ", s " + c + ")");
                    fullGroupsSeen++;
                }
        assertEquals(out * kh * kw, fullGroupsSeen);
        // these are not the groups of consecutive im2col columns (A = [out, in*kh*kw]) that NmMatrix reads
        assertFalse(NmMatrix.follows(w1, out, in * kh * kw, 2, 4), "the pattern runs along input channels, not the flattened window");
    }

    @Test void oneByOneConvKernelsAreTwoOfFourInTheirGemmRowsToo() {
        int out = 6, in = 12; // [6, 12, 1, 1]: the groups of channels are consecutive columns of A = [6, 12]
        Parameter p = TestModels.kernel(be, "conv_1x1/kernel", Shape.of(out, in, 1, 1), 5);
        assertEquals(new NmLayout(out, in, 1), NmLayout.of(p));
        pruner.updateNm(List.of(p), 0.5, NmStructure.TWO_FOUR);
        float[] w = be.download(p.value());
        NmMatrix nm = NmMatrix.fromDense(w, out, in, 2, 4);
        assertArrayEquals(w, nm.toDense());
        assertEquals(0.5, nm.sparsity(), 1e-12);
    }

    @Test void followsMaskAgreesWithFollowsOnTheWeights() {
        NmLayout l = new NmLayout(3, 6, 9);
        SplittableRandom r = new SplittableRandom(6);
        for (int trial = 0; trial < 40; trial++) {
            float[] w = new float[3 * 6 * 9];
            byte[] mask = new byte[w.length];
            for (int i = 0; i < w.length; i++) if (r.nextDouble() < 0.42) { w[i] = 1f; mask[i] = 1; }
            assertEquals(l.follows(w, 2, 4), l.followsMask(mask, 2, 4), "trial " + trial);
        }
    }

    @Test void masksOnlyGainZerosAndAnAlreadyStricterMaskStays() {
        Parameter p = TestModels.kernel(be, "dense_1/kernel", Shape.of(16, 3), 3);
        pruner.updateNm(List.of(p), 0.5, new NmStructure(1, 4)); // keep 2 of 4 (clamped to the curve's ceil(0.5*4))
        byte[] first = be.downloadBytes(p.mask());
        // a looser update (keep 3) must not bring any weight back
        MaskUpdate u = pruner.updateNm(List.of(p), 0.3, NmStructure.TWO_FOUR);
        assertArrayEquals(first, be.downloadBytes(p.mask()));
        assertEquals(0.5, u.achieved(), 1e-12);
    }

    @Test void otherShapesAreRejectedNamingTheParameter() {
        Parameter p = new Parameter("odd/kernel", Parameter.Role.KERNEL, Shape.of(4, 4, 4), true);
        p.setValue(be.allocate(p.shape(), dev.shears.core.tensor.DType.FLOAT32));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> pruner.updateNm(List.of(p), 0.5, NmStructure.TWO_FOUR));
        assertTrue(e.getMessage().contains("odd/kernel") && e.getMessage().contains("Dense"), e.getMessage());
        assertNull(p.mask(), "nothing is touched before the check");
    }

    @Test void followsAgreesWithNmMatrix() {
        SplittableRandom r = new SplittableRandom(4);
        for (int trial = 0; trial < 50; trial++) {
            int in = 1 + r.nextInt(13), out = 1 + r.nextInt(5);
            float[] w = new float[in * out];
            for (int i = 0; i < w.length; i++) w[i] = r.nextDouble() < 0.45 ? 1f : 0f;
            boolean expected = NmMatrix.follows(dev.shears.core.sparse.SparseMatrix.fromDenseKernel(w, in, out), out, in, 2, 4);
            assertEquals(expected, new NmLayout(1, in, out).follows(w, 2, 4), "trial " + trial + " [" + in + ", " + out + "]");
        }
    }
}
