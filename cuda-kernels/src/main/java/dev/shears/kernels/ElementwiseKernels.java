package dev.shears.kernels;

import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;

/** Element-wise arithmetic and whole-tensor sums (elementwise.cu, reduction.cu). */
public final class ElementwiseKernels {
    private final KernelRuntime rt;
    private final Kernel add, mul, axpy, scale, sum, sumNaive;

    public ElementwiseKernels(KernelRuntime rt) {
        this.rt = rt;
        this.add = rt.kernel("shears_add");
        this.mul = rt.kernel("shears_mul");
        this.axpy = rt.kernel("shears_axpy");
        this.scale = rt.kernel("shears_scale");
        this.sum = rt.kernel("shears_sum");
        this.sumNaive = rt.kernel("shears_sum_naive");
    }

    public void add(long a, long b, long out, long n) {
        if (n == 0) return;
        rt.args().ptr(a).ptr(b).ptr(out).i64(n);
        rt.launch1d(add, n);
    }

    public void mul(long a, long b, long out, long n) {
        if (n == 0) return;
        rt.args().ptr(a).ptr(b).ptr(out).i64(n);
        rt.launch1d(mul, n);
    }

    /** y = alpha * x + y */
    public void axpy(float alpha, long x, long y, long n) {
        if (n == 0) return;
        rt.args().f32(alpha).ptr(x).ptr(y).i64(n);
        rt.launch1d(axpy, n);
    }

    /** x = alpha * x */
    public void scale(long x, float alpha, long n) {
        if (n == 0) return;
        rt.args().ptr(x).f32(alpha).i64(n);
        rt.launch1d(scale, n);
    }

    /** Sum (or sum of squares) in double; waits for the result. */
    public double sum(long x, long n, boolean squares) { return sum(x, n, squares, false); }

    /** As {@link #sum(long, long, boolean)}, optionally with the naive one-atomic-per-element kernel. */
    public double sum(long x, long n, boolean squares, boolean naive) {
        if (n == 0) return 0;
        rt.clearResults();
        rt.args().ptr(x).i64(n).i32(squares ? 1 : 0).ptr(rt.result(0));
        if (naive) rt.launch1d(sumNaive, n); else rt.launch1d(sum, n);
        return rt.readResults().get(JAVA_DOUBLE, 0);
    }
}
