package dev.shears.pruning.recipe;

import dev.shears.core.optim.LearningRateSchedule;

/**
 * One learning-rate schedule of a recipe, active from {@code startEpoch} (inclusive) to
 * {@code endEpoch} (exclusive); the schedule sees epochs counted from {@code startEpoch}.
 */
public record LearningRateModifier(double startEpoch, double endEpoch, LearningRateSchedule schedule) {
    public LearningRateModifier {
        if (!(startEpoch >= 0) || Double.isInfinite(startEpoch)) throw new RecipeException("startEpoch = " + startEpoch + " must be finite and >= 0");
        if (!(endEpoch > startEpoch)) throw new RecipeException("endEpoch = " + endEpoch + " must be after startEpoch = " + startEpoch);
        if (schedule == null) throw new RecipeException("the schedule is missing");
    }

    public LearningRateSchedule.Segment segment() { return new LearningRateSchedule.Segment(startEpoch, endEpoch, schedule); }
}
