package dev.shears.cli;

import java.util.Locale;

/**
 * Which of a run's inference batch sizes ({@code --inference-batches}) are worth timing, judged by
 * a smaller one already timed. Timing a batch size runs dozens of forwards of each path (planning,
 * the whole-model check, settling, the interleaved rounds): a pruned SqueezeNet on ImageNet-sized
 * images, 16 ms a forward at batch 1 on two cores, spent over four minutes at the default batch 64
 * after one minute of training, saying nothing; ResNet-50 would have spent far longer.
 * One budget serves one report section's loop over the batch sizes ({@link InferenceReport},
 * {@link ThinningReport}): {@link #allows} before timing a batch size, {@link #timed} after.
 */
final class TimingBudget {
    private final Progress progress;
    /** The last batch size timed (0: none yet) and one forward's milliseconds there. */
    private int timedBatch;
    private double timedMs;

    /** A budget that says on {@code progress} which batch sizes it skips, and why. */
    TimingBudget(Progress progress) { this.progress = progress; }

    /** Whether {@code batch} is worth timing, judged by the last batch size {@link #timed}; when not, says why ({@link #skipReason}). */
    boolean allows(int batch) {
        String skip = skipReason(batch, timedBatch, timedMs);
        if (skip != null) progress.line(skip);
        return skip == null;
    }

    /** Records that {@code batch} was timed at {@code forwardMs} a forward, the measure later batch sizes are judged by. */
    void timed(int batch, double forwardMs) {
        timedBatch = batch;
        timedMs = forwardMs;
    }

    /** A forward estimated above this is not timed (milliseconds). LeNet-300-100 at batch 64: 0.2 ms. */
    static final double MAX_FORWARD_MS = 500;

    /**
     * Why {@code batch} is not timed, or null when it is: when {@code timedMs} (one forward at
     * {@code timedBatch}, already measured; 0 or less: none yet) scaled linearly to {@code batch}
     * exceeds {@link #MAX_FORWARD_MS}. A batch size given alone is always timed, which is the way
     * to time it anyway.
     */
    static String skipReason(int batch, int timedBatch, double timedMs) {
        if (timedBatch < 1 || timedMs <= 0 || batch <= timedBatch) return null;
        double estimate = timedMs * batch / timedBatch;
        if (estimate <= MAX_FORWARD_MS) return null;
        return String.format(Locale.ROOT, "batch %d not timed: one forward would take about %.1f s (%.3f ms at batch %d, scaled), and"
                + " timing runs dozens of them; give --inference-batches %d alone to time it anyway", batch, estimate / 1000, timedMs,
                timedBatch, batch);
    }
}
