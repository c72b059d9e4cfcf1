package dev.shears.pruning;

import dev.shears.core.nn.Model;
import dev.shears.core.nn.Parameter;
import dev.shears.pruning.recipe.RecipeException;
import dev.shears.pruning.thin.ChannelSets;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * What channel pruning leaves out of a selection of kernels, and by which rule, and how it prunes
 * the rest: the output layers' kernels ({@link OutputKernels}), the grouped convolutions'
 * ({@link GroupedKernels}), then per tied set ({@link ChannelGroup}, {@link ChannelSets}) the whole
 * set when thinning could never remove its channels (they reach the model output, a graph input or
 * a layer thinning does not see through, e.g. a grouped convolution that is not depthwise of
 * multiplier 1), or when the selection holds only some of its members; applied in that order. The
 * one place GmpTrainer's {@code structure: channels} modifiers and the sensitivity analysis take
 * them from, so both leave out the same kernels for the same reasons and prune the same sets.
 *
 * @param kept    the selection less what channel pruning leaves out, in its order
 * @param leftOut the rest, in the selection's order, each with the first rule that leaves it out
 * @param groups  the tied sets {@code kept} falls into (each member of each set is in {@code kept}),
 *                in the order of their first member: what {@link MagnitudePruner#updateChannelGroups} prunes
 * @param details per left-out kernel of a tied set ({@link Rule#KEPT}, {@link Rule#UNSELECTED}): the set and the cause, for the log
 */
public record ChannelLeftOut(List<Parameter> kept, Map<Parameter, Rule> leftOut, List<ChannelGroup> groups, Map<Parameter, String> details) {

    /** Why channel pruning leaves a kernel out. */
    public enum Rule {
        /** {@link OutputKernels} */
        OUTPUT("the output layer's channels are the model's outputs"),
        /** {@link GroupedKernels} */
        GROUPED(GroupedKernels.REASON),
        /** {@link ChannelGroup#keptReason} */
        KEPT("thinning could never remove their output channels: they reach the model output, a graph input or a layer thinning"
                + " does not see through, themselves or through an Add or Multiply that ties them to such channels"),
        /** a tied set the selection holds only part of */
        UNSELECTED("their output channels are tied by an Add or Multiply (a residual connection, a squeeze-and-excitation gate) to"
                + " kernels the selection does not hold, and a tied channel leaves the thinned model only when every kernel of the set"
                + " loses it; select the whole set");

        /** For the log. */
        public final String reason;

        Rule(String reason) { this.reason = reason; }
    }

    /**
     * Splits {@code ps} into what channel pruning keeps, grouped into tied sets, and what it leaves out.
     *
     * @param where what selected {@code ps}, leading the error (e.g. {@code "recipe r: pruning[0] (structure: channels)"})
     * @throws RecipeException when a rule leaves nothing, naming the kernels and the rule (the first rule that does)
     */
    public static ChannelLeftOut of(Model model, List<Parameter> ps, String where) {
        List<Parameter> notOutput = OutputKernels.without(model, ps, where);
        List<Parameter> notGrouped = GroupedKernels.without(model, notOutput, where);
        Map<String, ChannelGroup> setOf = new HashMap<>();
        for (ChannelGroup g : ChannelSets.of(model)) for (String n : g.names()) setOf.put(n, g);
        Set<String> selected = new HashSet<>();
        for (Parameter p : notGrouped) selected.add(p.name());
        Map<Parameter, Rule> leftOut = new LinkedHashMap<>();
        Map<Parameter, String> details = new LinkedHashMap<>();
        List<Parameter> kept = new ArrayList<>();
        List<ChannelGroup> groups = new ArrayList<>();
        Set<ChannelGroup> seen = new HashSet<>();
        for (Parameter p : ps) {
            if (!notOutput.contains(p)) { leftOut.put(p, Rule.OUTPUT); continue; }
            if (!notGrouped.contains(p)) { leftOut.put(p, Rule.GROUPED); continue; }
            ChannelGroup g = setOf.get(p.name());
            if (g == null) { // not a Dense / Conv2D kernel: MagnitudePruner names it at the first update
                kept.add(p);
                groups.add(new ChannelGroup(List.of(p), new int[][]{new int[0]}, 0, null));
                continue;
            }
            String tied = g.tied() ? "tied with " + g.names() + ": " : "";
            List<String> missing = g.names().stream().filter(n -> !selected.contains(n)).toList();
            if (g.keptReason() != null) {
                leftOut.put(p, Rule.KEPT);
                details.put(p, tied + g.keptReason());
            } else if (!missing.isEmpty()) {
                leftOut.put(p, Rule.UNSELECTED);
                details.put(p, tied + missing + " not selected");
            } else {
                kept.add(p);
                if (seen.add(g)) groups.add(g);
            }
        }
        if (kept.isEmpty()) {
            Map.Entry<Parameter, String> first = details.entrySet().iterator().next();
            throw new RecipeException(where + " selects only kernels " + notGrouped.stream().map(Parameter::name).toList()
                    + " that channel pruning leaves out (" + leftOut.get(first.getKey()).reason + "; " + first.getKey().name() + ": "
                    + first.getValue() + "); select other layers, or prune these unstructured");
        }
        return new ChannelLeftOut(List.copyOf(kept), leftOut, List.copyOf(groups), details);
    }

    /**
     * {@code ps} less the parameters named in {@code drop}, in order: the shared part of each rule's
     * {@code without}.
     *
     * @param message the error, given the names of {@code ps}
     * @throws RecipeException with {@code message} when nothing is left
     */
    static List<Parameter> less(List<Parameter> ps, Set<String> drop, Function<List<String>, String> message) {
        List<Parameter> kept = ps.stream().filter(p -> !drop.contains(p.name())).toList();
        if (kept.isEmpty()) throw new RecipeException(message.apply(ps.stream().map(Parameter::name).toList()));
        return kept;
    }

    /** The names of the kernels {@code rule} leaves out, in the selection's order. */
    public List<String> leftOutBy(Rule rule) {
        return leftOut.entrySet().stream().filter(e -> e.getValue() == rule).map(e -> e.getKey().name()).toList();
    }

    /** The log lines: one per rule that leaves something out, then one per tied set pruned together. */
    public List<String> describe() {
        List<String> out = new ArrayList<>();
        for (Rule rule : Rule.values()) {
            List<String> names = leftOutBy(rule);
            if (names.isEmpty()) continue;
            StringBuilder s = new StringBuilder("leaving out " + names + ": " + rule.reason);
            if (rule == Rule.KEPT || rule == Rule.UNSELECTED)
                leftOut.forEach((p, r) -> { if (r == rule) s.append("; ").append(p.name()).append(": ").append(details.get(p)); });
            out.add(s.toString());
        }
        for (ChannelGroup g : groups)
            if (g.tied())
                out.add("pruning " + g.names() + " together (" + g.units() + " channels tied by an Add or Multiply):"
                        + " every one loses the same channels, scored by their summed normalised L1 norms");
        return out;
    }
}
