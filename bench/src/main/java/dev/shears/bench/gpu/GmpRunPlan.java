package dev.shears.bench.gpu;

import dev.shears.core.optim.LearningRateSchedule;
import dev.shears.pruning.recipe.OptimizerSpec;
import dev.shears.pruning.recipe.PruningModifier;
import dev.shears.pruning.recipe.Recipe;
import dev.shears.pruning.schedule.SparsitySchedule;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What a GMP run does at every step, as data, so that the PyTorch peer
 * ({@code bench/peers/train_torch.py}) runs exactly the recipe {@link dev.shears.pruning.train.GmpTrainer}
 * runs instead of a re-implementation of its schedules: the mask-update positions with their
 * cubic-schedule targets (position t means "before step t"; position {@code epochs * stepsPerEpoch}
 * is the end of the last epoch), the learning rate of every step, and the SGD settings.
 * Limited to what the peer mirrors: one pruning modifier over every prunable weight, SGD.
 *
 * @param prune   {position, target} pairs in order
 * @param lr      learning rate of step t at index t, [epochs * stepsPerEpoch]
 */
public record GmpRunPlan(int batch, int epochs, int stepsPerEpoch, int trainImages, double momentum, boolean nesterov,
                         double weightDecay, String scope, List<double[]> prune, double[] lr) {

    public static GmpRunPlan of(Recipe r, int trainImages) {
        if (r.pruning().size() != 1)
            throw new IllegalArgumentException("recipe " + r.name() + " has " + r.pruning().size()
                    + " pruning modifiers; the PyTorch peer mirrors recipes with exactly one (e.g. gmp-seed)");
        PruningModifier m = r.pruning().get(0);
        if (!m.params().isDefault())
            throw new IllegalArgumentException("recipe " + r.name() + " prunes selected parameters " + m.params().patterns()
                    + "; the PyTorch peer mirrors only the default (every Dense/Conv2D kernel)");
        if (!m.leaveEnabled())
            throw new IllegalArgumentException("recipe " + r.name() + " drops its masks at epoch " + m.endEpoch()
                    + " (leaveEnabled: false); the PyTorch peer mirrors recipes that keep them");
        if (!(r.optimizer() instanceof OptimizerSpec.SgdSpec sgd))
            throw new IllegalArgumentException("recipe " + r.name() + " uses " + r.optimizer() + "; the PyTorch peer mirrors SGD only");
        int spe = r.stepsPerEpoch(trainImages);
        long total = (long) r.epochs() * spe;
        SparsitySchedule s = m.schedule(spe);
        List<double[]> prune = new ArrayList<>();
        for (long t = 0; t <= total; t++) if (s.isUpdateStep(t)) prune.add(new double[] {t, s.formula(t)});
        LearningRateSchedule lr = r.learningRateSchedule();
        double[] rates = new double[Math.toIntExact(total)];
        for (int t = 0; t < rates.length; t++) rates[t] = lr.at((double) t / spe);
        return new GmpRunPlan(r.batchSize(), r.epochs(), spe, trainImages, sgd.momentum(), sgd.nesterov(), sgd.weightDecay(),
                m.scope().name().toLowerCase(Locale.ROOT), prune, rates);
    }

    /** As the plan file's JSON object. */
    public Map<String, Object> toMap() {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("batch", batch);
        o.put("epochs", epochs);
        o.put("stepsPerEpoch", stepsPerEpoch);
        o.put("trainImages", trainImages);
        o.put("momentum", momentum);
        o.put("nesterov", nesterov);
        o.put("weightDecay", weightDecay);
        o.put("scope", scope);
        o.put("prune", prune);
        o.put("lr", lr);
        return o;
    }
}
