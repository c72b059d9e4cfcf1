package dev.shears.pruning;

import dev.shears.core.nn.Model;
import dev.shears.core.nn.Parameter;
import dev.shears.pruning.recipe.RecipeException;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * What channel pruning leaves out of a selection of kernels, and by which rule: the output layers'
 * ({@link OutputKernels}), the grouped convolutions' ({@link GroupedKernels}) and those whose
 * channels a squeeze-and-excitation gate multiplies ({@link GatedChannels}), applied in that order.
 * The one place GmpTrainer's {@code structure: channels} modifiers and the sensitivity analysis
 * take them from, so both leave out the same kernels for the same reasons.
 *
 * @param kept    the selection less what channel pruning leaves out, in its order
 * @param leftOut the rest, in the selection's order, each with the first rule that leaves it out
 */
public record ChannelLeftOut(List<Parameter> kept, Map<Parameter, Rule> leftOut) {

    /** Why channel pruning leaves a kernel out. */
    public enum Rule {
        /** {@link OutputKernels} */
        OUTPUT("the output layer's channels are the model's outputs"),
        /** {@link GroupedKernels} */
        GROUPED(GroupedKernels.REASON),
        /** {@link GatedChannels} */
        GATED(GatedChannels.REASON);

        /** For the log. */
        public final String reason;

        Rule(String reason) { this.reason = reason; }
    }

    /**
     * Splits {@code ps} into what channel pruning keeps and what it leaves out.
     *
     * @param where what selected {@code ps}, leading the error (e.g. {@code "recipe r: pruning[0] (structure: channels)"})
     * @throws RecipeException when a rule leaves nothing, naming the kernels and the rule (the first rule that does)
     */
    public static ChannelLeftOut of(Model model, List<Parameter> ps, String where) {
        List<Parameter> notOutput = OutputKernels.without(model, ps, where);
        List<Parameter> notGrouped = GroupedKernels.without(model, notOutput, where);
        List<Parameter> kept = GatedChannels.without(model, notGrouped, where);
        Map<Parameter, Rule> leftOut = new LinkedHashMap<>();
        for (Parameter p : ps)
            if (!kept.contains(p))
                leftOut.put(p, !notOutput.contains(p) ? Rule.OUTPUT : !notGrouped.contains(p) ? Rule.GROUPED : Rule.GATED);
        return new ChannelLeftOut(kept, leftOut);
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
}
