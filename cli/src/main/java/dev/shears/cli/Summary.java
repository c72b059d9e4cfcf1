package dev.shears.cli;

import dev.shears.cli.report.RunReport;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;

/** The end-of-run summary on stdout: accuracy before and after, sparsity per layer, where the report is. */
final class Summary {
    private Summary() {}

    static void print(PrintWriter out, RunReport r, Path outDir) {
        boolean pruned = r.sparsity() > 0;
        if (r.before() != null)
            out.printf(Locale.ROOT, "%-17s%.2f%% (test loss %.4f)%n", pruned ? "dense accuracy:" : "accuracy before:",
                    100 * r.before().accuracy(), r.before().loss());
        out.printf(Locale.ROOT, "%-17s%.2f%% (test loss %.4f)%n", pruned ? "pruned accuracy:" : "accuracy:",
                100 * r.after().accuracy(), r.after().loss());
        if (r.before() != null) {
            out.printf(Locale.ROOT, "%-17s%+.2f points%n", "change:", 100 * (r.after().accuracy() - r.before().accuracy()));
            // which classes paid for it, when one lost more than the threshold (ClassChange.HURT_POINTS)
            String hurt = ClassChange.mostHurtLine(r.perClass());
            if (hurt != null) out.println(hurt);
        }
        // also without a "before": a train run, or one stopped before its last epoch, may still say why figures are missing
        if (r.perClassNote() != null) out.println("per class: " + r.perClassNote());
        out.printf(Locale.ROOT, "sparsity:        %.2f%% of %d prunable weights (%d non-zero)", 100 * r.sparsity(), r.prunableParameters(), r.nonZeroPrunable());
        if (!Double.isNaN(r.finalSparsityEpoch()))
            out.printf(Locale.ROOT, "; final %.0f%% reached at epoch %s", 100 * r.targetSparsity(), RunSupport.trim(r.finalSparsityEpoch()));
        out.println();
        out.printf(Locale.ROOT, "%-20s %-10s %10s %10s%n", "layer", "type", "weights", "sparsity");
        for (RunReport.LayerRow l : r.layers())
            if (l.prunable() > 0) out.printf(Locale.ROOT, "%-20s %-10s %10d %9.2f%%%n", l.name(), l.type(), l.prunable(), 100 * l.sparsity());
        RunReport.Inference inf = r.inference();
        if (inf != null) {
            if (!inf.batches().isEmpty()) {
                out.println(InferenceReport.header(inf));
                for (RunReport.InferenceBatch b : inf.batches()) out.println("  " + InferenceReport.line(b));
            }
            if (inf.note() != null) out.println("inference: " + inf.note());
        }
        RunReport.Thinning th = r.thinning();
        if (th != null) {
            out.println(ThinningReport.header(th));
            for (RunReport.ThinnedLayer l : th.layers()) out.println("  " + ThinningReport.layerLine(l));
            for (RunReport.ThinningBatch b : th.batches()) out.println("  " + ThinningReport.line(b));
            for (String w : th.warnings()) out.println("thinning: " + w);
            if (th.note() != null) out.println("thinning: " + th.note());
            if (th.channelsRemoved() > 0)
                out.println("write the thinned model with: shears export --model " + r.checkpoint() + " --thin --format onnx --out FILE");
        }
        // r.seconds() is the training (every epoch with its test pass and save, a resumed run's earlier part included), not the
        // loading before it or the inference timing after it: the line said "time:", read as the whole command's
        out.printf(Locale.ROOT, "time: %.1f s training on %s%s%n", r.seconds(), r.backend(),
                (inf != null && !inf.batches().isEmpty()) || (th != null && !th.batches().isEmpty())
                        ? " (the inference timing above not included)" : "");
        out.println("model:  " + r.checkpoint());
        out.println("report: " + outDir.resolve("report.html") + " (and report.json)");
        out.flush();
    }
}
