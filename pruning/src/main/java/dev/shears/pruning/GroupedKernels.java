package dev.shears.pruning;

import dev.shears.core.nn.Model;
import dev.shears.core.nn.Parameter;
import dev.shears.core.nn.layers.Conv2D;
import dev.shears.pruning.recipe.RecipeException;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The kernels of grouped convolutions (groups > 1; MobileNet's depthwise convolutions have one
 * group per channel). Channel pruning leaves them out: an output channel of a depthwise
 * convolution is its input channel filtered, so it cannot leave the model on its own; thinning
 * removes it together with the input channel when the producer's channel goes (ChannelFlow sees
 * through depthwise convolutions), and masking its filter alone would only turn it into a
 * constant that thinning cannot remove.
 */
public final class GroupedKernels {
    private GroupedKernels() {}

    /** Why channel pruning leaves these kernels out (for the log). */
    public static final String REASON = "the output channels of a grouped (depthwise) convolution are tied to its input channels;"
            + " they leave the thinned model with the channels of the layer before it";

    /** The parameter names of the grouped convolutions' kernels, e.g. {@code dw/kernel}. */
    public static Set<String> of(Model model) {
        Set<String> kernels = new HashSet<>();
        for (Model.Node n : model.nodes())
            if (n.layer() instanceof Conv2D c && c.groups() > 1) kernels.add(c.kernel().name());
        return kernels;
    }

    /**
     * {@code ps} less the grouped convolutions' kernels, for channel pruning.
     *
     * @param where what selected {@code ps}, leading the error (e.g. {@code "recipe r: pruning[0] (structure: channels)"})
     * @throws RecipeException when {@code ps} holds grouped kernels only, naming them
     */
    public static List<Parameter> without(Model model, List<Parameter> ps, String where) {
        return ChannelLeftOut.less(ps, of(model), names -> where + " selects only kernels of grouped (depthwise) convolutions "
                + names + ", which channel pruning leaves out (" + REASON + "); select the convolutions before them");
    }
}
