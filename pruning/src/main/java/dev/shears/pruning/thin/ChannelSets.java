package dev.shears.pruning.thin;

import dev.shears.core.nn.Model;
import dev.shears.core.nn.Parameter;
import dev.shears.pruning.ChannelGroup;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The tied sets of producer kernels ({@link ChannelGroup}) that channel pruning prunes together,
 * read off the walk thinning makes ({@link ChannelFlow#structure}, the graph without the weights):
 * two producers are in one set when an Add or Multiply joins a channel of one with a channel of
 * the other, directly or through other such joins. The sets are exactly the ones thinning removes
 * channels from together, so what pruning zeroes together is what thinning can take out.
 */
public final class ChannelSets {
    private ChannelSets() {}

    /** Every Dense / ungrouped Conv2D kernel of {@code model} in exactly one set; sets in the order of their first member. */
    public static List<ChannelGroup> of(Model model) {
        ChannelFlow f = ChannelFlow.structure(model);
        List<String> producers = new ArrayList<>(f.kernels.keySet());
        // producers that share a root are in one set: union-find over the producers by root
        Map<Integer, Integer> setOfRoot = new HashMap<>();
        int[] parent = new int[producers.size()];
        for (int i = 0; i < parent.length; i++) parent[i] = i;
        for (int i = 0; i < producers.size(); i++) {
            String name = producers.get(i);
            int first = f.firstAtom.get(name), channels = f.zeroChannels.get(name).length;
            for (int c = 0; c < channels; c++) {
                Integer j = setOfRoot.putIfAbsent(f.find(first + c), i);
                if (j != null) parent[root(parent, i)] = root(parent, j);
            }
        }
        Map<Integer, List<Integer>> sets = new LinkedHashMap<>();
        for (int i = 0; i < producers.size(); i++) sets.computeIfAbsent(root(parent, i), k -> new ArrayList<>()).add(i);
        List<ChannelGroup> out = new ArrayList<>(sets.size());
        for (List<Integer> members : sets.values()) {
            Map<Integer, Integer> unitOfRoot = new HashMap<>();
            List<Parameter> kernels = new ArrayList<>(members.size());
            int[][] unitOf = new int[members.size()][];
            String kept = null;
            for (int m = 0; m < members.size(); m++) {
                String name = producers.get(members.get(m));
                kernels.add(f.kernels.get(name));
                int first = f.firstAtom.get(name), channels = f.zeroChannels.get(name).length;
                unitOf[m] = new int[channels];
                for (int c = 0; c < channels; c++) {
                    int r = f.find(first + c);
                    unitOf[m][c] = unitOfRoot.computeIfAbsent(r, k -> unitOfRoot.size());
                    if (kept == null) kept = f.whyKeptAlways(r);
                }
            }
            out.add(new ChannelGroup(kernels, unitOf, unitOfRoot.size(), kept));
        }
        return out;
    }

    private static int root(int[] parent, int i) {
        while (parent[i] != i) i = parent[i] = parent[parent[i]];
        return i;
    }
}
