package dev.shears.pruning.train;

import dev.shears.core.backend.Backend;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.Parameter;
import dev.shears.core.tensor.Tensor;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A host copy of every parameter's values and mask at the end of an epoch: the last good state
 * to fall back on (the CLI saves it as the checkpoint when a run stops on a NaN loss).
 *
 * @param epoch  the 1-based epoch it was taken after (0: before training)
 * @param values every parameter's values by name, in model order
 * @param masks  the masks of masked parameters by name (1 = kept, 0 = pruned)
 */
public record ModelSnapshot(int epoch, Map<String, float[]> values, Map<String, byte[]> masks) {

    public ModelSnapshot {
        values = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(values));
        masks = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(masks));
    }

    /** Downloads the bound model's parameters and masks. */
    public static ModelSnapshot take(Model model, int epoch) {
        Backend be = model.backend();
        Map<String, float[]> v = new LinkedHashMap<>();
        Map<String, byte[]> m = new LinkedHashMap<>();
        for (Parameter p : model.parameters()) {
            v.put(p.name(), be.download(p.value()));
            if (p.mask() != null) m.put(p.name(), be.downloadBytes(p.mask()));
        }
        return new ModelSnapshot(epoch, v, m);
    }

    /**
     * Writes the values and masks back into the bound model (the same architecture): parameters
     * masked in the snapshot get its mask, others lose theirs.
     */
    public void restore(Model model) {
        Backend be = model.backend();
        for (Parameter p : model.parameters()) {
            float[] v = values.get(p.name());
            if (v == null || v.length != p.shape().size())
                throw new IllegalArgumentException("snapshot of epoch " + epoch + " has no values of shape " + p.shape() + " for parameter " + p.name());
            be.write(v, 0, p.value(), 0, v.length);
            byte[] m = masks.get(p.name());
            Tensor old = p.mask();
            p.setMask(m == null ? null : be.uploadBytes(m, p.shape()));
            if (old != null) old.close();
        }
    }

    /** Fraction of masked weights of a parameter; for an unmasked one, of exactly-zero weights. */
    public double sparsity(String parameter) {
        byte[] m = masks.get(parameter);
        long zeros = 0;
        if (m != null) {
            for (byte b : m) if (b == 0) zeros++;
            return (double) zeros / m.length;
        }
        float[] v = values.get(parameter);
        if (v == null) throw new IllegalArgumentException("no parameter named " + parameter + " in the snapshot");
        for (float x : v) if (x == 0f) zeros++;
        return (double) zeros / v.length;
    }

    /** Number of masked (or, unmasked, exactly-zero) weights of a parameter. */
    public long zeros(String parameter) {
        return Math.round(sparsity(parameter) * values.get(parameter).length);
    }
}
