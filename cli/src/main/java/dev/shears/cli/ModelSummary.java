package dev.shears.cli;

import dev.shears.cli.report.RunReport;
import dev.shears.core.backend.Backend;
import dev.shears.core.nn.Layer;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.Parameter;
import dev.shears.core.sparse.BlockPattern;
import dev.shears.core.sparse.SparseMatrix;
import dev.shears.pruning.ChannelLayout;
import dev.shears.pruning.NmLayout;

import java.util.ArrayList;
import java.util.List;

/**
 * Per-layer parameter counts and sparsity. "Prunable" weights are the kernels (Dense, Conv2D):
 * sparsity is the fraction of exact zeros among them, whether or not a mask is attached.
 */
public final class ModelSummary {
    private ModelSummary() {}

    public static List<RunReport.LayerRow> layers(Model model) {
        Backend be = model.backend();
        List<RunReport.LayerRow> rows = new ArrayList<>();
        for (Layer l : model.layers()) {
            long params = 0, prunable = 0, zeros = 0;
            for (Parameter p : l.parameters()) {
                params += p.shape().size();
                if (p.prunableByDefault()) {
                    prunable += p.shape().size();
                    for (float v : be.download(p.value())) if (v == 0f) zeros++;
                }
            }
            rows.add(new RunReport.LayerRow(l.name(), l.type(), params, prunable, prunable > 0 ? (double) zeros / prunable : Double.NaN));
        }
        return rows;
    }

    /**
     * The structured pattern a layer's prunable kernel follows: {@code "2:4"} when its grouping
     * axis ({@link NmLayout}'s: a Dense kernel's inputs, a Conv2D kernel's input channels at each
     * output channel and kernel position, NVIDIA's grouping, what TensorRT and Apex ASP read) holds
     * at least one full group of 4 and every group of 4 along it has at most 2 nonzeros, else null.
     * A Conv2D pruned 2:4 along its flattened in*kh*kw window (older Shears) does not count. Null
     * for layers without a prunable kernel. One pass over the weights on the host.
     */
    public static String pattern(Layer layer) {
        String found = null;
        for (Parameter p : layer.parameters()) {
            if (!p.prunableByDefault()) continue;
            NmLayout l;
            try {
                l = NmLayout.of(p);
            } catch (IllegalArgumentException notDenseOrConv) {
                return null;
            }
            if (l.k() < 4 || !l.follows(p.value().backend().download(p.value()), 2, 4)) return null;
            found = "2:4";
        }
        return found;
    }

    /**
     * For a Dense or Conv2D layer: {zero, total} output channels, where zero counts the channels
     * whose kernel weights are all zero (what channel pruning leaves and {@code export --thin}
     * removes); null for other layers.
     */
    public static int[] zeroChannels(Layer layer) {
        Parameter k = kernel(layer);
        if (k == null || k.value() == null) return null;
        ChannelLayout l = ChannelLayout.of(k.name(), k.shape());
        return new int[]{l.zeroChannelCount(k.value().backend().download(k.value())), l.channels()};
    }

    /**
     * For a Dense or Conv2D layer whose kernel is block-pruned: the R x C block pattern its GEMM
     * matrix follows ({@link BlockPattern#detect}: every zero in an all-zero block), in the
     * orientation block pruning and sparse inference use (Dense: A = W^T [out, in]; Conv2D:
     * A = [out, in*kh*kw]). Null for other layers, for layers that follow none, and for layers whose
     * zeros are all whole output channels (rows of A): the channels column already says that.
     */
    public static BlockPattern blocks(Layer layer) {
        Parameter k = kernel(layer);
        if (k == null || k.value() == null) return null;
        float[] w = k.value().backend().download(k.value());
        int rows = k.shape().rank() == 2 ? k.shape().dim(1) : k.shape().dim(0), cols = (int) (k.shape().size() / rows);
        float[] a = k.shape().rank() == 2 ? SparseMatrix.fromDenseKernel(w, cols, rows) : w;
        BlockPattern p = BlockPattern.detect(a, rows, cols);
        if (p == null) return null;
        long zeros = 0;
        for (float v : w) if (v == 0f) zeros++;
        ChannelLayout ch = ChannelLayout.of(k.name(), k.shape());
        return zeros == (long) ch.zeroChannelCount(w) * ch.span() ? null : p;
    }

    /** A Dense or Conv2D layer's kernel; null for other layers. */
    private static Parameter kernel(Layer layer) {
        return switch (layer) {
            case dev.shears.core.nn.layers.Dense d -> d.kernel();
            case dev.shears.core.nn.layers.Conv2D c -> c.kernel();
            default -> null;
        };
    }

    public static long parameters(List<RunReport.LayerRow> rows) {
        return rows.stream().mapToLong(RunReport.LayerRow::parameters).sum();
    }

    public static long prunable(List<RunReport.LayerRow> rows) {
        return rows.stream().mapToLong(RunReport.LayerRow::prunable).sum();
    }

    public static long nonZero(List<RunReport.LayerRow> rows) {
        return rows.stream().filter(r -> r.prunable() > 0).mapToLong(r -> Math.round(r.prunable() * (1 - r.sparsity()))).sum();
    }

    public static double sparsity(List<RunReport.LayerRow> rows) {
        long p = prunable(rows);
        return p == 0 ? 0 : 1 - (double) nonZero(rows) / p;
    }
}
