package dev.shears.pruning.schedule;

/**
 * How the sparsity target moves from its initial to its final value as a function of the
 * progress {@code p} in [0, 1] through the pruning window.
 */
public enum SparsityCurve {
    /** Zhu & Gupta 2017, eq. 1: {@code s = s_f + (s_i - s_f) * (1 - p)^3}: prunes fast early, gently late. */
    CUBIC,
    /** {@code s = s_f + (s_i - s_f) * (1 - p)}. */
    LINEAR;

    /** The target at progress {@code p} (clamped to [0, 1]). */
    public double at(double initSparsity, double finalSparsity, double p) {
        double q = 1 - Math.min(1, Math.max(0, p));
        return switch (this) {
            case CUBIC -> finalSparsity + (initSparsity - finalSparsity) * q * q * q;
            case LINEAR -> finalSparsity + (initSparsity - finalSparsity) * q;
        };
    }

    /** The name used in recipes: {@code cubic} or {@code linear}. */
    public String recipeName() { return name().toLowerCase(java.util.Locale.ROOT); }
}
