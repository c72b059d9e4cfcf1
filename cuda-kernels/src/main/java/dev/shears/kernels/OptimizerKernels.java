package dev.shears.kernels;

/**
 * Fused masked optimizer steps (optimizer_sgd.cu, optimizer_adam.cu). The vectorised kernels run
 * when every pointer is aligned for 16-byte loads (the mask for 4-byte loads); else the naive ones.
 * Pointers of 0 stand for absent tensors (no mask, no velocity).
 */
public final class OptimizerKernels {
    /** Which kernel runs: the scalar reference, the vectorised one, or the one alignment allows. */
    public enum Variant { NAIVE, VECTORIZED, AUTO }

    private final KernelRuntime rt;
    private final Kernel sgdNaive, sgd, adamNaive, adam;

    public OptimizerKernels(KernelRuntime rt) {
        this.rt = rt;
        this.sgdNaive = rt.kernel("shears_sgd_update_naive");
        this.sgd = rt.kernel("shears_sgd_update");
        this.adamNaive = rt.kernel("shears_adam_update_naive");
        this.adam = rt.kernel("shears_adam_update");
    }

    private static boolean vectorizable(Variant v, long mask, long... floats) {
        if (v == Variant.NAIVE) return false;
        boolean aligned = (mask & 3) == 0;
        for (long p : floats) aligned &= (p & 15) == 0;
        if (v == Variant.VECTORIZED && !aligned) throw new IllegalArgumentException("vectorised optimizer kernel needs 16-byte aligned tensors");
        return aligned;
    }

    /** See {@code Backend.sgdUpdate}; {@code velocity} and {@code mask} may be 0. */
    public void sgd(long w, long g, long velocity, long mask, long n,
                    float lr, float momentum, float weightDecay, boolean nesterov, Variant variant) {
        sgd(w, g, velocity, mask, n, lr, 0, momentum, weightDecay, nesterov, variant);
    }

    /**
     * As above, but with {@code lrOnDevice} non-zero the kernel reads the learning rate from that
     * device address (a float) when it runs, not from {@code lr}: a CUDA graph captures the launch
     * once and the rate is written there before each replay.
     */
    public void sgd(long w, long g, long velocity, long mask, long n,
                    float lr, long lrOnDevice, float momentum, float weightDecay, boolean nesterov, Variant variant) {
        if (n == 0) return;
        boolean vec = vectorizable(variant, mask, w, g, velocity);
        rt.args().ptr(w).ptr(g).ptr(velocity).ptr(mask).i64(n).f32(lr).f32(momentum).f32(weightDecay).i32(nesterov ? 1 : 0)
                .ptr(lrOnDevice);
        if (vec) rt.launch1d(sgd, Math.max(n / 4, 4)); else rt.launch1d(sgdNaive, n);
    }

    /**
     * See {@code Backend.adamUpdate}; {@code mask} may be 0. The derived scalars are rounded to
     * float exactly as the CPU twin rounds them (bias corrections computed in double).
     */
    public void adam(long w, long g, long m, long v, long mask, long n,
                     float lr, float beta1, float beta2, float eps, float weightDecay, boolean decoupled, long step,
                     Variant variant) {
        adam(w, g, m, v, mask, n, lr, beta1, beta2, eps, weightDecay, decoupled, step, 0, variant);
    }

    /**
     * As above, but with {@code scalarsOnDevice} non-zero the kernel reads {lr, bc1, bc2} (three
     * floats, {@link #biasCorrection} rounding) from that device address when it runs, and forms
     * the decoupled decay from that lr: a CUDA graph captures the launch once and these are
     * written there before each replay ({@code lr} and {@code step} are then ignored).
     */
    public void adam(long w, long g, long m, long v, long mask, long n,
                     float lr, float beta1, float beta2, float eps, float weightDecay, boolean decoupled, long step,
                     long scalarsOnDevice, Variant variant) {
        if (step < 1) throw new IllegalArgumentException("adamUpdate: step must be 1-based, got " + step);
        if (n == 0) return;
        float bc1 = biasCorrection(beta1, step);
        float bc2 = biasCorrection(beta2, step);
        float ob1 = 1 - beta1, ob2 = 1 - beta2;
        float cwd = decoupled ? 0f : weightDecay;
        float dwd = decoupled ? lr * weightDecay : 0f;
        boolean vec = vectorizable(variant, mask, w, g, m, v);
        rt.args().ptr(w).ptr(g).ptr(m).ptr(v).ptr(mask).i64(n)
                .f32(lr).f32(beta1).f32(beta2).f32(ob1).f32(ob2).f32(eps).f32(cwd).f32(dwd).f32(bc1).f32(bc2)
                .ptr(scalarsOnDevice).f32(decoupled ? weightDecay : 0f);
        if (vec) rt.launch1d(adam, Math.max(n / 4, 4)); else rt.launch1d(adamNaive, n);
    }

    /** Adam's bias correction 1 - beta^step, computed in double and rounded to float as the CPU twin does. */
    public static float biasCorrection(float beta, long step) { return (float) (1 - Math.pow(beta, step)); }
}
