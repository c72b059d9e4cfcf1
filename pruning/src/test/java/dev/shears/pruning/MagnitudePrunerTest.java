package dev.shears.pruning;

import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.Parameter;
import dev.shears.core.tensor.Shape;
import dev.shears.pruning.recipe.Scope;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

class MagnitudePrunerTest {
    private final Backend be = new CpuBackend(1);
    private final MagnitudePruner pruner = new MagnitudePruner(be);

    private Parameter param(String name, int rows, int cols, float[] values) {
        Parameter p = new Parameter(name, Parameter.Role.KERNEL, Shape.of(rows, cols), true);
        p.setValue(be.upload(values, Shape.of(rows, cols)));
        return p;
    }

    private static float[] random(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) r.nextGaussian();
        return v;
    }

    /** Values drawn from only a few magnitudes, so most thresholds fall among many ties. */
    private static float[] coarse(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (r.nextInt(5) - 2) * 0.25f;  // -0.5..0.5, a fifth of them 0
        return v;
    }

    private byte[] mask(Parameter p) { return be.downloadBytes(p.mask()); }

    private static long zeros(byte[] m) {
        long z = 0;
        for (byte b : m) if (b == 0) z++;
        return z;
    }

    /**
     * Every kept weight is at least as large in magnitude as every pruned weight: within each
     * tensor (layer scope) or over all of them (global scope).
     */
    private void assertSmallestPruned(List<Parameter> ps, List<float[]> before, boolean global) {
        if (!global) {
            for (int i = 0; i < ps.size(); i++) assertSmallestPruned(List.of(ps.get(i)), List.of(before.get(i)), true);
            return;
        }
        double maxPruned = 0, minKept = Double.POSITIVE_INFINITY;
        for (int i = 0; i < ps.size(); i++) {
            byte[] m = mask(ps.get(i));
            float[] w = be.download(ps.get(i).value());
            for (int j = 0; j < m.length; j++) {
                double a = Math.abs(before.get(i)[j]);
                if (m[j] == 0) {
                    maxPruned = Math.max(maxPruned, a);
                    assertEquals(0f, w[j], "masked weight " + j + " of " + ps.get(i).name() + " is not zero");
                } else {
                    minKept = Math.min(minKept, a);
                    assertEquals(before.get(i)[j], w[j], "kept weight changed");
                }
            }
        }
        assertTrue(maxPruned <= minKept, "pruned |w| up to " + maxPruned + " but kept |w| down to " + minKept);
    }

    @Test void layerScopeReachesEachTargetExactlyAndMasksOnlyGainZeros() {
        Parameter a = param("a/kernel", 30, 17, random(510, 1));
        Parameter b = param("b/kernel", 7, 9, random(63, 2));
        List<Parameter> ps = List.of(a, b);
        byte[] prevA = null, prevB = null;
        for (double target : new double[]{0.05, 0.2, 0.2, 0.5, 0.731, 0.9, 0.99}) {
            List<float[]> before = List.of(be.download(a.value()), be.download(b.value()));
            MaskUpdate u = pruner.update(ps, target, Scope.LAYER);
            for (LayerSparsity l : u.layers()) {
                assertEquals(Math.round(target * l.size()), l.pruned(), l.name() + " at " + target);
                assertTrue(Math.abs(l.pruned() - target * l.size()) <= 1, "within one weight");
            }
            assertEquals(Math.round(target * 510), zeros(mask(a)));
            assertEquals(Math.round(target * 63), zeros(mask(b)));
            if (prevA != null) {
                assertOnlyGainsZeros(prevA, mask(a));
                assertOnlyGainsZeros(prevB, mask(b));
            }
            // the already-masked weights are zero in `before`, so they rank among the smallest
            assertSmallestPruned(ps, before, false);
            prevA = mask(a);
            prevB = mask(b);
        }
    }

    private static void assertOnlyGainsZeros(byte[] before, byte[] after) {
        for (int i = 0; i < before.length; i++)
            if (before[i] == 0) assertEquals(0, after[i], "mask element " + i + " came back");
    }

    @Test void tiesAtTheThresholdAreSplitToTheExactCount() {
        Parameter a = param("a/kernel", 20, 20, coarse(400, 3));
        for (double target : new double[]{0.1, 0.3, 0.45, 0.61, 0.8}) {
            MaskUpdate u = pruner.update(List.of(a), target, Scope.LAYER);
            assertEquals(Math.round(target * 400), u.pruned(), "at " + target);
            assertEquals(u.pruned(), zeros(mask(a)));
        }
    }

    @Test void globalScopeSharesOneThresholdAndHitsTheTotal() {
        // different scales per layer: a global threshold prunes the small-scale layer harder
        float[] big = random(300, 4);
        float[] small = random(200, 5);
        for (int i = 0; i < small.length; i++) small[i] *= 0.1f;
        Parameter a = param("a/kernel", 30, 10, big);
        Parameter b = param("b/kernel", 20, 10, small);
        List<Parameter> ps = List.of(a, b);
        for (double target : new double[]{0.1, 0.3, 0.6}) {
            List<float[]> before = List.of(be.download(a.value()), be.download(b.value()));
            MaskUpdate u = pruner.update(ps, target, Scope.GLOBAL);
            assertEquals(Math.round(target * 500), u.pruned(), "at " + target);
            assertEquals(u.pruned(), zeros(mask(a)) + zeros(mask(b)));
            assertSmallestPruned(ps, before, true);
        }
        assertTrue(pruner.update(ps, 0.6, Scope.GLOBAL).layers().get(1).sparsity() > 0.95, "the small layer should be nearly all pruned");
    }

    @Test void globalTiesSpreadOverTensorsInOrder() {
        Parameter a = param("a/kernel", 10, 10, coarse(100, 6));
        Parameter b = param("b/kernel", 10, 10, coarse(100, 7));
        Parameter c = param("c/kernel", 5, 10, coarse(50, 8));
        List<Parameter> ps = List.of(a, b, c);
        for (double target : new double[]{0.1, 0.15, 0.33, 0.5, 0.7, 0.77}) {
            MaskUpdate u = pruner.update(ps, target, Scope.GLOBAL);
            assertEquals(Math.round(target * 250), u.pruned(), "at " + target);
            assertEquals(u.pruned(), zeros(mask(a)) + zeros(mask(b)) + zeros(mask(c)));
        }
    }

    /**
     * Global scope with the threshold at 0: the already-masked weights of a later tensor are ties
     * that stay masked whatever is asked, so they are counted before the ties are handed out in
     * tensor order. a has 20 unmasked zeros, b 10 masked weights: 25 of 200 means b keeps its 10
     * and a masks its first 15 zeros (ties by index).
     */
    @Test void globalZeroThresholdCountsAlreadyMaskedTiesFirst() {
        float[] va = random(100, 12);
        for (int i = 0; i < 100; i += 5) va[i] = 0f; // 20 natural zeros at 0, 5, ..., 95
        Parameter a = param("a/kernel", 10, 10, va);
        Parameter b = param("b/kernel", 10, 10, random(100, 13));
        byte[] mb = new byte[100];
        java.util.Arrays.fill(mb, (byte) 1);
        for (int i = 0; i < 10; i++) mb[7 * i + 3] = 0;
        b.setMask(be.uploadBytes(mb, Shape.of(10, 10)));
        MaskUpdate u = pruner.update(List.of(a, b), 0.125, Scope.GLOBAL);
        assertEquals(25, u.pruned());
        assertEquals(15, u.layers().get(0).pruned(), "a: " + u.layers());
        assertEquals(10, u.layers().get(1).pruned(), "b keeps exactly its own 10 masked weights: " + u.layers());
        assertArrayEquals(mb, mask(b));
        byte[] ma = mask(a);
        for (int i = 0; i < 100; i++)
            assertEquals(i % 5 == 0 && i < 75 ? 0 : 1, ma[i], "a mask[" + i + "]: the first 15 zeros (index order) are masked");
    }

    @Test void aLowerTargetChangesNothing() {
        Parameter a = param("a/kernel", 10, 10, random(100, 9));
        pruner.update(List.of(a), 0.5, Scope.LAYER);
        byte[] m = mask(a);
        MaskUpdate u = pruner.update(List.of(a), 0.2, Scope.LAYER);
        assertEquals(50, u.pruned());
        assertArrayEquals(m, mask(a));
        u = pruner.update(List.of(a), 0.2, Scope.GLOBAL);
        assertEquals(50, u.pruned());
    }

    @Test void anExistingMaskIsRespectedAndReapplied() {
        float[] v = random(100, 10);
        Parameter a = param("a/kernel", 10, 10, v);
        byte[] m = new byte[100];
        java.util.Arrays.fill(m, (byte) 1);
        // mask the ten largest weights: a pruner must keep them masked (masks only gain zeros)
        List<Integer> idx = new ArrayList<>();
        for (int i = 0; i < 100; i++) idx.add(i);
        idx.sort((x, y) -> Float.compare(Math.abs(v[y]), Math.abs(v[x])));
        for (int i = 0; i < 10; i++) m[idx.get(i)] = 0;
        a.setMask(be.uploadBytes(m, Shape.of(10, 10)));
        MaskUpdate u = pruner.update(List.of(a), 0.3, Scope.LAYER);
        assertEquals(30, u.pruned());
        byte[] after = mask(a);
        for (int i = 0; i < 10; i++) assertEquals(0, after[idx.get(i)]);
        float[] w = be.download(a.value());
        for (int i = 0; i < 100; i++) if (after[i] == 0) assertEquals(0f, w[i]);
    }

    @Test void rejectsTargetsOutsideZeroOne() {
        Parameter a = param("a/kernel", 2, 2, random(4, 11));
        assertThrows(IllegalArgumentException.class, () -> pruner.update(List.of(a), 1.0, Scope.LAYER));
        assertThrows(IllegalArgumentException.class, () -> pruner.update(List.of(a), -0.1, Scope.LAYER));
    }
}
