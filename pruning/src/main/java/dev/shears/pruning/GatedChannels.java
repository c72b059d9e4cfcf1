package dev.shears.pruning;

import dev.shears.core.nn.Layer;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.Parameter;
import dev.shears.core.nn.layers.Add;
import dev.shears.core.nn.layers.Concat;
import dev.shears.core.nn.layers.Conv2D;
import dev.shears.core.nn.layers.Dense;
import dev.shears.core.nn.layers.Multiply;
import dev.shears.pruning.recipe.RecipeException;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The kernels whose output channels a squeeze-and-excitation gate multiplies: the producers (Dense,
 * ungrouped Conv2D) whose channels reach either input of a broadcasting {@link Multiply} (a
 * [C, H, W] map by a [C, 1, 1] gate) through layers that act channel by channel (activations,
 * BatchNorm, PReLU, Dropout, Identity, pooling, ZeroPad2D, a depthwise convolution) or through
 * Add, Multiply and Concat, which tie their inputs' channels. Typically the convolution before the
 * depthwise one (the map's channels) and the gate's expanding 1x1 convolution.
 *
 * <p>Channel pruning leaves them out: channel c of the map and channel c of the gate leave the
 * thinned model together or not at all (thinning joins them), and the gate's channel, computed
 * from the global average of every channel, is not a constant when only the map's filter is zero,
 * so zeroing one side's filters would remove nothing while costing accuracy. The gate's reducing
 * 1x1 convolution is not among them: its channels feed the expanding convolution only, and thin.
 */
public final class GatedChannels {
    private GatedChannels() {}

    /** Why channel pruning leaves these kernels out (for the log). */
    public static final String REASON = "their output channels are multiplied by a squeeze-and-excitation gate (a Multiply of a"
            + " [C, H, W] map by a [C, 1, 1] gate), which ties each map channel to its gate channel: thinning removes neither alone";

    /** The parameter names of those kernels, e.g. {@code expand/kernel} and {@code se_expand/kernel}. */
    public static Set<String> of(Model model) {
        List<Integer> parent = new ArrayList<>();
        Map<String, Integer> group = new HashMap<>();   // tensor -> its channels' group
        Map<Integer, String> kernelOf = new HashMap<>(); // group -> the kernel of the producer that started it
        List<Integer> gated = new ArrayList<>();
        for (Model.Input in : model.inputs()) group.put(in.name(), fresh(parent));
        for (Model.Node n : model.nodes()) {
            Layer l = n.layer();
            int g;
            if (l instanceof Dense d) {
                g = fresh(parent);
                kernelOf.put(g, d.kernel().name());
            } else if (l instanceof Conv2D c && c.groups() == 1) {
                g = fresh(parent);
                kernelOf.put(g, c.kernel().name());
            } else if (ChannelWise.is(l)) {
                g = group.get(n.inputs().getFirst());
            } else if (l instanceof Add || l instanceof Multiply || l instanceof Concat k && k.axis() == 0) {
                g = group.get(n.inputs().getFirst());
                for (String src : n.inputs()) union(parent, g, group.get(src));
                if (l instanceof Multiply && broadcasts(model, n)) gated.add(g);
            } else {
                g = fresh(parent);
            }
            group.put(n.name(), g);
        }
        Set<Integer> gatedRoots = new HashSet<>();
        for (int g : gated) gatedRoots.add(find(parent, g));
        Set<String> kernels = new HashSet<>();
        kernelOf.forEach((g, kernel) -> { if (gatedRoots.contains(find(parent, g))) kernels.add(kernel); });
        return kernels;
    }

    /**
     * {@code ps} less the gated kernels, for channel pruning.
     *
     * @param where what selected {@code ps}, leading the error (e.g. {@code "recipe r: pruning[0] (structure: channels)"})
     * @throws RecipeException when {@code ps} holds gated kernels only, naming them
     */
    public static List<Parameter> without(Model model, List<Parameter> ps, String where) {
        return ChannelLeftOut.less(ps, of(model), names -> where + " selects only kernels " + names
                + " whose channels a squeeze-and-excitation gate multiplies, which channel pruning leaves out (" + REASON
                + "); select other layers, or prune these unstructured");
    }

    private static boolean broadcasts(Model model, Model.Node n) {
        for (String src : n.inputs()) if (!model.shapeOf(src).equals(model.shapeOf(n.name()))) return true;
        return false;
    }

    private static int fresh(List<Integer> parent) {
        parent.add(parent.size());
        return parent.size() - 1;
    }

    private static int find(List<Integer> parent, int a) {
        while (parent.get(a) != a) {
            parent.set(a, parent.get(parent.get(a)));
            a = parent.get(a);
        }
        return a;
    }

    private static void union(List<Integer> parent, int a, int b) {
        int ra = find(parent, a), rb = find(parent, b);
        if (ra != rb) parent.set(rb, ra);
    }
}
