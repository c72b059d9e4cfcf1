package dev.shears.pruning.sensitivity;

import dev.shears.pruning.recipe.NmStructure;
import dev.shears.pruning.recipe.Structure;
import dev.shears.pruning.recipe.ParamSelection;
import dev.shears.pruning.recipe.PruningModifier;
import dev.shears.pruning.recipe.Recipe;
import dev.shears.pruning.recipe.RecipeException;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Per-layer final sparsities read off a {@link SensitivityResult} for an accuracy budget: for each
 * layer, the highest measured sparsity up to which every measured drop stays within
 * {@code maxDropPoints} percentage points of the baseline. Every lower sparsity must pass too,
 * because a one-shot measurement is noisy: a layer that loses 2 points at 90% and 0.8 at 95% is
 * not trusted at 95% (that would be noise, not tolerance). A layer that fails even its lowest
 * measured sparsity gets 0 (keep it dense), and so does a layer that an N:M pattern leaves as it
 * was (fewer inputs than M: {@link dev.shears.pruning.NmLayout}). Unstructured, a layer is never
 * suggested below the sparsity it already has: that costs nothing, being the baseline.
 *
 * <p>This is a starting point, not a guarantee: the drops were measured with one layer pruned at a
 * time, one-shot, without fine-tuning; {@link SensitivityResult#CAVEAT}.
 *
 * @param maxDropPoints the budget in accuracy percentage points per layer
 * @param structure     the analysis plan's structure, which {@link #toRecipe} writes on every modifier (null: unstructured)
 * @param layers        one per analysed layer, in the result's order
 * @param prunedTogether the layers measured together ({@link SensitivityResult#prunedTogether}), which {@link #toRecipe} keeps in one modifier
 */
public record SparsitySuggestion(double maxDropPoints, Structure structure, List<Layer> layers, List<List<String>> prunedTogether) {
    public SparsitySuggestion {
        layers = List.copyOf(layers);
        prunedTogether = prunedTogether.stream().map(List::copyOf).toList();
    }

    /** A suggestion where every layer was measured alone. */
    public SparsitySuggestion(double maxDropPoints, Structure structure, List<Layer> layers) {
        this(maxDropPoints, structure, layers, List.of());
    }


    /**
     * @param name     the parameter
     * @param sparsity the suggested final sparsity; 0 when no measured sparsity stayed within the budget
     * @param drop     the drop measured at {@code sparsity}, in points (0 when it is 0)
     */
    public record Layer(String name, double sparsity, double drop) {
        public boolean pruned() { return sparsity > 0; }
    }


    /** Tolerance on the budget comparison, so that a drop printed as exactly the budget passes. */
    private static final double EPS = 1e-9;

    /** The suggestion for {@code result} within {@code maxDropPoints} (>= 0) points a layer. */
    public static SparsitySuggestion of(SensitivityResult result, double maxDropPoints) {
        if (!(maxDropPoints >= 0) || Double.isInfinite(maxDropPoints))
            throw new IllegalArgumentException("the accuracy budget " + maxDropPoints + " must be a finite number of points >= 0, e.g. 1.0");
        List<Layer> out = new ArrayList<>();
        for (LayerSensitivity l : result.layers()) {
            double best = 0, drop = 0;
            for (SensitivityPoint p : l.points()) { // ascending targets (SensitivityPlan sorts them)
                // an N:M pattern that pruned nothing (a kernel with fewer inputs than M) is no reason to name the layer
                if (result.plan().structure() instanceof NmStructure && p.sparsity() <= l.originalSparsity()) break;
                double d = p.dropPoints(result.baselineAccuracy());
                if (d > maxDropPoints + EPS) break;
                best = p.target();
                drop = d;
            }
            // unstructured, the layer as it came costs nothing (it is in the baseline): a layer already
            // sparser than the suggestion (94% when 95% failed) is suggested at its own sparsity, not at
            // a lower target that would change nothing (masks only gain zeros)
            if (result.plan().structure() == null && l.originalSparsity() > best) {
                best = l.originalSparsity();
                drop = 0;
            }
            out.add(new Layer(l.name(), best, drop));
        }
        return new SparsitySuggestion(maxDropPoints, result.plan().structure(), out, result.prunedTogether());
    }

    /** Whether any layer is to be pruned. */
    public boolean prunesAnything() { return layers.stream().anyMatch(Layer::pruned); }

    /**
     * {@code template} with its pruning replaced by one gradual magnitude modifier per pruned layer
     * (per set of {@link #prunedTogether}: its members share one measurement, hence one suggestion),
     * each selecting only that layer (set) and ending at the layer's suggested sparsity (layer scope; for
     * N:M, channels or blocks with the structure); the schedule (start, end, update frequency, curve, leaveEnabled) and
     * init sparsity (capped to the layer's final) come from the template's first gradual modifier.
     *
     * @param template a recipe with at least one {@code type: gmp} modifier, e.g. the built-in gmp-seed
     * @param prunable the names of every prunable parameter of the model: a layer's name is written
     *                 as it is where, read as a regular expression, it selects that parameter only,
     *                 and quoted ({@link Pattern#quote}) otherwise
     * @throws RecipeException when the template has no gradual modifier, or no layer is to be pruned
     */
    public Recipe toRecipe(Recipe template, String name, List<String> prunable) {
        PruningModifier.GradualMagnitude g = template.pruning().stream()
                .filter(m -> m instanceof PruningModifier.GradualMagnitude).map(m -> (PruningModifier.GradualMagnitude) m)
                .findFirst().orElseThrow(() -> new RecipeException("recipe " + template.name() + " has no gradual (type: gmp) modifier to take the schedule from"));
        List<PruningModifier> mods = new ArrayList<>();
        java.util.Set<String> written = new java.util.HashSet<>();
        for (Layer l : layers) {
            if (!l.pruned() || written.contains(l.name())) continue;
            // a set measured together (one measurement, so one suggestion) is one modifier, as a channels recipe must select it whole
            List<String> names = prunedTogether.stream().filter(s -> s.contains(l.name())).findFirst().orElse(List.of(l.name()));
            written.addAll(names);
            ParamSelection only = new ParamSelection(names.stream().map(n -> pattern(n, prunable)).toList());
            mods.add(new PruningModifier.GradualMagnitude(Math.min(g.initSparsity(), l.sparsity()), l.sparsity(), g.startEpoch(), g.endEpoch(),
                    g.updateFrequency(), g.curve(), dev.shears.pruning.recipe.Scope.LAYER, only, g.leaveEnabled(), structure));
        }
        if (mods.isEmpty())
            throw new RecipeException("no layer stays within " + points(maxDropPoints) + " of accuracy at any measured sparsity, so a recipe would prune nothing;"
                    + " raise --max-drop or measure lower sparsities");
        String desc = String.format(Locale.ROOT, "Per-layer final sparsities from shears sensitivity (at most %s lost per layer, each layer measured alone;"
                + " drops do not add up when layers are pruned together), on %s's schedule", points(maxDropPoints), template.name());
        return new Recipe(name, desc, template.epochs(), template.batchSize(), template.optimizer(), template.learningRate(), mods, template.distillation(), template.augmentation());
    }

    /** A budget in words: "1 point", "0.5 points". */
    public static String points(double v) {
        String n = v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
        return n + (v == 1 ? " point" : " points");
    }

    /** {@code name} where, as a regular expression, it matches that parameter alone; else quoted. */
    static String pattern(String name, List<String> prunable) {
        try {
            Pattern p = Pattern.compile(name);
            boolean alone = true;
            for (String other : prunable) if (!other.equals(name) && p.matcher(other).matches()) alone = false;
            if (alone) return name;
        } catch (java.util.regex.PatternSyntaxException e) {
            // not a valid expression as written (e.g. "conv[1"): quoted below, as it must be
        }
        return Pattern.quote(name);
    }
}
