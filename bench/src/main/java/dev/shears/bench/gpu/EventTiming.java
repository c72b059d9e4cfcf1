package dev.shears.bench.gpu;

import dev.shears.nativebind.CudaEvent;
import dev.shears.nativebind.CudaStream;

import java.util.Arrays;
import java.util.function.IntConsumer;

/**
 * The GPU benchmarks' timing loop (GpuBench, SparseGpuBench): one untimed warm-up run, then
 * {@code reps} repetitions, each preceded by an L2 flush and timed between two CUDA events
 * recorded on the stream the work is queued on; the result is the median repetition. The flush
 * is queued on the same stream before the start event, so it is not part of the time.
 */
final class EventTiming {
    private EventTiming() {}

    /**
     * Median milliseconds of {@code op}.
     *
     * @param stream the stream {@code op} and {@code flush} queue their work on
     * @param flush  queues the L2 flush before repetition r (given r, e.g. as the fill value)
     */
    static double medianMs(CudaStream stream, int reps, IntConsumer flush, Runnable op) {
        if (reps < 1) throw new IllegalArgumentException("repetitions must be at least 1, got " + reps);
        op.run();
        double[] ms = new double[reps];
        try (CudaEvent start = CudaEvent.create(); CudaEvent end = CudaEvent.create()) {
            for (int r = 0; r < ms.length; r++) {
                flush.accept(r);
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
    static double median(double[] ms) {
        if (ms.length == 0) throw new IllegalArgumentException("median of no times");
        double[] sorted = ms.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }
}
