package dev.shears.core.cuda;

import dev.shears.nativebind.CudaEvent;
import dev.shears.nativebind.CudaStream;

import java.util.Arrays;
import java.util.function.IntConsumer;

/**
 * Shears' one CUDA-event timing loop, used by the GPU sparse planner ({@code CudaSparsePlanner},
 * and through it CudaSparseModel's keep-only-if-faster check and CudaInferenceComparison) and by
 * the GPU benchmarks (bench's GpuBench, and {@code CudaShapeSweep} for SparseGpuBench and
 * {@code shears bench sparse --backend cuda}): {@code warmup} untimed runs, then
 * {@code reps} repetitions, each timed between two CUDA events recorded on the stream the work is
 * queued on; the result is the median repetition.
 *
 * <p>The optional L2 flush is queued on the same stream before each repetition's start event, so
 * it is not part of the time. The benchmarks flush (a 256 MiB fill): they report cold-cache,
 * memory-bound figures, as the PyTorch peers measure theirs. The planner does not: it compares the
 * formats of one layer back to back as a forward pass runs them, and a flush per repetition would
 * cost it a 256 MiB allocation and a memset per timed run for every layer it plans.
 */
public final class EventTiming {
    private EventTiming() {}

    /**
     * Median milliseconds of {@code op}.
     *
     * @param stream the stream {@code op} (and {@code flush}) queue their work on
     * @param warmup untimed runs first (JIT, library plans, first-touch allocations)
     * @param reps   timed repetitions, at least 1
     * @param flush  queues the L2 flush before repetition r (given r, e.g. as the fill value), or null for none
     */
    public static double medianMillis(CudaStream stream, int warmup, int reps, IntConsumer flush, Runnable op) {
        if (reps < 1) throw new IllegalArgumentException("repetitions must be at least 1, got " + reps);
        for (int i = 0; i < warmup; i++) op.run();
        double[] ms = new double[reps];
        try (CudaEvent start = CudaEvent.create(); CudaEvent end = CudaEvent.create()) {
            for (int r = 0; r < ms.length; r++) {
                if (flush != null) flush.accept(r);
                start.record(stream);
                op.run();
                end.record(stream);
                end.synchronize();
                ms[r] = end.millisSince(start);
            }
        }
        return median(ms);
    }

    /** The element at index length / 2 of the sorted times (the upper median for an even count). */
    public static double median(double[] ms) {
        if (ms.length == 0) throw new IllegalArgumentException("median of no times");
        double[] sorted = ms.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }
}
