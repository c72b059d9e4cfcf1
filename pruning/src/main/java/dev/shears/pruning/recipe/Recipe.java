package dev.shears.pruning.recipe;

import dev.shears.core.optim.LearningRateSchedule;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.OptionalDouble;

/**
 * A validated training-and-pruning recipe. Build one from YAML with {@link RecipeParser} or by
 * name with {@link Recipes}; write it back with {@link RecipeWriter}.
 *
 * @param name         short name for logs and reports
 * @param description  free text, may be empty
 * @param epochs       total training epochs (>= 1)
 * @param batchSize    mini-batch size (>= 1)
 * @param optimizer    the optimizer and its settings
 * @param learningRate learning-rate modifiers, ordered and not overlapping; between and after
 *                     them the last value is held
 * @param pruning      pruning modifiers (may be empty: dense training); each parameter is owned
 *                     by at most one of them (checked against the model when the run starts)
 * @param distillation knowledge distillation from a frozen teacher, or null to train on the labels alone
 * @param augmentation random flips and crops of the training images, or null to train on them as they are
 */
public record Recipe(String name, String description, int epochs, int batchSize, OptimizerSpec optimizer,
                     List<LearningRateModifier> learningRate, List<PruningModifier> pruning, Distillation distillation,
                     Augmentation augmentation) {

    /** A recipe without distillation. */
    public Recipe(String name, String description, int epochs, int batchSize, OptimizerSpec optimizer,
                  List<LearningRateModifier> learningRate, List<PruningModifier> pruning) {
        this(name, description, epochs, batchSize, optimizer, learningRate, pruning, null, null);
    }

    /** A recipe without augmentation. */
    public Recipe(String name, String description, int epochs, int batchSize, OptimizerSpec optimizer,
                  List<LearningRateModifier> learningRate, List<PruningModifier> pruning, Distillation distillation) {
        this(name, description, epochs, batchSize, optimizer, learningRate, pruning, distillation, null);
    }

    public Recipe {
        if (name == null || name.isBlank()) throw new RecipeException("name is missing");
        if (description == null) description = "";
        if (epochs < 1) throw new RecipeException("epochs = " + epochs + " must be >= 1");
        if (batchSize < 1) throw new RecipeException("batchSize = " + batchSize + " must be >= 1");
        if (optimizer == null) throw new RecipeException("optimizer is missing");
        learningRate = List.copyOf(learningRate);
        pruning = List.copyOf(pruning);
        if (learningRate.isEmpty()) throw new RecipeException("learningRate is empty; give at least one schedule, e.g. {type: constant, lr: 0.01}");
        for (int i = 0; i < learningRate.size(); i++) {
            LearningRateModifier m = learningRate.get(i);
            if (m.endEpoch() > epochs)
                throw new RecipeException("learningRate[" + i + "].endEpoch = " + PruningModifier.num(m.endEpoch()) + " is after the last epoch (epochs = " + epochs + ")");
            if (i > 0 && m.startEpoch() < learningRate.get(i - 1).endEpoch())
                throw new RecipeException("learningRate[" + i + "].startEpoch = " + PruningModifier.num(m.startEpoch())
                        + " is before learningRate[" + (i - 1) + "].endEpoch = " + PruningModifier.num(learningRate.get(i - 1).endEpoch())
                        + "; learning-rate modifiers must be in order and must not overlap");
        }
        for (int i = 0; i < pruning.size(); i++) {
            PruningModifier m = pruning.get(i);
            if (m.endEpoch() > epochs)
                throw new RecipeException("pruning[" + i + "].endEpoch = " + PruningModifier.num(m.endEpoch()) + " is after the last epoch (epochs = " + epochs + ")");
            if (m.startEpoch() >= epochs)
                throw new RecipeException("pruning[" + i + "].startEpoch = " + PruningModifier.num(m.startEpoch()) + " is not before the end of training (epochs = " + epochs + ")");
        }
    }

    /** The learning rate as a pure function of the (fractional) epoch of the run. */
    public LearningRateSchedule learningRateSchedule() {
        return new LearningRateSchedule.Piecewise(learningRate.stream().map(LearningRateModifier::segment).toList());
    }

    /** The epoch at which the last pruning modifier reaches its final sparsity; empty for dense training. */
    public OptionalDouble finalSparsityEpoch() {
        return pruning.stream().mapToDouble(PruningModifier::finalSparsityEpoch).max();
    }

    /** The step at which the final sparsity is reached, for {@code stepsPerEpoch} mini-batches an epoch; -1 for dense training. */
    public long finalSparsityStep(int stepsPerEpoch) {
        long s = -1;
        for (PruningModifier m : pruning) s = Math.max(s, m.schedule(stepsPerEpoch).endStep());
        return s;
    }

    /** The highest final sparsity of the pruning modifiers (0 for dense training). */
    public double finalSparsity() {
        return pruning.stream().mapToDouble(PruningModifier::finalSparsity).max().orElse(0);
    }

    /** Mini-batches an epoch for a training set of {@code samples}: the last partial batch counts. */
    public int stepsPerEpoch(int samples) {
        if (samples < 1) throw new IllegalArgumentException("the training set is empty");
        return (samples + batchSize - 1) / batchSize;
    }

    /** Several lines for logs and reports: the schedule and exactly when the final sparsity is reached. */
    public String describe() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "recipe %s: %d %s, batch %d", name, epochs, epochs == 1 ? "epoch" : "epochs", batchSize));
        StringBuilder rates = new StringBuilder();
        for (LearningRateModifier m : learningRate) rates.append(rates.isEmpty() ? "" : ", ").append(m.describe());
        sb.append("\n  learning rate ").append(PruningModifier.shortNum(startLearningRate())).append(" at the start: ").append(rates);
        for (PruningModifier m : pruning) sb.append("\n  ").append(m.describe());
        if (pruning.isEmpty()) sb.append("\n  dense training (no pruning)");
        if (distillation != null) sb.append("\n  ").append(distillation.describe());
        if (augmentation != null) sb.append("\n  ").append(augmentation.describe());
        return sb.toString();
    }

    /** This recipe with {@code d} as its distillation (null: none). */
    public Recipe withDistillation(Distillation d) {
        return new Recipe(name, description, epochs, batchSize, optimizer, learningRate, pruning, d, augmentation);
    }

    /** This recipe with {@code a} as its augmentation (null: none). */
    public Recipe withAugmentation(Augmentation a) {
        return new Recipe(name, description, epochs, batchSize, optimizer, learningRate, pruning, distillation, a);
    }

    /**
     * This recipe with every gradual or constant target replaced by {@code finalSparsity} (init
     * sparsity capped to it).
     *
     * @throws RecipeException when a modifier has an N:M structure whose sparsity 1 - N/M differs
     */
    public Recipe withFinalSparsity(double finalSparsity) {
        List<PruningModifier> out = new ArrayList<>();
        for (PruningModifier m : pruning) {
            out.add(switch (m) {
                case PruningModifier.GradualMagnitude g -> new PruningModifier.GradualMagnitude(
                        Math.min(g.initSparsity(), finalSparsity), finalSparsity, g.startEpoch(), g.endEpoch(),
                        g.updateFrequency(), g.curve(), g.scope(), g.params(), g.leaveEnabled(), g.structure());
                case PruningModifier.ConstantSparsity c -> new PruningModifier.ConstantSparsity(
                        finalSparsity, c.startEpoch(), c.endEpoch(), c.scope(), c.params(), c.leaveEnabled(), c.structure());
            });
        }
        return new Recipe(name, description, epochs, batchSize, optimizer, learningRate, out, distillation, augmentation);
    }

    /**
     * This recipe with every pruning modifier made to follow {@code structure}, scope layer (every
     * structure prunes each layer on its own). For N:M the final sparsity becomes 1 - N/M (init
     * sparsity capped to it); for channels and blocks each modifier keeps its sparsities.
     *
     * @throws RecipeException when the recipe has no pruning modifier
     */
    public Recipe withStructure(Structure structure) {
        if (pruning.isEmpty())
            throw new RecipeException("recipe " + name + " has no pruning modifier to give the structure " + structure + " to");
        List<PruningModifier> out = new ArrayList<>();
        for (PruningModifier m : pruning) {
            double s = structure instanceof NmStructure nm ? nm.sparsity() : m.finalSparsity();
            out.add(switch (m) {
                case PruningModifier.GradualMagnitude g -> new PruningModifier.GradualMagnitude(
                        Math.min(g.initSparsity(), s), s, g.startEpoch(), g.endEpoch(),
                        g.updateFrequency(), g.curve(), Scope.LAYER, g.params(), g.leaveEnabled(), structure);
                case PruningModifier.ConstantSparsity c -> new PruningModifier.ConstantSparsity(
                        s, c.startEpoch(), c.endEpoch(), Scope.LAYER, c.params(), c.leaveEnabled(), structure);
            });
        }
        return new Recipe(name, description, epochs, batchSize, optimizer, learningRate, out, distillation, augmentation);
    }

    /** The learning rate of the run's first step (epoch 0 of {@link #learningRateSchedule()}). */
    public double startLearningRate() { return learningRateSchedule().at(0); }

    /**
     * This recipe with its learning-rate schedule scaled so that the rate at the start of training
     * is {@code lr}: every rate value of every {@code learningRate} item (constant {@code lr},
     * linear {@code start} and {@code end}, step/multistep/exponential {@code initial}, cosine
     * {@code initial} and {@code minimum}) is multiplied by lr / {@link #startLearningRate()}, so
     * the schedule keeps its shape (epochs, milestones, gammas and ratios between rates are
     * unchanged). A rate equal to the start rate becomes exactly {@code lr}; the others are
     * rounded to 12 significant digits, so that the recipe written back as YAML stays readable
     * (0.0005 * 0.1 is 5e-5, not 5.000000000000001e-5).
     *
     * @throws RecipeException when {@code lr} is not a finite number > 0, or the recipe starts at
     *         rate 0 (a warm-up from 0 has no start rate to scale)
     */
    public Recipe withStartLearningRate(double lr) {
        if (!(lr > 0) || Double.isInfinite(lr))
            throw new RecipeException("learning rate " + lr + " must be a finite number > 0");
        double start = startLearningRate();
        if (!(start > 0))
            throw new RecipeException("recipe " + name + " starts at learning rate " + PruningModifier.num(start)
                    + " (a warm-up from 0?), so there is no start rate to scale to " + PruningModifier.num(lr) + "; write a recipe with the rates you want");
        if (lr == start) return this;
        List<LearningRateModifier> out = new ArrayList<>();
        for (LearningRateModifier m : learningRate)
            out.add(new LearningRateModifier(m.startEpoch(), m.endEpoch(), scaleRates(m.schedule(), start, lr)));
        return new Recipe(name, description, epochs, batchSize, optimizer, out, pruning, distillation, augmentation);
    }

    /** {@code s} with every rate value v replaced by v / from * to (exactly {@code to} where v == from). */
    private static LearningRateSchedule scaleRates(LearningRateSchedule s, double from, double to) {
        java.util.function.DoubleUnaryOperator r = v -> {
            if (v == from) return to;
            double scaled = v / from * to;
            // a rate far above the start one (1 beside a start of 1e-308) scales past double range
            if (!Double.isFinite(scaled))
                throw new RecipeException("learning rate " + PruningModifier.num(v) + " scaled by " + PruningModifier.num(to) + " / "
                        + PruningModifier.num(from) + " (to start at " + PruningModifier.num(to) + ") is out of range; write a recipe with the rates you want");
            return new java.math.BigDecimal(scaled).round(new java.math.MathContext(12)).doubleValue();
        };
        return switch (s) {
            case LearningRateSchedule.Constant c -> new LearningRateSchedule.Constant(r.applyAsDouble(c.lr()));
            case LearningRateSchedule.StepDecay d -> new LearningRateSchedule.StepDecay(r.applyAsDouble(d.initial()), d.stepEpochs(), d.gamma());
            case LearningRateSchedule.MultiStep d -> new LearningRateSchedule.MultiStep(r.applyAsDouble(d.initial()), d.milestones(), d.gamma());
            case LearningRateSchedule.Exponential e -> new LearningRateSchedule.Exponential(r.applyAsDouble(e.initial()), e.gamma());
            case LearningRateSchedule.Cosine c -> new LearningRateSchedule.Cosine(r.applyAsDouble(c.initial()), r.applyAsDouble(c.minimum()), c.epochs());
            case LearningRateSchedule.Linear l -> new LearningRateSchedule.Linear(r.applyAsDouble(l.start()), r.applyAsDouble(l.end()), l.epochs());
            case LearningRateSchedule.Piecewise p -> new LearningRateSchedule.Piecewise(p.segments().stream()
                    .map(g -> new LearningRateSchedule.Segment(g.startEpoch(), g.endEpoch(), scaleRates(g.schedule(), from, to))).toList());
        };
    }

    /**
     * This recipe stretched or squeezed to {@code newEpochs}: every epoch position (modifier
     * starts and ends, update frequencies, step sizes, milestones) is scaled by newEpochs / epochs.
     */
    public Recipe withEpochs(int newEpochs) {
        if (newEpochs < 1) throw new RecipeException("epochs = " + newEpochs + " must be >= 1");
        if (newEpochs == epochs) return this;
        double f = (double) newEpochs / epochs;
        List<LearningRateModifier> lr = new ArrayList<>();
        for (LearningRateModifier m : learningRate)
            lr.add(new LearningRateModifier(m.startEpoch() * f, m.endEpoch() * f, scale(m.schedule(), f)));
        List<PruningModifier> pr = new ArrayList<>();
        for (PruningModifier m : pruning) {
            pr.add(switch (m) {
                case PruningModifier.GradualMagnitude g -> new PruningModifier.GradualMagnitude(
                        g.initSparsity(), g.finalSparsity(), g.startEpoch() * f, g.endEpoch() * f,
                        g.updateFrequency() * f, g.curve(), g.scope(), g.params(), g.leaveEnabled(), g.structure());
                case PruningModifier.ConstantSparsity c -> new PruningModifier.ConstantSparsity(
                        c.sparsity(), c.startEpoch() * f, c.endEpoch() * f, c.scope(), c.params(), c.leaveEnabled(), c.structure());
            });
        }
        return new Recipe(name, description, newEpochs, batchSize, optimizer, lr, pr, distillation, augmentation);
    }

    private static LearningRateSchedule scale(LearningRateSchedule s, double f) {
        return switch (s) {
            case LearningRateSchedule.Constant c -> c;
            case LearningRateSchedule.StepDecay d -> new LearningRateSchedule.StepDecay(d.initial(), d.stepEpochs() * f, d.gamma());
            case LearningRateSchedule.MultiStep d -> new LearningRateSchedule.MultiStep(d.initial(),
                    d.milestones().stream().map(x -> x * f).toList(), d.gamma());
            case LearningRateSchedule.Exponential e -> new LearningRateSchedule.Exponential(e.initial(), Math.pow(e.gamma(), 1 / f));
            case LearningRateSchedule.Cosine c -> new LearningRateSchedule.Cosine(c.initial(), c.minimum(), c.epochs() * f);
            case LearningRateSchedule.Linear l -> new LearningRateSchedule.Linear(l.start(), l.end(), l.epochs() * f);
            case LearningRateSchedule.Piecewise p -> new LearningRateSchedule.Piecewise(p.segments().stream()
                    .map(g -> new LearningRateSchedule.Segment(g.startEpoch() * f, g.endEpoch() * f, scale(g.schedule(), f))).toList());
        };
    }
}
