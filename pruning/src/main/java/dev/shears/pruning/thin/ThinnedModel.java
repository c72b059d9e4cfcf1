package dev.shears.pruning.thin;

import dev.shears.core.nn.Model;

import java.util.List;
import java.util.Map;

/**
 * What {@link ChannelThinning#thin} returns.
 *
 * @param model            the smaller dense model, bound to the source model's backend
 * @param removed          per Dense/Conv2D layer name: how many output channels left it (layers with none are absent)
 * @param warnings         one line per layer whose all-zero output channels had to stay, naming the layer and why
 * @param parametersBefore stored weights of the source model
 * @param parametersAfter  stored weights of {@link #model}
 */
public record ThinnedModel(Model model, Map<String, Integer> removed, List<String> warnings,
                           long parametersBefore, long parametersAfter) {
    public ThinnedModel {
        removed = java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(removed)); // by layer name, for stable messages
        warnings = List.copyOf(warnings);
    }

    /** Output channels removed over all layers. */
    public int removedChannels() { return removed.values().stream().mapToInt(Integer::intValue).sum(); }
}
