package dev.shears.kernels;

import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;

/**
 * Knowledge distillation's soft-target term (distillation.cu): one warp per row, 8 rows per block
 * of 256 threads, the summed loss accumulated in double with one atomic per warp.
 */
public final class DistillationKernels {
    private final KernelRuntime rt;
    private final Kernel distillation;

    public DistillationKernels(KernelRuntime rt) {
        this.rt = rt;
        this.distillation = rt.kernel("shears_distillation");
    }

    /**
     * Summed T^2 * KL(softmax(teacher/T) || softmax(student/T)) over the rows of the [rows, cols]
     * logits; adds weight * T * (softmax(student/T) - softmax(teacher/T)) * gradScale into dLogits
     * (unless 0). Waits for the result.
     */
    public double distillation(long student, long teacher, long dLogits, float weight, float temperature, float gradScale, int rows, int cols) {
        if (rows == 0) return 0;
        rt.clearResults();
        distillationInto(student, teacher, dLogits, weight, temperature, gradScale, rows, cols, rt.result(0));
        return rt.readResults().get(JAVA_DOUBLE, 0);
    }

    /**
     * The kernel alone, adding the summed loss into a caller-owned device double {@code lossSum}:
     * nothing waits and nothing is cleared, so it can be captured in a CUDA graph.
     */
    public void distillationInto(long student, long teacher, long dLogits, float weight, float temperature, float gradScale,
                                 int rows, int cols, long lossSum) {
        if (rows == 0) return;
        rt.args().ptr(student).ptr(teacher).ptr(dLogits).f32(weight).f32(temperature).f32(gradScale).i32(rows).i32(cols).ptr(lossSum);
        rt.launchWarpRows(distillation, rows);
    }
}
