package dev.shears.kernels;

/**
 * Inverted dropout with the counter-based generator shared with the CPU (dropout.cu). The caller
 * passes the 24-bit drop threshold and the scale exactly as the CPU computes them
 * ({@code DropoutHash.threshold(rate)} and {@code DropoutHash.scale(rate)}).
 */
public final class DropoutKernels {
    private final KernelRuntime rt;
    private final Kernel forward, backward;

    public DropoutKernels(KernelRuntime rt) {
        this.rt = rt;
        this.forward = rt.kernel("shears_dropout");
        this.backward = rt.kernel("shears_dropout_backward");
    }

    public void dropout(long x, long y, long keepMask, long n, long seed, int threshold, float scale) {
        dropout(x, y, keepMask, n, seed, 0, 0, threshold, scale);
    }

    /**
     * As above, but with {@code stepSeedOnDevice} non-zero the kernel ignores {@code seed} and uses
     * {@code DropoutHash.mix(stepSeed, salt)} of the 64-bit step seed at that device address, read
     * when it runs: a CUDA graph captures the launch once and the step seed is written there
     * before each replay.
     */
    public void dropout(long x, long y, long keepMask, long n, long seed, long stepSeedOnDevice, long salt, int threshold, float scale) {
        if (threshold < 0 || threshold > (1 << 24)) throw new IllegalArgumentException("dropout threshold " + threshold + " outside [0, 2^24]");
        if (n == 0) return;
        rt.args().ptr(x).ptr(y).ptr(keepMask).i64(n).i64(seed).i32(threshold).f32(scale).ptr(stepSeedOnDevice).i64(salt);
        rt.launch1d(forward, n);
    }

    public void dropoutBackward(long dy, long keepMask, long dx, long n, float scale) {
        if (n == 0) return;
        rt.args().ptr(dy).ptr(keepMask).ptr(dx).i64(n).f32(scale);
        rt.launch1d(backward, n);
    }
}
