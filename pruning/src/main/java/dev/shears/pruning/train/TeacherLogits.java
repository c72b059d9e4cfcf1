package dev.shears.pruning.train;

import dev.shears.core.backend.Backend;
import dev.shears.core.data.Dataset;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Model;
import dev.shears.core.tensor.Tensor;
import dev.shears.core.util.HeapBudget;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Locale;

/**
 * The frozen teacher's logits for every training sample, computed once per run so that a
 * distillation step need not run the teacher.
 *
 * <p>Why this is sound: the teacher runs in inference mode (no dropout, BatchNorm's running
 * statistics) and is never updated, so without data augmentation its logits for a given training
 * sample are the same at every step of the run. A step takes the rows of its batch's samples (the
 * shuffled indices that gather its inputs and labels) instead of a teacher forward. A recipe that
 * augments changes the images at every step, and {@link GmpTrainer} keeps no table then (the
 * teacher runs on each augmented batch).
 *
 * <p>What may differ from the per-batch teacher: only the float rounding of the teacher's forward
 * at another batch grouping (here the training split in its stored order, in batches of the run's
 * batch size, instead of the shuffled batches). Where a backend's forward computes each row
 * independently of the others in the batch the rows are bit-identical. The table is a pure
 * function of the teacher, the data and the batch size, so a resumed run recomputes it exactly.
 */
final class TeacherLogits {
    /** The default cap on the table's size: 256 MiB. */
    static final long DEFAULT_BUDGET_BYTES = 256L << 20;

    /** the teacher's logits, [samples, classes] row-major, sample i in the training split's order */
    private final float[] table;
    private final int classes;
    private final double seconds;

    private TeacherLogits(float[] table, int classes, double seconds) {
        this.table = table;
        this.classes = classes;
        this.seconds = seconds;
    }

    /** The table's size in bytes for {@code samples} x {@code classes} floats. */
    static long bytes(long samples, int classes) { return samples * classes * 4L; }

    /**
     * Null when a table of {@code samples} x {@code classes} floats fits both {@code budgetBytes}
     * and half the JVM's free heap (the rest of the run needs the other half), else why not.
     */
    static String overBudget(long samples, int classes, long budgetBytes) {
        long bytes = bytes(samples, classes);
        if (bytes > budgetBytes) {
            boolean close = size(bytes).equals(size(budgetBytes)); // so that the message never reads "14.1 KiB over the 14.1 KiB budget"
            return close ? String.format(Locale.ROOT, "%,d bytes over the %,d-byte budget", bytes, budgetBytes)
                    : size(bytes) + " over the " + size(budgetBytes) + " budget";
        }
        long free = HeapBudget.free();
        if (bytes > free / 2) return size(bytes) + " over half the " + size(free) + " of heap this JVM has free (JAVA_OPTS=-Xmx... gives it more)";
        if (samples * classes > Integer.MAX_VALUE - 8) return String.format(Locale.ROOT, "%,d floats, more than a Java array holds", samples * classes);
        return null;
    }

    /**
     * Runs {@code teacher} forward in inference mode over the whole of {@code train}, in its
     * stored order, in batches: the full batches through {@code xFull} ([batch, ...sample]),
     * the partial last one through {@code xTail} ([n % batch, ...sample]; ignored when none).
     */
    static TeacherLogits compute(Model teacher, String logitsNode, Dataset train, Tensor xFull, Tensor xTail) {
        long t0 = System.nanoTime();
        Backend backend = teacher.backend();
        int n = train.count(), per = train.sampleSize();
        int batch = (int) xFull.shape().dim(0);
        int classes = (int) teacher.shapeOf(logitsNode).size();
        float[] table = new float[n * classes];
        ExecContext ctx = new ExecContext(backend, false, 0);
        for (int start = 0; start < n; start += batch) {
            int rows = Math.min(batch, n - start);
            Tensor x = rows == batch ? xFull : xTail;
            backend.write(train.features(), start * per, x, 0, rows * per);
            Tensor logits = teacher.forwardUntil(ctx, List.of(x), logitsNode);
            backend.download(logits, 0, table, start * classes, rows * classes);
        }
        return new TeacherLogits(table, classes, (System.nanoTime() - t0) / 1e9);
    }

    /** Writes the rows of samples {@code order[start .. start + rows)} into {@code dst} ([rows, classes] floats). */
    void gather(int[] order, int start, int rows, float[] dst) {
        for (int r = 0; r < rows; r++) System.arraycopy(table, order[start + r] * classes, dst, r * classes, classes);
    }

    /** {@link #gather} into native memory (a CUDA graph's pinned buffer). */
    void gather(int[] order, int start, int rows, MemorySegment dst) {
        for (int r = 0; r < rows; r++)
            MemorySegment.copy(table, order[start + r] * classes, dst, ValueLayout.JAVA_FLOAT, (long) r * classes * 4, classes);
    }

    /** The teacher's logits of training sample {@code sample} (a copy). */
    float[] row(int sample) {
        float[] r = new float[classes];
        System.arraycopy(table, sample * classes, r, 0, classes);
        return r;
    }

    /** What the log says: samples x classes, the size and the time the pass took. */
    String describe() {
        return String.format(Locale.ROOT, "%,d x %d, %s, %.1f s", table.length / classes, classes, size(bytes(table.length / classes, classes)), seconds);
    }

    /** Bytes as KiB, MiB or GiB, one decimal. */
    static String size(long bytes) {
        if (bytes < 1L << 20) return String.format(Locale.ROOT, "%.1f KiB", bytes / 1024.0);
        if (bytes < 1L << 30) return String.format(Locale.ROOT, "%.1f MiB", bytes / (double) (1L << 20));
        return String.format(Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30));
    }
}
