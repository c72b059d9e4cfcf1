package dev.shears.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.cli.report.ReportWriter;
import dev.shears.cli.report.RunReport;
import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.Layer;
import dev.shears.core.nn.Model;
import dev.shears.core.sparse.BlockPattern;
import dev.shears.pruning.checkpoint.Checkpoint;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code shears inspect --model FILE [--json]}: layers, parameter counts, sparsity per layer, and
 * for each prunable layer whether it follows the 2:4 pattern ({@code "pattern": "2:4"} or null), how many
 * output channels are all zero, and the R x C block pattern of a block-pruned layer ({@code "block": "4x4"},
 * {@code "blocks"}, {@code "zeroBlocks"}; text: {@code 4x4: 80.0% empty (5880/7350)}).
 */
@Command(name = "inspect", description = "Show a model's layers, parameter counts and sparsity per layer.")
final class InspectCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Mixin ModelOption modelOption;

    @Option(names = "--json", description = "Print one JSON object on stdout and nothing else.")
    boolean json;

    /**
     * "model.onnx: input data_0 [3, 224, 224] -> output [1000]" (per sample, without the batch), or
     * "2 inputs a [..], b [..]"; it read "1 inputs [data_0[3, 224, 224]]" before.
     */
    static String header(String description, Model m) {
        String ins = String.join(", ", m.inputs().stream().map(i -> i.name() + " " + i.shape()).toList());
        return description + ": " + (m.inputs().size() == 1 ? "input " : m.inputs().size() + " inputs ") + ins + " -> output " + m.outputShape();
    }

    @Override public Integer call() throws Exception {
        try (Backend be = CpuBackend.create()) {
            ModelSource src = modelOption.load(be);
            Model m = src.model();
            List<RunReport.LayerRow> rows = ModelSummary.layers(m);
            // "2:4" where a prunable kernel follows the pattern sparse tensor cores run, else null
            Map<String, String> patterns = new HashMap<>();
            for (Layer l : m.layers()) patterns.put(l.name(), ModelSummary.pattern(l));
            // {all-zero, total} output channels of Dense/Conv2D layers: what export --thin can remove
            Map<String, int[]> channels = new HashMap<>();
            for (Layer l : m.layers()) channels.put(l.name(), ModelSummary.zeroChannels(l));
            // the R x C block pattern of block-pruned Dense/Conv2D layers (their GEMM matrix), else null
            Map<String, BlockPattern> blocks = new HashMap<>();
            for (Layer l : m.layers()) blocks.put(l.name(), ModelSummary.blocks(l));
            var out = spec.commandLine().getOut();
            // a run's model.shears is rewritten after every epoch while it goes: say when this one is not finished
            boolean partial = src.path() != null && src.path().toString().endsWith(".shears") && Checkpoint.isPartial(src.path());
            if (json) {
                ObjectNode o = ReportWriter.JSON.createObjectNode();
                o.put("model", src.description());
                o.put("partial", partial);
                o.put("parameters", ModelSummary.parameters(rows));
                o.put("prunableParameters", ModelSummary.prunable(rows));
                o.put("sparsity", ModelSummary.sparsity(rows));
                o.set("classNames", ReportWriter.JSON.valueToTree(m.classNames())); // output i means entry i; empty where the file does not say
                ArrayNode layers = o.putArray("layers");
                for (RunReport.LayerRow r : rows) {
                    ObjectNode l = layers.addObject().put("name", r.name()).put("type", r.type()).put("parameters", r.parameters())
                            .put("prunable", r.prunable()).put("outputShape", m.shapeOf(r.name()).toString());
                    if (r.prunable() > 0) l.put("sparsity", r.sparsity()); else l.putNull("sparsity");
                    l.put("pattern", patterns.get(r.name()));
                    int[] ch = channels.get(r.name());
                    if (ch != null) l.put("channels", ch[1]).put("zeroChannels", ch[0]);
                    BlockPattern b = blocks.get(r.name());
                    if (b != null) l.put("block", b.shape()).put("blocks", b.blocks()).put("zeroBlocks", b.zeroBlocks());
                    else if (ch != null) l.putNull("block");
                }
                out.println(ReportWriter.JSON.writeValueAsString(o));
            } else {
                out.println(header(src.description(), m));
                if (!m.classNames().isEmpty()) out.println("classes: " + ClassNames.indexed(m.classNames()));
                if (partial)
                    out.println("partial: the run that writes this file has not finished (saved after its last completed epoch);"
                            + " continue it with its command line and --resume");
                out.println(String.format(Locale.ROOT, "%-28s %-16s %-16s %12s %10s %8s  %-16s %s", "layer", "type", "output", "parameters", "sparsity",
                        "pattern", "channels", "blocks").stripTrailing());
                for (RunReport.LayerRow r : rows) {
                    int[] ch = channels.get(r.name());
                    BlockPattern b = blocks.get(r.name());
                    out.println(String.format(Locale.ROOT, "%-28s %-16s %-16s %12d %10s %8s  %-16s %s", r.name(), r.type(), m.shapeOf(r.name()), r.parameters(),
                            r.prunable() > 0 ? String.format(Locale.ROOT, "%.2f%%", 100 * r.sparsity()) : "",
                            patterns.get(r.name()) == null ? "" : patterns.get(r.name()),
                            ch == null ? "" : ch[0] + "/" + ch[1] + " zero",
                            b == null ? "" : String.format(Locale.ROOT, "%s: %.1f%% empty (%d/%d)", b.shape(), 100 * b.emptyFraction(), b.zeroBlocks(), b.blocks()))
                            .stripTrailing());
                }
                out.printf(Locale.ROOT, "total: %d parameters, %d prunable, sparsity %.2f%%%n", ModelSummary.parameters(rows),
                        ModelSummary.prunable(rows), 100 * ModelSummary.sparsity(rows));
            }
            return 0;
        }
    }
}
