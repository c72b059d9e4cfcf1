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

    /** One phrase for logs and reports, e.g. {@code cosine 0.05 -> 0.0005 (from epoch 35 to 60)}. */
    public String describe() {
        String what = switch (schedule) {
            case LearningRateSchedule.Constant c -> "constant " + PruningModifier.shortNum(c.lr());
            case LearningRateSchedule.Linear l -> "linear " + PruningModifier.shortNum(l.start()) + " -> " + PruningModifier.shortNum(l.end());
            case LearningRateSchedule.StepDecay d -> "step " + PruningModifier.shortNum(d.initial()) + " x" + PruningModifier.shortNum(d.gamma())
                    + " every " + PruningModifier.shortNum(d.stepEpochs()) + " epochs";
            case LearningRateSchedule.MultiStep d -> "multistep " + PruningModifier.shortNum(d.initial()) + " x" + PruningModifier.shortNum(d.gamma())
                    + " at " + d.milestones().stream().map(PruningModifier::shortNum).toList();
            case LearningRateSchedule.Exponential e -> "exponential " + PruningModifier.shortNum(e.initial()) + " x" + PruningModifier.shortNum(e.gamma()) + " an epoch";
            case LearningRateSchedule.Cosine c -> "cosine " + PruningModifier.shortNum(c.initial()) + " -> " + PruningModifier.shortNum(c.minimum());
            case LearningRateSchedule.Piecewise p -> "piecewise (" + p.segments().size() + " schedules)";
        };
        return what + " (from epoch " + PruningModifier.shortNum(startEpoch) + " to " + PruningModifier.shortNum(endEpoch) + ")";
    }

    public LearningRateSchedule.Segment segment() { return new LearningRateSchedule.Segment(startEpoch, endEpoch, schedule); }
}
