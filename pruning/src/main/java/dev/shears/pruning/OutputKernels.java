package dev.shears.pruning;

import dev.shears.core.nn.Model;
import dev.shears.core.nn.Parameter;
import dev.shears.core.nn.layers.Conv2D;
import dev.shears.core.nn.layers.Dense;
import dev.shears.pruning.recipe.RecipeException;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The kernels of the layers that make a model's output: the Dense/Conv2D layers reached walking
 * back from the output node through layers without kernels (Softmax, activations, Flatten, Add,
 * ...). Their output channels are the model's outputs (the classes), so channel pruning never
 * touches them: the trainer leaves them out of a {@code structure: channels} modifier, and the
 * sensitivity analysis out of a channel measurement.
 */
public final class OutputKernels {
    private OutputKernels() {}

    /** The parameter names of the output layers' kernels, e.g. {@code fc3/kernel}. */
    public static Set<String> of(Model model) {
        Set<String> kernels = new HashSet<>();
        Deque<String> todo = new ArrayDeque<>(List.of(model.outputName()));
        Set<String> seen = new HashSet<>();
        Map<String, Model.Node> byName = new HashMap<>();
        for (Model.Node n : model.nodes()) byName.put(n.name(), n);
        while (!todo.isEmpty()) {
            Model.Node n = byName.get(todo.pop());
            if (n == null || !seen.add(n.name())) continue; // a graph input, or visited
            if (n.layer() instanceof Dense d) kernels.add(d.kernel().name());
            else if (n.layer() instanceof Conv2D c) kernels.add(c.kernel().name());
            else todo.addAll(n.inputs());
        }
        return kernels;
    }

    /**
     * {@code ps} less the output layers' kernels, for channel pruning.
     *
     * @param where what selected {@code ps}, leading the error (e.g. {@code "recipe r: pruning[0] (structure: channels)"})
     * @throws RecipeException when {@code ps} holds output kernels only, naming them
     */
    public static List<Parameter> without(Model model, List<Parameter> ps, String where) {
        return ChannelLeftOut.less(ps, of(model), names -> where + " selects only the output layer's kernel " + names
                + ", whose channels are the model's outputs and are never removed; select hidden layers");
    }
}
