package dev.shears.pruning.recipe;

import dev.shears.pruning.schedule.SparsityCurve;
import dev.shears.pruning.schedule.SparsitySchedule;

/**
 * A pruning phase of a recipe. Each one owns the masks of the parameters it selects from its
 * start to the end of the run ({@code leaveEnabled}) or to its {@code endEpoch}, where the masks
 * are dropped (the weights then may grow back).
 */
public sealed interface PruningModifier {

    double startEpoch();

    double endEpoch();

    /** The sparsity the selected weights end with. */
    double finalSparsity();

    /** The epoch at which {@link #finalSparsity()} is reached. */
    double finalSparsityEpoch();

    Scope scope();

    ParamSelection params();

    /** Whether the masks stay after {@code endEpoch} (true) or are dropped there (false). */
    boolean leaveEnabled();

    /**
     * The structure the masks follow, or null for unstructured magnitude pruning. With an N:M
     * pattern, scope is layer (each group is pruned on its own), the final sparsity is
     * {@code 1 - N/M}, and each update keeps {@link NmStructure#keepPerGroup} weights per group.
     * With {@link ChannelStructure channels}, scope is layer and each update removes whole output
     * channels, {@code round(s_t * C)} per layer; with {@link BlockStructure block:RxC}, scope is
     * layer and each update removes whole R x C blocks, {@code round(s_t * B)} per layer.
     */
    Structure structure();

    /** The sparsity the masks are meant to reach at an update whose schedule target is {@code target}. */
    default double effectiveTarget(double target) {
        return structure() == null ? target : structure().effectiveSparsity(target);
    }

    /** The update steps and targets for a run with {@code stepsPerEpoch} mini-batches an epoch. */
    SparsitySchedule schedule(int stepsPerEpoch);

    /** One line for logs and reports, including when the final sparsity is reached. */
    String describe();

    /** The step index of a position given in epochs ({@code round(epoch * stepsPerEpoch)}). */
    static long stepOf(double epoch, int stepsPerEpoch) { return Math.round(epoch * stepsPerEpoch); }

