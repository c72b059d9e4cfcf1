package dev.shears.kernels;

/**
 * Local response normalisation across channels of [outer, channels, inner], forward and backward
 * (lrn.cu): one thread per (outer, inner) column sliding its window over the channels.
 */
public final class LrnKernels {
    private final KernelRuntime rt;
    private final Kernel forward, backward;

    public LrnKernels(KernelRuntime rt) {
        this.rt = rt;
        this.forward = rt.kernel("shears_lrn");
        this.backward = rt.kernel("shears_lrn_backward");
    }

    private static void check(String op, int size) {
        if (size < 1) throw new IllegalArgumentException(op + ": window size " + size + " < 1");
    }

    /**
     * y = x / (bias + alpha/size * sum of x^2 over the window)^beta. y may not alias x: the sliding
     * window reads channels behind the one it writes.
     */
    public void lrn(long x, long y, int outer, int channels, int inner, int size, float alpha, float beta, float bias) {
        check("lrn", size);
        if (x == y) throw new IllegalArgumentException("lrn: y is x; LRN cannot run in place, give it another buffer");
        long columns = (long) outer * inner;
        if (columns == 0 || channels == 0) return;
        rt.args().ptr(x).ptr(y).i32(outer).i32(channels).i64(inner).i32(size).f32(alpha).f32(beta).f32(bias);
        rt.launch1d(forward, columns);
    }

    /** dx from the forward input x and dy; dx may alias neither. */
    public void lrnBackward(long x, long dy, long dx, int outer, int channels, int inner, int size, float alpha, float beta, float bias) {
        check("lrnBackward", size);
        if (dx == x || dx == dy)
            throw new IllegalArgumentException("lrnBackward: dx is " + (dx == x ? "x" : "dy") + "; it cannot run in place, give it another buffer");
        long columns = (long) outer * inner;
        if (columns == 0 || channels == 0) return;
        rt.args().ptr(x).ptr(dy).ptr(dx).i32(outer).i32(channels).i64(inner).i32(size).f32(alpha).f32(beta).f32(bias);
        rt.launch1d(backward, columns);
    }
}
