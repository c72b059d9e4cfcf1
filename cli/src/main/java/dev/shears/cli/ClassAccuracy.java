package dev.shears.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.cli.report.ClassLabels;
import dev.shears.cli.report.ReportWriter;
import dev.shears.core.backend.Backend;
import dev.shears.core.nn.ClassCounts;
import dev.shears.core.nn.ClassTally;
import dev.shears.core.tensor.Tensor;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * Correct answers per class of an {@code eval}: what "which classes did pruning hurt" needs, where
 * the one accuracy figure hides a class that went from 90% to 40%. Tallied by {@link ClassTally}
 * from each batch's logits as the forward pass returns them ({@link EvalProgress#counting}, batches
 * in sample order), as the run's test passes tally theirs; this class is eval's rows, JSON and text.
 */
final class ClassAccuracy {
    /** Above this many classes the text table shows only the least accurate ones (ImageNet has 1000); --json lists all. */
    static final int TEXT_ROWS = 20;

    /** The counting, shared with the run's test passes (GmpTrainer): one implementation. */
    private final ClassTally tally;

    ClassAccuracy(int[] labels) { this.tally = new ClassTally(labels); }

    /** One batch's logits, [n, outputs], on {@code backend}: {@link ClassTally#batch}. */
    void batch(Backend backend, Tensor logits, int n) { tally.batch(backend, logits, n); }

    /** One class's figures; {@code name} null where the model has no class names. */
    record Row(int index, String name, long correct, long total) {
        double accuracy() { return total == 0 ? 0 : (double) correct / total; }

        String label() { return ClassLabels.label(index, name); }
    }

    /** The classes the data holds samples of, by index, named from {@code names} (the model's; empty for none). */
    List<Row> rows(List<String> names) { return rows(tally.counts(), names); }

    /** {@code counts}' classes that hold samples, by index, named from {@code names} (the model's; empty for none). */
    static List<Row> rows(ClassCounts counts, List<String> names) {
        List<Row> rows = new ArrayList<>();
        for (int c = 0; c < counts.classes(); c++)
            if (counts.total(c) > 0) rows.add(new Row(c, name(names, c), counts.correct(c), counts.total(c)));
        return rows;
    }

    /** Class {@code c}'s name, or null where the model has none for it. */
    static String name(List<String> names, int c) { return c < names.size() ? names.get(c) : null; }

    /** The rows as --json's {@code perClass} array: index, name (where known), correct, total, accuracy. */
    static ArrayNode json(List<Row> rows) {
        ArrayNode a = ReportWriter.JSON.createArrayNode();
        for (Row r : rows) {
            ObjectNode o = a.addObject().put("index", r.index());
            if (r.name() != null) o.put("name", r.name());
            o.put("correct", r.correct()).put("total", r.total()).put("accuracy", r.accuracy());
        }
        return a;
    }

    /**
     * The text table: a header and a line a class ("  Ankle boot    281/300   93.67%"), by index; past
     * {@link #TEXT_ROWS} classes, the least accurate ones and how many more --json lists.
     */
    static List<String> lines(List<Row> rows) {
        List<Row> shown = rows;
        String title = "per class (correct/total, accuracy):";
        if (rows.size() > TEXT_ROWS) {
            shown = rows.stream().sorted(Comparator.comparingDouble(Row::accuracy).thenComparingInt(Row::index)).limit(TEXT_ROWS / 2).toList();
            title = String.format(Locale.ROOT, "per class: the %d least accurate of %d (--json lists every class):", shown.size(), rows.size());
        }
        int width = shown.stream().mapToInt(r -> r.label().length()).max().orElse(0);
        int digits = String.valueOf(shown.stream().mapToLong(Row::total).max().orElse(0)).length();
        List<String> out = new ArrayList<>();
        out.add(title);
        for (Row r : shown)
            out.add(String.format(Locale.ROOT, "  %-" + width + "s  %" + digits + "d/%-" + digits + "d  %6.2f%%", r.label(), r.correct(), r.total(),
                    100 * r.accuracy()));
        return out;
    }
}
