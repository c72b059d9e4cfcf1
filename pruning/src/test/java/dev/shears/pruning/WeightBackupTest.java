package dev.shears.pruning;

import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.Parameter;
import dev.shears.core.tensor.Shape;
import dev.shears.pruning.recipe.Scope;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/** A pruning undone by {@link WeightBackup#restore} leaves the weights and the mask bit for bit as they were. */
class WeightBackupTest {
    private final Backend be = new CpuBackend(1);
    private final MagnitudePruner pruner = new MagnitudePruner(be);

    private Parameter param(float[] values) {
        Parameter p = new Parameter("k", Parameter.Role.KERNEL, Shape.of(8, 16), true);
        p.setValue(be.upload(values, Shape.of(8, 16)));
        return p;
    }

    private static float[] random(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[8 * 16];
        for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
        return v;
    }

    @Test void restoreUndoesAPruningOfAParameterWithoutAMask() {
        float[] w = random(1);
        Parameter p = param(w);
        try (WeightBackup backup = new WeightBackup(be, p)) {
            pruner.update(List.of(p), 0.75, Scope.LAYER);
            assertNotNull(p.mask(), "the pruner gave it a mask");
            assertFalse(java.util.Arrays.equals(w, be.download(p.value())), "the pruning zeroed weights");
            backup.restore();
        }
        assertArrayEquals(w, be.download(p.value()));
        assertNull(p.mask(), "no mask before, none after");
    }

    @Test void restorePutsBackTheMaskAsItWasAndCanBeRepeated() {
        Parameter p = param(random(2));
        pruner.update(List.of(p), 0.25, Scope.LAYER); // a mask of 25% zeros, the state to keep
        float[] w = be.download(p.value());
        byte[] m = be.downloadBytes(p.mask());
        try (WeightBackup backup = new WeightBackup(be, p)) {
            for (double level : new double[] {0.5, 0.9}) {
                pruner.update(List.of(p), level, Scope.LAYER);
                assertEquals(Math.round(level * w.length), zeros(be.downloadBytes(p.mask())), "pruned to " + level + " from the kept state");
                backup.restore();
                assertArrayEquals(w, be.download(p.value()));
                assertArrayEquals(m, be.downloadBytes(p.mask()));
            }
        }
    }

    @Test void aParameterNotBoundToABackendIsRefusedByName() {
        Parameter p = new Parameter("fc/kernel", Parameter.Role.KERNEL, Shape.of(2, 2), true);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> new WeightBackup(be, p));
        assertTrue(e.getMessage().contains("fc/kernel"), e.getMessage());
    }

    private static long zeros(byte[] m) {
        long z = 0;
        for (byte b : m) if (b == 0) z++;
        return z;
    }
}
