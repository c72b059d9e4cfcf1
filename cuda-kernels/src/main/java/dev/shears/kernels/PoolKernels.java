package dev.shears.kernels;

/** Max and average pooling, forward and backward (pooling.cu); backward passes gather. */
public final class PoolKernels {
    private final KernelRuntime rt;
    private final Kernel max, maxBackward, avg, avgBackward;

    public PoolKernels(KernelRuntime rt) {
        this.rt = rt;
        this.max = rt.kernel("shears_max_pool");
        this.maxBackward = rt.kernel("shears_max_pool_backward");
        this.avg = rt.kernel("shears_avg_pool");
        this.avgBackward = rt.kernel("shears_avg_pool_backward");
    }

    private static long outputs(KernelGeometry g, int batch) { return (long) batch * g.channels() * g.outputPlane(); }

    private static long inputs(KernelGeometry g, int batch) { return (long) batch * g.channels() * g.inputPlane(); }

    /** argmax may be 0 (not wanted). */
    public void maxPool(long x, long y, long argmax, KernelGeometry g, int batch) {
        if (batch == 0) return;
        rt.args().ptr(x).ptr(y).ptr(argmax).ints(g.packed()).i32(batch);
        rt.launch1d(max, outputs(g, batch));
    }

    public void maxPoolBackward(long dy, long argmax, long dx, KernelGeometry g, int batch) {
        if (batch == 0) return;
        rt.args().ptr(dy).ptr(argmax).ptr(dx).ints(g.packed()).i32(batch);
        rt.launch1d(maxBackward, inputs(g, batch));
    }

    public void avgPool(long x, long y, KernelGeometry g, int batch, boolean countIncludePad) {
        if (batch == 0) return;
        rt.args().ptr(x).ptr(y).ints(g.packed()).i32(batch).i32(countIncludePad ? 1 : 0);
        rt.launch1d(avg, outputs(g, batch));
    }

    public void avgPoolBackward(long dy, long dx, KernelGeometry g, int batch, boolean countIncludePad) {
        if (batch == 0) return;
        rt.args().ptr(dy).ptr(dx).ints(g.packed()).i32(batch).i32(countIncludePad ? 1 : 0);
        rt.launch1d(avgBackward, inputs(g, batch));
    }
}