    /**
     * Gradual magnitude pruning (Zhu & Gupta 2017): from {@code initSparsity} at
     * {@code startEpoch} to {@code finalSparsity} at {@code endEpoch}, updating the masks every
     * {@code updateFrequency} epochs (fractions allowed) along {@code curve}. With an N:M
     * {@code structure}, the curve sets how many weights each group keeps (see
     * {@link NmStructure}) and finalSparsity must be {@code 1 - N/M}; with channels or blocks it
     * sets the fraction of each layer's channels or blocks removed. Any structure needs scope layer.
     */
    record GradualMagnitude(double initSparsity, double finalSparsity, double startEpoch, double endEpoch,
                            double updateFrequency, SparsityCurve curve, Scope scope, ParamSelection params,
                            boolean leaveEnabled, Structure structure) implements PruningModifier {

        /** Unstructured GMP. */
        public GradualMagnitude(double initSparsity, double finalSparsity, double startEpoch, double endEpoch,
                                double updateFrequency, SparsityCurve curve, Scope scope, ParamSelection params, boolean leaveEnabled) {
            this(initSparsity, finalSparsity, startEpoch, endEpoch, updateFrequency, curve, scope, params, leaveEnabled, null);
        }

        public GradualMagnitude {
            requireSparsity("initSparsity", initSparsity);
            requireSparsity("finalSparsity", finalSparsity);
            if (finalSparsity < initSparsity)
                throw new RecipeException("finalSparsity = " + finalSparsity + " is below initSparsity = " + initSparsity + "; sparsity may only rise (finalSparsity >= initSparsity)");
            if (!(startEpoch >= 0) || Double.isInfinite(startEpoch)) throw new RecipeException("startEpoch = " + startEpoch + " must be finite and >= 0");
            if (!(endEpoch >= startEpoch) || Double.isInfinite(endEpoch))
                throw new RecipeException("endEpoch = " + endEpoch + " is before startEpoch = " + startEpoch + "; endEpoch must be >= startEpoch");
            if (!(updateFrequency > 0) || Double.isInfinite(updateFrequency))
                throw new RecipeException("updateFrequency = " + updateFrequency + " must be a finite number of epochs > 0 (fractions such as 0.25 are allowed)");
            // longer than the window, the schedule has no step between start and end: the sparsity jumps from
            // initSparsity to finalSparsity at endEpoch (a 'gradual' pruning that is not); the tolerance keeps
            // a frequency equal to the window valid after --epochs rescales both
            double window = endEpoch - startEpoch;
            if (window > 0 && updateFrequency > window * (1 + 1e-9))
                throw new RecipeException("updateFrequency = " + num(updateFrequency) + " is longer than the pruning window (startEpoch " + num(startEpoch)
                        + " to endEpoch " + num(endEpoch) + ", " + num(window) + " epochs), so the sparsity would jump to finalSparsity at endEpoch"
                        + " in one step; give at most " + num(window) + " (e.g. " + num(window / 10) + "), or use type: constant for one-shot pruning");
            if (curve == null) throw new RecipeException("schedule is missing; allowed: cubic, linear");
            if (scope == null) throw new RecipeException("scope is missing; allowed: layer, global");
            if (params == null) params = ParamSelection.ALL_PRUNABLE;
            requireStructureFits(structure, "finalSparsity", finalSparsity, scope);
        }

        @Override public double finalSparsityEpoch() { return endEpoch; }

        @Override public SparsitySchedule schedule(int stepsPerEpoch) {
            long start = stepOf(startEpoch, stepsPerEpoch);
            long end = Math.max(start, stepOf(endEpoch, stepsPerEpoch));
            long every = Math.max(1, Math.round(updateFrequency * stepsPerEpoch));
            return new SparsitySchedule(initSparsity, finalSparsity, start, end, every, curve);
        }

        @Override public String describe() {
            UnitWords units = UnitWords.of(structure);
            if (units != null)
                return "gradual " + units.kind() + " pruning (whole " + units.what() + ", " + units.order() + " first), " + ramp(" of each layer's " + units.plural());
            if (structure instanceof NmStructure structure)
                return String.format(java.util.Locale.ROOT,
                        "gradual %s magnitude pruning (per group of %d inputs / input channels), %s: target %.1f%% at epoch %s rising to %.1f%% at epoch %s,"
                                + " each group keeping ceil((1 - target) * %d) >= %d weights (%d of %d at the start), updated %s;"
                                + " final sparsity reached at epoch %s (%s, %.1f%%)%s",
                        structure, structure.m(), curve.recipeName(), 100 * initSparsity, shortNum(startEpoch), 100 * finalSparsity, shortNum(endEpoch),
                        structure.m(), structure.n(), structure.keepPerGroup(initSparsity), structure.m(), every(updateFrequency),
                        shortNum(endEpoch), structure, 100 * finalSparsity, leaveEnabled ? "" : " (masks dropped there)");
            return "gradual magnitude pruning, " + scope.recipeName() + " scope, " + ramp("");
        }

        /** The schedule part of {@link #describe}: curve, the ramp from initSparsity to finalSparsity ({@code unit} says of what), updates. */
        private String ramp(String unit) {
            return String.format(java.util.Locale.ROOT,
                    "%s: %.1f%%%s at epoch %s rising to %.1f%% at epoch %s, updated %s; final sparsity reached at epoch %s%s",
                    curve.recipeName(), 100 * initSparsity, unit, shortNum(startEpoch), 100 * finalSparsity, shortNum(endEpoch),
                    every(updateFrequency), shortNum(endEpoch), leaveEnabled ? "" : " (masks dropped there)");
        }
    }

