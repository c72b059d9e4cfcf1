package dev.shears.kernels;

import dev.shears.nativebind.Cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Launches the batched magnitude-threshold radix select (magnitude_threshold.cu): for each tensor
 * the k-th smallest |w| (layer scope) or one k-th smallest over all (global scope), with the
 * per-tensor counts below and equal to the threshold. Exact; no sort, no concatenation. One
 * upload of the tensor table, one memset, 3 (tiled) or 4 (naive) histogram + select pairs, one
 * download, one stream synchronisation. The tiled passes read the weights twice: pass 2 compacts
 * the keys still in the running, pass 3 reads those (a tile whose keys did not fit is read again).
 */
public final class ThresholdKernels {
    private final KernelRuntime rt;
    private final Kernel histogramNaive;
    private final Kernel histogram;
    private final Kernel select;

    public ThresholdKernels(KernelRuntime rt) {
        this.rt = rt;
        this.histogramNaive = rt.kernel("shears_threshold_histogram_naive");
        this.histogram = rt.kernel("shears_threshold_histogram");
        this.select = rt.kernel("shears_threshold_select");
    }

    /**
     * @param pointers device pointers of the tensors' first elements (FLOAT32)
     * @param plan     sizes, ranks, scope and kernel variant (validated)
     * @param thresholds out: per tensor, its group's threshold
     * @param below    out: per tensor, elements with |w| below its threshold
     * @param equal    out: per tensor, elements with |w| equal to its threshold
     */
    public void select(long[] pointers, ThresholdPlan plan, float[] thresholds, long[] below, long[] equal) {
        int t = plan.tensors(), groups = plan.groups();
        if (pointers.length != t) throw new IllegalArgumentException(pointers.length + " pointers for " + t + " tensors");
        long scratch = rt.memory().allocate(plan.scratchBytes());
        try (Arena arena = Arena.ofConfined()) {
            long[] blockStart = plan.blockStart();
            long[] ranks = plan.initialRanks();
            MemorySegment table = arena.allocate(plan.offBelow(), 8);
            MemorySegment.copy(pointers, 0, table, JAVA_LONG, plan.offPointers(), t);
            MemorySegment.copy(plan.sizes(), 0, table, JAVA_LONG, plan.offSizes(), t);
            MemorySegment.copy(blockStart, 0, table, JAVA_LONG, plan.offBlockStart(), t + 1);
            MemorySegment.copy(ranks, 0, table, JAVA_LONG, plan.offRanks(), groups);
            // Pageable source: CUDA's API synchronization notes say only that such a copy "might be
            // synchronous with respect to host", so the table must outlive it: the arena closes after
            // the stream synchronisation below, or after the wait in the catch when a launch fails.
            Cuda.memcpyHtoDAsync(scratch, table, plan.offBelow(), rt.stream().handle());
            try {
                runPasses(plan, scratch, thresholds, below, equal, arena);
            } catch (RuntimeException | Error e) {
                try {
                    rt.stream().synchronize();
                } catch (RuntimeException waitFailure) {
                    e.addSuppressed(waitFailure);
                }
                throw e;
            }
        } finally {
            rt.memory().free(scratch);
        }
    }

    /** The memset, the digit passes, the download and the checks of {@link #select}, after the table upload. */
    private void runPasses(ThresholdPlan plan, long scratch, float[] thresholds, long[] below, long[] equal, Arena arena) {
        int t = plan.tensors(), groups = plan.groups();
        long[] blockStart = plan.blockStart();
        Cuda.memsetD8Async(scratch + plan.offBelow(), (byte) 0, plan.offHistogramEnd() - plan.offBelow(), rt.stream().handle());

        long ptrs = scratch + plan.offPointers(), sizes = scratch + plan.offSizes();
        long starts = scratch + plan.offBlockStart(), krem = scratch + plan.offRanks();
        long belowDev = scratch + plan.offBelow(), equalDev = scratch + plan.offEqual();
        long prefix = scratch + plan.offPrefix(), hist = scratch + plan.offHistogram();
        long compactCounts = plan.compacts() ? scratch + plan.offCompactCounts() : 0;
        long compactKeys = plan.compacts() ? scratch + plan.offCompactKeys() : 0;
        int global = plan.global() ? 1 : 0;
        long longest = 0;
        for (long s : plan.sizes()) longest = Math.max(longest, s);
        int[][] passes = plan.variant().passes();
        for (int p = 0; p < passes.length; p++) {
            int shift = passes[p][0], bits = passes[p][1];
            int hiMask = ThresholdPlan.hiMask(shift, bits);
            if (plan.variant() == ThresholdPlan.Variant.NAIVE) {
                rt.args().ptr(ptrs).ptr(sizes).i32(global).ptr(prefix).i32(hiMask).i32(shift).i32(bits).ptr(hist);
                rt.launch(histogramNaive, rt.gridFor(longest), t, KernelRuntime.BLOCK, 0);
            } else if (blockStart[t] > 0) {
                // Compaction (magnitude_threshold.cu): pass 2 keeps the keys matching pass 1's
                // prefix, pass 3 reads those instead of the weights where a tile's fit.
                int mode = !plan.compacts() ? 0 : p == 1 ? 1 : p == 2 ? 2 : 0;
                rt.args().ptr(ptrs).ptr(sizes).ptr(starts).i32(t).i32(global).ptr(prefix).i32(hiMask).i32(shift)
                        .i32(bits).ptr(hist).i32(mode).ptr(compactKeys).ptr(compactCounts);
                rt.launch(histogram, blockStart[t], 1, KernelRuntime.BLOCK, 0);
            }
            rt.args().i32(t).i32(global).i32(shift).i32(bits).i32(p == passes.length - 1 ? 1 : 0)
                    .ptr(hist).ptr(prefix).ptr(krem).ptr(belowDev).ptr(equalDev);
            rt.launch(select, groups, 1, 1024, 0);
        }
        long back = plan.offHistogram() - plan.offRanks();
        MemorySegment out = arena.allocate(back, 8);
        Cuda.memcpyDtoHAsync(out, krem, back, rt.stream().handle());
        rt.stream().synchronize();
        long base = plan.offRanks();
        for (int g = 0; g < groups; g++) {
            long left = out.get(JAVA_LONG, plan.offRanks() - base + 8L * g);
            if (left < 1) {
                throw new IllegalStateException("GPU radix select lost the rank of group " + g + " (remaining rank "
                        + left + "): a kernel bug; the CPU backend gives the reference answer");
            }
        }
        for (int i = 0; i < t; i++) {
            int g = plan.global() ? 0 : i;
            thresholds[i] = Float.intBitsToFloat(out.get(JAVA_INT, plan.offPrefix() - base + 4L * g));
            below[i] = out.get(JAVA_LONG, plan.offBelow() - base + 8L * i);
            equal[i] = out.get(JAVA_LONG, plan.offEqual() - base + 8L * i);
        }
    }
}
