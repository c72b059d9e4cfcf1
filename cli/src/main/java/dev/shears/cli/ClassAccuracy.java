package dev.shears.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.cli.report.ReportWriter;
import dev.shears.core.backend.Backend;
import dev.shears.core.tensor.Tensor;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * Correct answers per class of an {@code eval}: what "which classes did pruning hurt" needs, where
 * the one accuracy figure hides a class that went from 90% to 40%. Tallied from each batch's
 * logits as the forward pass returns them ({@link EvalProgress#counting}, batches in sample order),
 * the predicted class being the highest logit (the first of equal ones), as the evaluator's
 * accuracy counts it; one download of the batch's logits [n, outputs] each.
 */
final class ClassAccuracy {
    /** Above this many classes the text table shows only the least accurate ones (ImageNet has 1000); --json lists all. */
    static final int TEXT_ROWS = 20;

    /** The data's labels [samples], in the model's class indices. */
    private final int[] labels;
    /** Per class index: samples of the class, and those predicted right; [max(outputs, data classes)]. */
    private long[] total, correct;
    /** Samples tallied so far (the next batch's first index). */
    private int next;

    ClassAccuracy(int[] labels) {
        this.labels = labels;
        this.total = new long[0];
        this.correct = new long[0];
    }

    /**
     * One batch's logits, [n, outputs] (any trailing shape of {@code outputs} values a sample; a tensor of more rows than
     * the batch's n, such as a planned model's buffer for a full batch holding a shorter last one, is read for its first n), on
     * {@code backend}.
     */
    void batch(Backend backend, Tensor logits, int n) {
        int outputs = Math.toIntExact(logits.shape().size() / logits.shape().dim(0));
        float[] y = new float[n * outputs];
        backend.download(logits, 0, y, 0, y.length);
        for (int i = 0; i < n; i++, next++) {
            int best = 0;
            for (int c = 1; c < outputs; c++) if (y[i * outputs + c] > y[i * outputs + best]) best = c;
            int label = labels[next];
            grow(Math.max(label, best) + 1);
            total[label]++;
            if (best == label) correct[label]++;
        }
    }

    private void grow(int size) {
        if (size <= total.length) return;
        total = java.util.Arrays.copyOf(total, size);
        correct = java.util.Arrays.copyOf(correct, size);
    }

    /** One class's figures; {@code name} null where the model has no class names. */
    record Row(int index, String name, long correct, long total) {
        double accuracy() { return total == 0 ? 0 : (double) correct / total; }

        String label() { return name != null ? name : "class " + index; }
    }

    /** The classes the data holds samples of, by index, named from {@code names} (the model's; empty for none). */
    List<Row> rows(List<String> names) {
        List<Row> rows = new ArrayList<>();
        for (int c = 0; c < total.length; c++)
            if (total[c] > 0) rows.add(new Row(c, c < names.size() ? names.get(c) : null, correct[c], total[c]));
        return rows;
    }

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