    /**
     * One-shot pruning to a constant {@code sparsity} at {@code startEpoch}, then the masks are held
     * (to {@code endEpoch}, or for good with {@code leaveEnabled}).
     */
    record ConstantSparsity(double sparsity, double startEpoch, double endEpoch, Scope scope, ParamSelection params,
                            boolean leaveEnabled, Structure structure) implements PruningModifier {

        /** Unstructured one-shot pruning. */
        public ConstantSparsity(double sparsity, double startEpoch, double endEpoch, Scope scope, ParamSelection params, boolean leaveEnabled) {
            this(sparsity, startEpoch, endEpoch, scope, params, leaveEnabled, null);
        }

        public ConstantSparsity {
            requireSparsity("sparsity", sparsity);
            if (!(startEpoch >= 0) || Double.isInfinite(startEpoch)) throw new RecipeException("startEpoch = " + startEpoch + " must be finite and >= 0");
            if (!(endEpoch >= startEpoch) || Double.isInfinite(endEpoch))
                throw new RecipeException("endEpoch = " + endEpoch + " is before startEpoch = " + startEpoch + "; endEpoch must be >= startEpoch");
            if (scope == null) throw new RecipeException("scope is missing; allowed: layer, global");
            if (params == null) params = ParamSelection.ALL_PRUNABLE;
            requireStructureFits(structure, "sparsity", sparsity, scope);
        }

        @Override public double finalSparsity() { return sparsity; }

        @Override public double finalSparsityEpoch() { return startEpoch; }

        @Override public SparsitySchedule schedule(int stepsPerEpoch) {
            long start = stepOf(startEpoch, stepsPerEpoch);
            return new SparsitySchedule(sparsity, sparsity, start, start, 1, SparsityCurve.LINEAR);
        }

        @Override public String describe() {
            UnitWords units = UnitWords.of(structure);
            if (units != null)
                return String.format(java.util.Locale.ROOT, "one-shot %s pruning (%.1f%% of each layer's %s, %s first) at epoch %s (final sparsity reached there)%s",
                        units.kind(), 100 * sparsity, units.brief(), units.order(), shortNum(startEpoch), leaveEnabled ? "" : ", masks dropped at epoch " + shortNum(endEpoch));
            if (structure instanceof NmStructure structure)
                return String.format(java.util.Locale.ROOT, "one-shot %s magnitude pruning (%.1f%%, per group of %d inputs / input channels) at epoch %s (final sparsity reached there)%s",
                        structure, 100 * sparsity, structure.m(), shortNum(startEpoch), leaveEnabled ? "" : ", masks dropped at epoch " + shortNum(endEpoch));
            return String.format(java.util.Locale.ROOT, "constant sparsity %.1f%%, %s scope, from epoch %s (final sparsity reached there)%s",
                    100 * sparsity, scope.recipeName(), shortNum(startEpoch), leaveEnabled ? "" : ", masks dropped at epoch " + shortNum(endEpoch));
        }
    }

    /** How far a sparsity written beside a structure may be from 1 - N/M (so 0.6666666667 matches 1:3). */
    double STRUCTURE_TOLERANCE = 1e-9;

    /**
     * With channels or blocks scope must be layer. With an N:M structure, the final sparsity is 1 - N/M and scope must be layer (each group is
     * pruned on its own: there is no threshold to share between layers).
     */
    private static void requireStructureFits(Structure s, String field, double value, Scope scope) {
        String whyLayer = switch (s) {
            case null -> null;
            case BlockStructure b -> "block pruning removes " + field + " of each layer's blocks, so every layer's Blocked-ELL product gets the same block sparsity"
                    + " (a global threshold would leave some layers nearly dense, where Blocked-ELL loses)";
            case ChannelStructure c -> "channel pruning removes " + field + " of each layer's output channels by their L1 norms, and norms of layers with different fan-in"
                    + " do not compare";
            case NmStructure structure -> {
                if (Math.abs(value - structure.sparsity()) > STRUCTURE_TOLERANCE)
                    throw new RecipeException(field + " = " + value + " conflicts with structure = '" + structure + "', which means sparsity 1 - "
                            + structure.n() + "/" + structure.m() + " = " + structure.sparsity() + "; leave " + field + " out (it follows from the structure) or set it to "
                            + structure.sparsity());
                yield "N:M pruning keeps the " + structure.n() + " largest weights of every group of " + structure.m() + ", so each layer ends at exactly "
                        + structure.sparsity() + " and no threshold is shared";
            }
        };
        if (whyLayer != null && scope == Scope.GLOBAL)
            throw new RecipeException("scope = global cannot be combined with structure = '" + s + "': " + whyLayer + "; use scope: layer (the default)");
    }

    private static void requireSparsity(String field, double v) {
        if (!(v >= 0 && v < 1)) throw new RecipeException(field + " = " + v + " is outside [0, 1); give a fraction such as 0.9 for 90%");
    }

    /** 35.0 -> "35", 0.5 -> "0.5". Exact: for error messages, where the value given must be recognisable. */
    static String num(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
    }

    /** For descriptions: "every epoch", "every 0.5 epochs" (it said "every 1 epoch(s)"). */
    static String every(double epochs) {
        return epochs == 1 ? "every epoch" : "every " + shortNum(epochs) + " epochs";
    }

    /**
     * For descriptions: at most 4 significant digits, 35.0 -> "35", 0.025 -> "0.025",
     * 1.1666666666666665 -> "1.167". A recipe stretched with {@code --epochs} has epochs such as
     * 7 * 2 / 12, which {@link #num} prints with 17 digits.
     */
    static String shortNum(double v) {
        if (!Double.isFinite(v)) return Double.toString(v);
        if (v == Math.rint(v) && Math.abs(v) < 1e15) return Long.toString((long) v);
        return new java.math.BigDecimal(v).round(new java.math.MathContext(4)).stripTrailingZeros().toPlainString();
    }
}
