package dev.shears.pruning.schedule;

/**
 * When and to what sparsity a gradual pruning modifier updates its masks, in training steps
 * (mini-batches since the run began): a pure function of the step.
 *
 * <p>Updates happen at {@code startStep + k*updateEvery} for every such step before
 * {@code endStep}, and at {@code endStep} itself, where the final sparsity is reached. At an
 * update step t the target is Zhu & Gupta's {@code s_t = s_f + (s_i - s_f)(1 - (t - t0)/(n dt))^3}
 * with {@code t0 = startStep} and {@code n dt = endStep - startStep} (when the window is not a
 * multiple of {@code updateEvery} the last interval is shorter; the final update is still at
 * {@code endStep}). Between updates the target is that of the latest update; before the first, 0.
 *
 * @param startStep   t0, the first update (>= 0)
 * @param endStep     the last update, where {@code finalSparsity} is reached (>= startStep)
 * @param updateEvery dt, steps between updates (>= 1)
 */
public record SparsitySchedule(double initSparsity, double finalSparsity, long startStep, long endStep,
                               long updateEvery, SparsityCurve curve) {

    public SparsitySchedule {
        if (!(initSparsity >= 0 && initSparsity < 1)) throw new IllegalArgumentException("initSparsity " + initSparsity + " outside [0, 1)");
        if (!(finalSparsity >= 0 && finalSparsity < 1)) throw new IllegalArgumentException("finalSparsity " + finalSparsity + " outside [0, 1)");
        if (finalSparsity < initSparsity) throw new IllegalArgumentException("finalSparsity " + finalSparsity + " is below initSparsity " + initSparsity);
        if (startStep < 0) throw new IllegalArgumentException("startStep " + startStep + " < 0");
        if (endStep < startStep) throw new IllegalArgumentException("endStep " + endStep + " is before startStep " + startStep);
        if (updateEvery < 1) throw new IllegalArgumentException("updateEvery " + updateEvery + " < 1 step");
        if (curve == null) throw new IllegalArgumentException("curve is missing");
    }

    /** Whether the masks are updated at step {@code t}. */
    public boolean isUpdateStep(long t) {
        if (t == endStep) return true;
        return t >= startStep && t < endStep && (t - startStep) % updateEvery == 0;
    }

    /** The latest update step at or before {@code t}, or -1 before the first. */
    public long lastUpdateAtOrBefore(long t) {
        if (t < startStep) return -1;
        if (t >= endStep) return endStep;
        return startStep + (t - startStep) / updateEvery * updateEvery;
    }

    /** The target the formula gives at an update step {@code t} (progress clamped to the window). */
    public double formula(long t) {
        double p = endStep == startStep ? 1 : (double) (t - startStep) / (endStep - startStep);
        return curve.at(initSparsity, finalSparsity, p);
    }

    /** The sparsity the masks are meant to have after the step-{@code t} update, if any: 0 before the first. */
    public double target(long t) {
        long u = lastUpdateAtOrBefore(t);
        return u < 0 ? 0 : formula(u);
    }

    /** Number of mask updates in the whole window. */
    public long updateCount() {
        long regular = endStep == startStep ? 0 : (endStep - startStep - 1) / updateEvery + 1;
        return regular + 1;
    }
}
