package dev.shears.pruning.recipe;

import dev.shears.core.nn.Model;
import dev.shears.core.nn.Parameter;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Which parameters a pruning modifier prunes: exact names or regular expressions (matched against
 * the whole name), or, when empty, every parameter that is prunable by default (the kernels of
 * Dense and Conv2D layers, never biases or normalisation parameters). Only prunable parameters
 * can be selected.
 */
public record ParamSelection(List<String> patterns) {

    /** Every kernel. */
    public static final ParamSelection ALL_PRUNABLE = new ParamSelection(List.of());

    public ParamSelection {
        patterns = List.copyOf(patterns);
        for (int i = 0; i < patterns.size(); i++) {
            String p = patterns.get(i);
            if (p == null || p.isBlank()) throw new RecipeException("params[" + i + "] is empty; give a parameter name or a regular expression");
            try {
                Pattern.compile(p);
            } catch (PatternSyntaxException e) {
                throw new RecipeException("params[" + i + "] = '" + p + "' is neither a parameter name nor a valid regular expression: " + e.getDescription());
            }
        }
    }

    public boolean isDefault() { return patterns.isEmpty(); }

    /**
     * The selected parameters of {@code model}, in model order.
     *
     * @throws RecipeException naming a pattern that matches no prunable parameter, with the list of prunable names
     */
    public List<Parameter> resolve(Model model) {
        List<Parameter> prunable = model.parameters().stream().filter(Parameter::prunableByDefault).toList();
        if (prunable.isEmpty())
            throw new RecipeException("the model has no prunable parameter (kernels of Dense or Conv2D layers) to prune");
        if (patterns.isEmpty()) return prunable;
        Set<Parameter> picked = new LinkedHashSet<>();
        for (String p : patterns) {
            Pattern regex = Pattern.compile(p);
            List<Parameter> hits = new ArrayList<>();
            for (Parameter q : prunable) if (q.name().equals(p) || regex.matcher(q.name()).matches()) hits.add(q);
            if (hits.isEmpty()) {
                String why = "";
                for (Parameter q : model.parameters())
                    if (q.name().equals(p)) why = " ('" + p + "' is a " + q.role() + " parameter; only kernels are pruned)";
                throw new RecipeException("params pattern '" + p + "' matches no prunable parameter of the model" + why
                        + "; prunable parameters: " + prunable.stream().map(Parameter::name).toList());
            }
            picked.addAll(hits);
        }
        List<Parameter> ordered = new ArrayList<>();
        for (Parameter q : prunable) if (picked.contains(q)) ordered.add(q);
        return ordered;
    }
}
