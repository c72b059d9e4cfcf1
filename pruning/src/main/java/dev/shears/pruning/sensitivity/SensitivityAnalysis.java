package dev.shears.pruning.sensitivity;

import dev.shears.core.backend.Backend;
import dev.shears.core.data.Dataset;
import dev.shears.core.nn.Evaluator;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.Parameter;
import dev.shears.pruning.ChannelLeftOut;
import dev.shears.pruning.ChannelGroup;
import dev.shears.pruning.GroupedKernels;
import dev.shears.pruning.MagnitudePruner;
import dev.shears.pruning.OutputKernels;
import dev.shears.pruning.WeightBackup;
import dev.shears.pruning.recipe.ChannelStructure;
import dev.shears.pruning.recipe.RecipeException;
import dev.shears.pruning.recipe.ParamSelection;
import dev.shears.pruning.recipe.Scope;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Per-layer sensitivity analysis (as SparseML's and Distiller's): how much test accuracy a model
 * loses when one prunable parameter alone is pruned by magnitude, one-shot, at each sparsity of a
 * {@link SensitivityPlan}, the rest of the model left as it is. Layers that lose little tolerate
 * high sparsity; the ones that lose much should be pruned less (see {@link SparsitySuggestion}).
 *
 * <p>The pruning is {@link MagnitudePruner}'s, the same one-shot threshold a recipe's masks use
 * (layer scope; {@link MagnitudePruner#updateNm} for N:M, {@link MagnitudePruner#updateChannels} for
 * whole output channels, {@link MagnitudePruner#updateBlocks} for R x C blocks), and the scoring is {@link Evaluator}'s,
 * so it runs on any backend. After each evaluation the parameter's weights and mask are put back
 * exactly ({@link WeightBackup}): the model leaves the analysis bit for bit as it came in, also
 * when an evaluation fails.
 *
 * <p>Channel pruning never removes the output layer's channels (they are the model's outputs;
 * {@link OutputKernels}, the rule a {@code channels} recipe follows in training): with that
 * structure the output layers' kernels are left out and listed in {@link SensitivityResult#leftOut}, and so are the
 * kernels of grouped (depthwise) convolutions, whose output channels are tied to their input channels
 * ({@link GroupedKernels}, which a {@code channels} recipe leaves out too), and the tied sets
 * ({@link ChannelGroup}) that thinning could never remove or that the selection holds only part of
 * ({@link ChannelLeftOut}, likewise).
 *
 * <p>With channel pruning, kernels whose channels an Add or a Multiply ties (residual connections,
 * squeeze-and-excitation gates) are pruned together, as a {@code channels} recipe prunes them
 * ({@link MagnitudePruner#updateChannelGroups}): the set is evaluated once per target, and every
 * member's entry carries the set's accuracy and loss (each with its own reached sparsity), so the
 * figures say what pruning that set to the target costs, not one member alone.
 *
 * <p>Cost: 1 + layers x targets evaluations of the test set; give a smaller test set
 * ({@link Dataset#head}) to make it fast.
 */
public final class SensitivityAnalysis {
    private final Model model;
    private final Dataset test;
    private final int batchSize;

    /**
     * @param model     a model bound to a backend (its weights are changed during the analysis and restored)
     * @param test      the samples every evaluation scores
     * @param batchSize evaluation batch size
     */
    public SensitivityAnalysis(Model model, Dataset test, int batchSize) {
        if (model.backend() == null) throw new IllegalArgumentException("the model is not bound to a backend");
        if (test.count() < 1) throw new IllegalArgumentException(test.name() + " has no samples to evaluate on");
        if (batchSize < 1) throw new IllegalArgumentException("batch size " + batchSize + " must be at least 1");
        this.model = model;
        this.test = test;
        this.batchSize = batchSize;
    }

    /**
     * Measures every parameter {@code selection} picks (the default: every Dense/Conv2D kernel)
     * at every target of {@code plan}; with channel pruning, less the output layers' kernels, the
     * grouped convolutions' and the tied sets channel pruning leaves out ({@link #measured}), listed in
     * {@link SensitivityResult#leftOut}, each tied set pruned together ({@link #prunedTogether}).
     *
     * @throws RecipeException naming a pattern that matches no prunable parameter, or, with channel
     *                         pruning, a selection of output kernels only
     */
    public SensitivityResult run(ParamSelection selection, SensitivityPlan plan, SensitivityListener listener) {
        List<Parameter> selected = selection.resolve(model);
        ChannelLeftOut split = channelSplit(selected, plan); // once: each call walks the graph
        List<Parameter> params = split == null ? selected : split.kept();
        Map<String, String> leftOut = split == null ? new LinkedHashMap<>() : reasons(selected, split);
        List<ChannelGroup> sets = split == null ? null : split.groups();
        List<List<Parameter>> units = unitsOf(params, sets);
        Backend be = model.backend();
        MagnitudePruner pruner = new MagnitudePruner(be);
        int total = 1 + units.size() * plan.sparsities().size();
        long t0 = System.nanoTime();
        Evaluator.Result base = Evaluator.evaluate(model, test, batchSize);
        int done = 1;
        listener.evaluated(done, total, null, Double.NaN, base);
        Map<Parameter, LayerSensitivity> byParam = new java.util.IdentityHashMap<>();
        for (int ui = 0; ui < units.size(); ui++) {
            List<Parameter> unit = units.get(ui);
            double[] original = new double[unit.size()];
            List<List<SensitivityPoint>> points = new ArrayList<>();
            for (int i = 0; i < unit.size(); i++) {
                original[i] = sparsityOf(be, unit.get(i));
                points.add(new ArrayList<>(plan.sparsities().size()));
            }
            for (double target : plan.sparsities()) {
                Evaluator.Result r;
                double[] reached = new double[unit.size()];
                List<WeightBackup> backups = new ArrayList<>(unit.size());
                try {
                    for (Parameter p : unit) backups.add(new WeightBackup(be, p));
                    try {
                        if (sets != null) pruner.updateChannelGroups(List.of(sets.get(ui)), target);
                        else pruner.update(unit, target, Scope.LAYER, plan.structure());
                        // the weights' zeros, not the mask's: a layer with zeros and no mask (an exported
                        // pruned model) gets a mask of the target's size, yet stays as sparse as it was
                        for (int i = 0; i < unit.size(); i++) {
                            reached[i] = sparsityOf(be, unit.get(i));
                            listener.pruned(unit.get(i), target);
                        }
                        r = Evaluator.evaluate(model, test, batchSize);
                    } finally {
                        for (WeightBackup b : backups) b.restore();
                    }
                } finally {
                    for (WeightBackup b : backups) b.close();
                }
                for (int i = 0; i < unit.size(); i++) points.get(i).add(new SensitivityPoint(target, reached[i], r.accuracy(), r.loss()));
                listener.evaluated(++done, total, unit.getFirst().name(), target, r);
            }
            for (int i = 0; i < unit.size(); i++) {
                Parameter p = unit.get(i);
                byParam.put(p, new LayerSensitivity(p.name(), p.shape().size(), original[i], points.get(i)));
            }
        }
        List<LayerSensitivity> layers = params.stream().map(byParam::get).toList();
        double secs = (System.nanoTime() - t0) / 1e9;
        List<List<String>> together = units.stream().filter(u -> u.size() > 1).map(u -> u.stream().map(Parameter::name).toList()).toList();
        return new SensitivityResult(plan, base.accuracy(), base.loss(), base.samples(), layers, secs, leftOut, together);
    }

    /**
     * The parameters {@link #run} measures: those {@code selection} picks, less, with channel
     * pruning, the output layers' kernels ({@link SensitivityResult#OUTPUT_LEFT_OUT}), the grouped
     * convolutions' ({@link SensitivityResult#GROUPED_LEFT_OUT}) and the kernels of the
     * tied sets channel pruning leaves out ({@link SensitivityResult#KEPT_LEFT_OUT}, {@link SensitivityResult#UNSELECTED_LEFT_OUT}).
     *
     * @throws RecipeException naming a pattern that matches no prunable parameter, or, with channel
     *                         pruning, a selection of output or grouped kernels only
     */
    public List<Parameter> measured(ParamSelection selection, SensitivityPlan plan) {
        return measured(selection.resolve(model), plan);
    }

    /**
     * Those of {@code selected} that {@code measured} lacks, in model order, each with why it is not measured
     * ({@link SensitivityResult#leftOutReasons}): what a caller of {@link #measured} prints before the run.
     */
    public Map<String, String> leftOut(List<Parameter> selected, List<Parameter> measured) {
        if (measured.size() == selected.size()) return new LinkedHashMap<>(); // nothing left out (and no channel rule to ask)
        return reasons(selected, ChannelLeftOut.of(model, selected, "channel pruning"));
    }

    /** Each of {@code selected} that {@code split} leaves out, in model order, with why it is not measured. */
    private static Map<String, String> reasons(List<Parameter> selected, ChannelLeftOut split) {
        Map<String, String> out = new LinkedHashMap<>();
        Map<Parameter, ChannelLeftOut.Rule> rules = split.leftOut();
        for (Parameter p : selected)
            if (rules.containsKey(p))
                out.put(p.name(), switch (rules.get(p)) {
                    case OUTPUT -> SensitivityResult.OUTPUT_LEFT_OUT;
                    case GROUPED -> SensitivityResult.GROUPED_LEFT_OUT;
                    case KEPT -> SensitivityResult.KEPT_LEFT_OUT;
                    case UNSELECTED -> SensitivityResult.UNSELECTED_LEFT_OUT;
                });
        return out;
    }

    /**
     * What {@link #run} prunes for each evaluation, in order: with channel pruning, each tied set
     * of the measured kernels ({@link ChannelLeftOut#groups}, one kernel alone when tied to none),
     * as a {@code channels} recipe prunes them; otherwise each measured parameter alone. The
     * analysis makes 1 + (this list's size) x targets evaluations.
     *
     * @param selected what the selection resolved to ({@link ParamSelection#resolve})
     */
    public List<List<Parameter>> prunedTogether(List<Parameter> selected, SensitivityPlan plan) {
        ChannelLeftOut split = channelSplit(selected, plan);
        return unitsOf(split == null ? selected : split.kept(), split == null ? null : split.groups());
    }

    /** Each tied set's members, or without sets ({@code null}: no channel pruning) each parameter alone. */
    private static List<List<Parameter>> unitsOf(List<Parameter> measured, List<ChannelGroup> sets) {
        return sets != null ? sets.stream().map(ChannelGroup::members).toList() : measured.stream().map(List::of).toList();
    }

    /** With channel pruning, what it keeps of {@code selected} and leaves out ({@link ChannelLeftOut}); null otherwise. */
    private ChannelLeftOut channelSplit(List<Parameter> selected, SensitivityPlan plan) {
        return plan.structure() instanceof ChannelStructure ? ChannelLeftOut.of(model, selected, "channel pruning") : null;
    }

    /** {@code ps}, the parameters a selection resolved to, less what channel pruning leaves out ({@link ChannelLeftOut}) with channel pruning. */
    private List<Parameter> measured(List<Parameter> ps, SensitivityPlan plan) {
        ChannelLeftOut split = channelSplit(ps, plan);
        return split == null ? ps : split.kept();
    }

    /** The fraction of exact zeros among the parameter's weights, with or without a mask (as {@code shears inspect} counts). */
    private static double sparsityOf(Backend be, Parameter p) {
        float[] w = be.download(p.value());
        long zeros = 0;
        for (float v : w) if (v == 0f) zeros++;
        return w.length == 0 ? 0 : (double) zeros / w.length;
    }
}
