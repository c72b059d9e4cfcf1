package dev.shears.core.sparse;

import dev.shears.core.nn.Model;
import dev.shears.core.nn.Parameter;

import java.util.Arrays;

/**
 * Test helper for the sparse-inference tests of every module (gpu-core's test-jar): zeroes the
 * smallest-magnitude weights in place, what magnitude pruning leaves, without masks or a recipe.
 */
public final class KernelPruning {
    private KernelPruning() {}

    /** Zeroes the smallest-magnitude fraction {@code sparsity} of every kernel of {@code m}. */
    public static void pruneKernels(Model m, double sparsity) {
        for (Parameter p : m.parameters())
            if (p.role() == Parameter.Role.KERNEL) prune(m, p, sparsity);
    }

    /** Zeroes the smallest-magnitude fraction {@code sparsity} of one parameter of {@code m} (weights equal to the cut too). */
    public static void prune(Model m, Parameter p, double sparsity) {
        float[] w = m.backend().download(p.value());
        float[] mags = new float[w.length];
        for (int i = 0; i < w.length; i++) mags[i] = Math.abs(w[i]);
        Arrays.sort(mags);
        float cut = mags[(int) (sparsity * (w.length - 1))];
        for (int i = 0; i < w.length; i++) if (Math.abs(w[i]) <= cut) w[i] = 0f;
        m.backend().write(w, 0, p.value(), 0, w.length);
    }
}
