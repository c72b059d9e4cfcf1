package dev.shears.pruning;

import dev.shears.core.backend.Backend;
import dev.shears.core.nn.Parameter;
import dev.shears.core.tensor.DType;
import dev.shears.core.tensor.Tensor;
import dev.shears.pruning.recipe.BlockStructure;
import dev.shears.pruning.recipe.ChannelStructure;
import dev.shears.pruning.recipe.NmStructure;
import dev.shears.pruning.recipe.Scope;
import dev.shears.pruning.recipe.Structure;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Magnitude pruning: masks the smallest-|w| weights of the selected parameters so that exactly
 * {@code round(target * size)} are masked per parameter (layer scope) or over all of them
 * together (global scope). Masks only gain zeros: weights masked before stay masked (they are
 * zero, so they count among the smallest), and a target below the current sparsity changes
 * nothing. All the work is two backend calls: {@link Backend#magnitudeThresholds} for every
 * tensor at once and {@link Backend#updateMask} per tensor; ties at the threshold are split so
 * the count is exact.
 *
 * <p>{@link #updateNm} is the N:M variant: per group of M consecutive inputs (a Conv2D kernel's
 * input channels at each output channel and kernel position, NVIDIA's grouping: {@link NmLayout}),
 * the largest |w| are kept, one {@link Backend#updateMaskNm} call per
 * tensor, so on CUDA the masks never leave the device. {@link #updateChannels} and
 * {@link #updateBlocks} mask whole output channels and whole R x C blocks of the GEMM matrix;
 * {@link #updateChannelGroups} masks the same channels in every kernel of a tied set.
 */
public final class MagnitudePruner {
    private final Backend backend;

    public MagnitudePruner(Backend backend) { this.backend = backend; }

    /**
     * The update a modifier's {@code structure} calls for: {@link #update} (null: unstructured, at
     * {@code scope}), {@link #updateNm}, {@link #updateChannels} or {@link #updateBlocks} (those
     * prune each layer on its own; {@code scope} is layer for them, as recipes require).
     */
    public MaskUpdate update(List<Parameter> params, double target, Scope scope, Structure structure) {
        return switch (structure) {
            case null -> update(params, target, scope);
            case NmStructure nm -> updateNm(params, target, nm);
            case ChannelStructure c -> updateChannels(params, target);
            case BlockStructure b -> updateBlocks(params, target, b);
        };
    }

    /**
     * Computes and applies the masks for {@code target} sparsity. Parameters without a mask get
     * an all-ones one first; masked weights are zeroed.
     *
     * @param params bound parameters of one backend (the pruning selection)
     * @param target in [0, 1)
     */
    public MaskUpdate update(List<Parameter> params, double target, Scope scope) {
        requireTarget(params, target);
        int n = params.size();
        long[] size = new long[n];
        long[] before = prepare(params, size);
        long[] after = scope == Scope.LAYER ? layer(params, target, size, before) : global(params, target, size, before);
        List<LayerSparsity> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) out.add(new LayerSparsity(params.get(i).name(), size[i], after[i]));
        return new MaskUpdate(target, scope, out);
    }

    /**
     * N:M magnitude pruning at an unstructured schedule target: every group of M weights of
     * each tensor's {@link NmLayout} (inputs; a Conv2D kernel's input channels) keeps its {@code keep = structure.keepPerGroup(target)} largest
     * |w| (ties: the lower index is kept), and weights masked before stay masked. Parameters
     * without a mask get an all-ones one first; masked weights are zeroed.
     *
     * @param params bound Dense or Conv2D kernels of one backend
     * @param target in [0, 1): the GMP schedule's sparsity at this update
     */
    public MaskUpdate updateNm(List<Parameter> params, double target, NmStructure structure) {
        requireTarget(params, target);
        int n = params.size();
        NmLayout[] layouts = new NmLayout[n];
        for (int i = 0; i < n; i++) layouts[i] = NmLayout.of(params.get(i)); // fail before touching any mask
        long[] size = new long[n];
        long[] before = prepare(params, size);
        int keep = structure.keepPerGroup(target);
        int m = structure.m();
        List<LayerSparsity> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            Parameter p = params.get(i);
            NmLayout l = layouts[i];
            long ones = backend.updateMaskNm(p.value(), p.mask(), l.outer(), l.k(), l.inner(), keep, m);
            long after = size[i] - ones;
            if (ones > l.maxKept(keep, m) || ones > size[i] - before[i])
                throw new IllegalStateException(p.name() + ": " + ones + " weights kept after an N:M update keeping " + keep + " of every " + m
                        + " (at most " + l.maxKept(keep, m) + " fit the groups, " + (size[i] - before[i]) + " were unmasked before): backend "
                        + backend.name() + " broke the updateMaskNm contract");
            out.add(new LayerSparsity(p.name(), size[i], after));
        }
        return new MaskUpdate(target, Scope.LAYER, structure, keep, out);
    }

    /**
     * Channel (filter) pruning at a schedule target: every tensor loses
     * {@link ChannelStructure#removed round(target * C)} (at most C - 1) of its C output channels
     * ({@link ChannelLayout}), those with the smallest L1 norm of their (masked) weights, each
     * masked as a whole. Channels masked whole before go first (masks only gain zeros), then by
     * norm, then equal norms by channel index (the lower goes). The masks are computed on the host
     * and copied into the existing mask tensors, so a captured CUDA graph keeps its pointers.
     *
     * @param params bound Dense or Conv2D kernels of one backend
     * @param target in [0, 1): the GMP schedule's sparsity at this update
     */
    public MaskUpdate updateChannels(List<Parameter> params, double target) {
        return updateChannelGroups(params.stream().map(ChannelGroup::alone).toList(), target);
    }

    /**
     * Channel pruning of tied sets ({@link ChannelGroup}): each set is pruned as one kernel whose
     * channels are the set's units. A unit's score is the sum over the members of the L1 norm of
     * the member's channel(s) in the unit divided by the member's mean channel L1 norm: normalised
     * per member, so a member with a larger fan-in or larger weights does not decide alone (a
     * residual Add's 1x1 projections of 144 and 96 inputs, a gate's expanding conv of 4 inputs
     * against a 3x3 map conv of 27), and for a set of one the order is exactly the kernel's L1
     * order. Each set loses {@link ChannelStructure#removed round(target * units)} (at most
     * units - 1) units, the per-layer target applied to the set, and every member loses all its
     * channels of each removed unit, so thinning can take them out; a unit that would take a
     * member's last channel is passed over for the next. Units with a channel masked
     * whole in any member go first (masks only gain zeros: that member's channel stays masked, and
     * the others follow it), then the smallest score, then equal scores by unit index.
     *
     * @param groups bound kernels of one backend, in sets (a kernel in one set at most)
     * @param target in [0, 1): the GMP schedule's sparsity at this update
     * @return one layer per member, set by set
     */
    public MaskUpdate updateChannelGroups(List<ChannelGroup> groups, double target) {
        List<Parameter> params = groups.stream().flatMap(g -> g.members().stream()).toList();
        requireTarget(params, target);
        List<ChannelLayout[]> layouts = new ArrayList<>(groups.size());
        for (ChannelGroup g : groups) { // fail before touching any mask
            ChannelLayout[] ls = new ChannelLayout[g.members().size()];
            for (int i = 0; i < ls.length; i++) {
                Parameter p = g.members().get(i);
                ls[i] = ChannelLayout.of(p.name(), p.shape());
                if (ls[i].channels() != g.unitOf()[i].length)
                    throw new IllegalArgumentException(p.name() + " has " + ls[i].channels() + " output channels, its tied set maps "
                            + g.unitOf()[i].length + ": the sets were computed for another model");
            }
            layouts.add(ls);
        }
        long[] size = new long[params.size()];
        prepare(params, size);
        List<LayerSparsity> out = new ArrayList<>(params.size());
        int k = 0;
        for (int gi = 0; gi < groups.size(); gi++) {
            ChannelGroup g = groups.get(gi);
            ChannelLayout[] ls = layouts.get(gi);
            int members = ls.length;
            byte[][] masks = new byte[members][];
            double[] score = new double[g.units()];
            boolean[] gone = new boolean[g.units()];
            for (int i = 0; i < members; i++) {
                Parameter p = g.members().get(i);
                masks[i] = backend.downloadBytes(p.mask());
                boolean[] masked = ls[i].maskedChannels(masks[i]);
                double[] l1 = ls[i].l1Norms(backend.download(p.value()));
                double mean = 0;
                for (double v : l1) mean += v;
                // an all-zero member scores 0 everywhere; a set of one keeps its raw norms, so its
                // order is exactly the L1 order (a division could round two close norms equal)
                mean = mean > 0 && g.tied() ? mean / l1.length : 1;
                for (int c = 0; c < l1.length; c++) {
                    int u = g.unitOf()[i][c];
                    score[u] += l1[c] / mean;
                    gone[u] |= masked[c];
                }
            }
            boolean[] removed = chooseUnits(g, score, gone, ChannelStructure.removed(target, g.units()));
            for (int i = 0; i < members; i++) {
                for (int c = 0; c < g.unitOf()[i].length; c++) if (removed[g.unitOf()[i][c]]) ls[i].clear(masks[i], c);
                out.add(setMask(g.members().get(i), masks[i], size[k++]));
            }
        }
        return new MaskUpdate(target, Scope.LAYER, ChannelStructure.CHANNELS, 0, out);
    }

    /**
     * The units of a tied set to mask: those gone before (masks only gain zeros), then by
     * {@link #removalOrder} until {@code want} are masked, skipping a unit whose removal would take
     * a member's last channel (a set's members can be of different widths, e.g. the inputs of a
     * Concat tied to one wide layer: as a layer alone, none loses all its channels).
     */
    private static boolean[] chooseUnits(ChannelGroup g, double[] score, boolean[] gone, long want) {
        int members = g.members().size();
        int[][] per = new int[g.units()][members]; // channels of each member in each unit
        int[] left = new int[members];
        for (int i = 0; i < members; i++) {
            left[i] = g.unitOf()[i].length;
            for (int u : g.unitOf()[i]) per[u][i]++;
        }
        boolean[] removed = new boolean[g.units()];
        long n = 0;
        for (int u : removalOrder(score, gone)) {
            if (!gone[u]) {
                if (n >= want) break;
                boolean empties = false;
                for (int i = 0; i < members && !empties; i++) empties = per[u][i] > 0 && left[i] - per[u][i] <= 0;
                if (empties) continue;
            }
            removed[u] = true;
            n++;
            for (int i = 0; i < members; i++) left[i] -= per[u][i];
        }
        return removed;
    }

    /**
     * Block pruning at a schedule target: every tensor's GEMM matrix A ({@link BlockLayout}: W^T
     * for Dense, the im2col A for Conv2D) is cut into R x C blocks, and {@link BlockStructure#removed
     * round(target * B)} (at most B - 1) of its B blocks are masked as a whole: blocks masked whole
     * before first (masks only gain zeros), then the smallest mean |w| (the block's L1 norm per
     * weight, so a partial edge block compares fairly), then equal means by block index (row-major
     * over A's block grid: the lower goes). Computed on the host and copied into the existing mask
     * tensors, as {@link #updateChannels} does, so a captured CUDA graph keeps its pointers.
     *
     * @param params bound Dense or Conv2D kernels of one backend
     * @param target in [0, 1): the GMP schedule's sparsity at this update
     */
    public MaskUpdate updateBlocks(List<Parameter> params, double target, BlockStructure structure) {
        requireTarget(params, target);
        int n = params.size();
        BlockLayout[] layouts = new BlockLayout[n];
        for (int i = 0; i < n; i++) { // fail before touching any mask
            Parameter p = params.get(i);
            layouts[i] = BlockLayout.of(p.name(), p.shape(), structure.rows(), structure.cols());
        }
        long[] size = new long[n];
        prepare(params, size);
        List<LayerSparsity> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            Parameter p = params.get(i);
            BlockLayout l = layouts[i];
            byte[] mask = backend.downloadBytes(p.mask());
            boolean[] gone = l.maskedBlocks(mask);
            Integer[] order = removalOrder(l.meanAbs(backend.download(p.value())), gone);
            long remove = Math.max(count(gone), BlockStructure.removed(target, l.blocks()));
            for (int k = 0; k < remove; k++) l.clear(mask, order[k]);
            out.add(setMask(p, mask, size[i]));
        }
        return new MaskUpdate(target, Scope.LAYER, structure, 0, out);
    }

    /**
     * The order whole units (blocks of one kernel, or channels of a tied set) go in: those masked whole before
     * first (masks only gain zeros), then the smallest score, then equal scores by index (the
     * lower goes).
     */
    private static Integer[] removalOrder(double[] score, boolean[] gone) {
        Integer[] order = new Integer[score.length];
        for (int u = 0; u < order.length; u++) order[u] = u;
        Arrays.sort(order, Comparator.<Integer, Boolean>comparing(u -> !gone[u]).thenComparingDouble(u -> score[u]).thenComparingInt(u -> u));
        return order;
    }

    /** The checks every update makes first: a target in [0, 1) and at least one parameter. */
    private static void requireTarget(List<Parameter> params, double target) {
        if (!(target >= 0 && target < 1)) throw new IllegalArgumentException("sparsity target " + target + " outside [0, 1)");
        if (params.isEmpty()) throw new IllegalArgumentException("no parameter to prune");
    }

    private static int count(boolean[] flags) {
        int n = 0;
        for (boolean f : flags) if (f) n++;
        return n;
    }

    /**
     * Copies a host-computed mask into {@code p}'s existing mask tensor (so a captured CUDA graph
     * keeps its pointers), zeroes the masked weights and returns the layer's sparsity.
     */
    private LayerSparsity setMask(Parameter p, byte[] mask, long size) {
        try (Tensor staged = backend.uploadBytes(mask, p.shape())) {
            backend.copy(staged, p.mask());
        }
        long ones = backend.applyMask(p.value(), p.mask());
        return new LayerSparsity(p.name(), size, size - ones);
    }

    /**
     * Gives every parameter a mask (all ones when it has none), re-zeroes masked weights so the
     * invariant holds whatever happened before, fills {@code size}; returns the masked counts.
     */
    private long[] prepare(List<Parameter> params, long[] size) {
        int n = params.size();
        long[] before = new long[n];
        for (int i = 0; i < n; i++) {
            Parameter p = params.get(i);
            if (p.value() == null) throw new IllegalStateException(p.name() + " is not bound to a backend");
            size[i] = p.shape().size();
            if (p.mask() == null) {
                Tensor m = backend.allocate(p.shape(), DType.UINT8);
                backend.fill(m, 1);
                p.setMask(m);
            }
            before[i] = size[i] - backend.applyMask(p.value(), p.mask());
        }
        return before;
    }

    /** Layer scope: tensor i ends with max(before[i], round(target * size[i])) zeros. */
    private long[] layer(List<Parameter> params, double target, long[] size, long[] before) {
        int n = params.size();
        long[] after = before.clone();
        List<Integer> todo = new ArrayList<>();
        List<Tensor> weights = new ArrayList<>();
        List<Long> ks = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            long k = Math.round(target * size[i]);
            if (k > before[i]) {
                todo.add(i);
                weights.add(params.get(i).value());
                ks.add(k);
            }
        }
        if (todo.isEmpty()) return after;
        int m = todo.size();
        long[] k = ks.stream().mapToLong(Long::longValue).toArray();
        float[] thr = new float[m];
        long[] below = new long[m];
        long[] equal = new long[m];
        backend.magnitudeThresholds(weights, k, false, thr, below, equal);
        for (int j = 0; j < m; j++) {
            int i = todo.get(j);
            Parameter p = params.get(i);
            long ties = k[j] - below[j];
            checkTies(p, k[j], thr[j], below[j], equal[j], ties);
            long ones = backend.updateMask(p.value(), p.mask(), thr[j], ties);
            after[i] = size[i] - ones;
            if (after[i] != k[j])
                throw new IllegalStateException(p.name() + ": " + after[i] + " weights masked after the update, expected exactly " + k[j]
                        + " (threshold " + thr[j] + ", " + below[j] + " below, " + equal[j] + " equal, " + ties + " ties pruned): backend "
                        + backend.name() + " broke the magnitudeThresholds/updateMask contract");
        }
        return after;
    }

    /** Global scope: max(sum before, round(target * total)) zeros over all the tensors together. */
    private long[] global(List<Parameter> params, double target, long[] size, long[] before) {
        int n = params.size();
        long total = 0, maskedBefore = 0;
        for (int i = 0; i < n; i++) { total += size[i]; maskedBefore += before[i]; }
        long k = Math.round(target * total);
        if (k <= maskedBefore) return before.clone();
        List<Tensor> weights = new ArrayList<>(n);
        for (Parameter p : params) weights.add(p.value());
        float[] thr = new float[n];
        long[] below = new long[n];
        long[] equal = new long[n];
        backend.magnitudeThresholds(weights, new long[]{k}, true, thr, below, equal);
        float t = thr[0];
        long belowSum = 0;
        for (long b : below) belowSum += b;
        long ties = k - belowSum;
        // Ties at the threshold are spread over the tensors in order. When the threshold is 0,
        // every already-masked weight is a tie that stays masked whatever we ask, so those are
        // counted first; then the remaining ties go to the tensors in order.
        long[] give = new long[n];
        long remaining = ties;
        if (t == 0) {
            for (int i = 0; i < n; i++) { give[i] = before[i]; remaining -= before[i]; }
        }
        for (int i = 0; i < n && remaining > 0; i++) {
            long extra = Math.min(equal[i] - give[i], remaining);
            give[i] += extra;
            remaining -= extra;
        }
        if (remaining != 0 || ties < 0)
            throw new IllegalStateException("global threshold " + t + " for " + k + " of " + total + " weights: " + belowSum
                    + " below and not enough ties (" + ties + " needed): backend " + backend.name() + " broke the magnitudeThresholds contract");
        long[] after = new long[n];
        long sum = 0;
        for (int i = 0; i < n; i++) {
            Parameter p = params.get(i);
            long ones = backend.updateMask(p.value(), p.mask(), t, give[i]);
            after[i] = size[i] - ones;
            sum += after[i];
        }
        if (sum != k)
            throw new IllegalStateException(sum + " weights masked over " + n + " tensors after a global update, expected exactly " + k
                    + " (threshold " + t + "): backend " + backend.name() + " broke the magnitudeThresholds/updateMask contract");
        return after;
    }

    private void checkTies(Parameter p, long k, float thr, long below, long equal, long ties) {
        if (ties < 1 || ties > equal)
            throw new IllegalStateException(p.name() + ": threshold " + thr + " for k = " + k + " leaves " + below + " below and "
                    + equal + " equal, which cannot give exactly k: backend " + backend.name() + " broke the magnitudeThresholds contract");
    }
}
