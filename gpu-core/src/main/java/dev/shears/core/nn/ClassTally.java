package dev.shears.core.nn;

import dev.shears.core.backend.Backend;
import dev.shears.core.tensor.Tensor;

import java.util.Arrays;
import java.util.function.BiFunction;

/**
 * Counts right answers per class over one pass of a data set, batch by batch in sample order, from
 * each batch's logits as the forward path returns them ({@link #counting} wraps the path given to
 * {@link Evaluator#evaluateUntil}, so the scoring stays the evaluator's own). The predicted class
 * is {@link Backend#argMaxRows}: the highest logit, the first of equal ones, NaN never winning, as
 * {@link Backend#countCorrect} counts it, so the per-class right answers add up to the evaluator's
 * accuracy.
 *
 * <p>Cost: the backend's arg-max over each batch's logits [n, outputs] and n ints back to the host
 * (on the CUDA backend a kernel, argmax.cu, instead of downloading the n x outputs logits: 4 bytes
 * a sample instead of 40 for 10 classes, 4 KB for 1000). The copy rides on the synchronisation the
 * evaluator's own {@code countCorrect} already makes each batch.
 */
public final class ClassTally {
    /** The data's labels [samples], in the model's class indices. */
    private final int[] labels;
    /** Per class index: samples of the class, and those predicted right; [max(label, prediction) + 1 seen so far]. */
    private long[] total = new long[0], correct = new long[0];
    /** Samples tallied so far (the next batch's first index). */
    private int next;

    public ClassTally(int[] labels) { this.labels = labels; }

    /**
     * One batch's logits, [n, outputs] (any trailing shape of {@code outputs} values a sample; a tensor of more rows than
     * the batch's n, such as a planned model's buffer for a full batch holding a shorter last one, is read for its first n), on
     * {@code backend}. The batch's samples are the next n of the labels.
     */
    public void batch(Backend backend, Tensor logits, int n) {
        if (next + n > labels.length)
            throw new IllegalStateException("per-class tally: a batch of " + n + " after " + next + " samples, but the data has " + labels.length);
        int outputs = Math.toIntExact(logits.shape().size() / logits.shape().dim(0));
        int[] predicted = new int[n];
        backend.argMaxRows(logits, n, outputs, predicted);
        for (int i = 0; i < n; i++, next++) {
            int best = predicted[i];
            int label = labels[next];
            grow(Math.max(label, best) + 1);
            total[label]++;
            if (best == label) correct[label]++;
        }
    }

    /**
     * {@code forwardUntil} (a batch [n, ...] and the node to stop at, to that node's output) that also tallies each
     * batch's output: for {@link Evaluator#evaluateUntil}, which asks for its logits node only.
     */
    public BiFunction<Tensor, String, Tensor> counting(Backend backend, BiFunction<Tensor, String, Tensor> forwardUntil) {
        return (x, node) -> {
            Tensor out = forwardUntil.apply(x, node);
            batch(backend, out, x.shape().dim(0));
            return out;
        };
    }

    /** Samples tallied so far. */
    public int samples() { return next; }

    /** The counts so far. */
    public ClassCounts counts() { return new ClassCounts(correct, total); }

    private void grow(int size) {
        if (size <= total.length) return;
        total = Arrays.copyOf(total, size);
        correct = Arrays.copyOf(correct, size);
    }
}
