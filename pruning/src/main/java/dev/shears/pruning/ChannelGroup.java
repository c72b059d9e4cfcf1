package dev.shears.pruning;

import dev.shears.core.nn.Parameter;

import java.util.List;

/**
 * A set of producer kernels (Dense, ungrouped Conv2D) whose output channels are tied, and which
 * channel pruning therefore treats as one: an Add (a residual connection) or a Multiply (a
 * squeeze-and-excitation gate, broadcasting [C, 1, 1] over [C, H, W]) joins channel c of each of
 * its inputs, through layers that act channel by channel ({@link ChannelWise}) and Concat (at its
 * offsets). Such a channel leaves the thinned model only when it goes from every member, so the
 * members lose the same channels together (the dependency-group idea of structured pruning, e.g.
 * Fang et al. 2023, "DepGraph"). A kernel tied to no other is a set of one. Computed from the
 * graph alone by {@code thin.ChannelSets} (the walk thinning makes, without the weights).
 *
 * @param members    the tied kernels, in model order
 * @param unitOf     per member, the unit of each of its output channels, [members][channels]: the
 *                   channels that share a unit are one channel of the joined set (the same index c
 *                   of an Add's inputs); values in [0, units)
 * @param units      how many channels the set has: what the schedule's target is applied to
 * @param keptReason why thinning can never remove these channels (they reach the model output, a
 *                   graph input, or a layer thinning does not see through), or null when it can
 */
public record ChannelGroup(List<Parameter> members, int[][] unitOf, int units, String keptReason) {
    public ChannelGroup {
        members = List.copyOf(members);
        if (unitOf.length != members.size()) throw new IllegalArgumentException(unitOf.length + " unit maps for " + members.size() + " members");
    }

    /** A kernel tied to nothing: its channels are its units. */
    public static ChannelGroup alone(Parameter kernel) {
        int channels = ChannelLayout.of(kernel.name(), kernel.shape()).channels();
        int[] unit = new int[channels];
        for (int c = 0; c < channels; c++) unit[c] = c;
        return new ChannelGroup(List.of(kernel), new int[][]{unit}, channels, null);
    }

    /** Whether more than one kernel is in the set. */
    public boolean tied() { return members.size() > 1; }

    /** The members' names, in model order. */
    public List<String> names() { return members.stream().map(Parameter::name).toList(); }
}
