package dev.shears.kernels;

import dev.shears.nativebind.Cuda;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Row-wise softmax family and the fused softmax cross-entropy (softmax.cu, cross_entropy.cu):
 * one warp per row, 8 rows per block of 256 threads.
 */
public final class SoftmaxKernels {
    private final KernelRuntime rt;
    private final Kernel softmax, softmaxNaive, backward, logBackward, crossEntropy, countCorrect;

    public SoftmaxKernels(KernelRuntime rt) {
        this.rt = rt;
        this.softmax = rt.kernel("shears_softmax");
        this.softmaxNaive = rt.kernel("shears_softmax_naive");
        this.backward = rt.kernel("shears_softmax_backward");
        this.logBackward = rt.kernel("shears_log_softmax_backward");
        this.crossEntropy = rt.kernel("shears_softmax_cross_entropy");
        this.countCorrect = rt.kernel("shears_count_correct");
    }

    /** y = softmax(x) (or log-softmax) per row; y may alias x. */
    public void softmax(long x, long y, int rows, int cols, boolean log) { softmax(x, y, rows, cols, log, false); }

    public void softmax(long x, long y, int rows, int cols, boolean log, boolean naive) {
        if (rows == 0 || cols == 0) return;
        rt.args().ptr(x).ptr(y).i32(rows).i32(cols).i32(log ? 1 : 0);
        if (naive) rt.launch1d(softmaxNaive, rows); else rt.launchWarpRows(softmax, rows);
    }

    /** dx = y * (dy - sum(dy * y)) per row. */
    public void softmaxBackward(long y, long dy, long dx, int rows, int cols) {
        if (rows == 0 || cols == 0) return;
        rt.args().ptr(y).ptr(dy).ptr(dx).i32(rows).i32(cols);
        rt.launchWarpRows(backward, rows);
    }

    /** dx = dy - exp(y) * sum(dy) per row, for y = logSoftmax(x). */
    public void logSoftmaxBackward(long y, long dy, long dx, int rows, int cols) {
        if (rows == 0 || cols == 0) return;
        rt.args().ptr(y).ptr(dy).ptr(dx).i32(rows).i32(cols);
        rt.launchWarpRows(logBackward, rows);
    }

    /**
     * Summed cross-entropy of softmax(logits) against INT32 labels; writes dLogits (unless 0) as
     * (softmax - onehot) * gradScale. Waits for the result; a label outside [0, cols) fails
     * naming the first such row.
     */
    public double softmaxCrossEntropy(long logits, long labels, long dLogits, float gradScale, int rows, int cols) {
        if (rows == 0) return 0;
        rt.clearResults();
        // first bad row starts at INT_MAX so atomicMin finds the smallest
        Cuda.memsetD32Async(rt.result(12), Integer.MAX_VALUE, 1, rt.stream().handle());
        rt.args().ptr(logits).ptr(labels).ptr(dLogits).f32(gradScale).i32(rows).i32(cols)
                .ptr(rt.result(0)).ptr(rt.result(8)).ptr(rt.result(12));
        rt.launchWarpRows(crossEntropy, rows);
        MemorySegment r = rt.readResults();
        int bad = r.get(JAVA_INT, 8);
        if (bad != 0) {
            throw new IllegalArgumentException("softmaxCrossEntropy: " + bad + " label(s) outside [0, " + cols
                    + "), the first in row " + r.get(JAVA_INT, 12));
        }
        return r.get(JAVA_DOUBLE, 0);
    }

    /**
     * The cross-entropy kernel alone, adding into caller-owned device results instead of reading
     * back: {@code lossSum} (a double) += the summed loss, {@code badLabels} (a u32) += the rows
     * whose label is outside [0, cols), {@code firstBadRow} (an int) = min(itself, the first such
     * row). Nothing waits and nothing is cleared, so it can be captured in a CUDA graph; the caller
     * clears the results (lossSum and badLabels to 0, firstBadRow to INT_MAX) and reads them.
     */
    public void softmaxCrossEntropyInto(long logits, long labels, long dLogits, float gradScale, int rows, int cols,
                                        long lossSum, long badLabels, long firstBadRow) {
        if (rows == 0) return;
        rt.args().ptr(logits).ptr(labels).ptr(dLogits).f32(gradScale).i32(rows).i32(cols)
                .ptr(lossSum).ptr(badLabels).ptr(firstBadRow);
        rt.launchWarpRows(crossEntropy, rows);
    }

    /** The count-correct kernel alone: {@code correct} (a u32 in device memory) += rows whose first arg-max equals the label; nothing waits. */
    public void countCorrectInto(long logits, long labels, int rows, int cols, long correct) {
        if (rows == 0) return;
        rt.args().ptr(logits).ptr(labels).i32(rows).i32(cols).ptr(correct);
        rt.launchWarpRows(countCorrect, rows);
    }

    /** Rows whose first arg-max equals the label. Waits for the result. */
    public int countCorrect(long logits, long labels, int rows, int cols) {
        if (rows == 0) return 0;
        rt.clearResults();
        rt.args().ptr(logits).ptr(labels).i32(rows).i32(cols).ptr(rt.result(16));
        rt.launchWarpRows(countCorrect, rows);
        return rt.readResults().get(JAVA_INT, 16);
    }
}
