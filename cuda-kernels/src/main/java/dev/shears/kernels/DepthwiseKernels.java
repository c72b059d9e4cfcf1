package dev.shears.kernels;

/**
 * Direct depthwise convolution, forward, input gradient and kernel gradient (depthwise.cu): x [n,
 * C, H, W] with kernel [C*m, 1, kh, kw] to y [n, C*m, outH, outW], {@code g.channels()} = C and m the
 * depth multiplier. The kernel gradient takes one block per weight (C*m*kh*kw blocks), or several
 * when the weights are too few to fill the GPU, and sums in double in a fixed order: no atomics,
 * the same bits every run.
 */
public final class DepthwiseKernels {
    private final KernelRuntime rt;
    private final Kernel forward, inputGrad, kernelGrad, kernelGradPartial, partsFinish;

    public DepthwiseKernels(KernelRuntime rt) {
        this.rt = rt;
        this.forward = rt.kernel("shears_depthwise_forward");
        this.inputGrad = rt.kernel("shears_depthwise_input_grad");
        this.kernelGrad = rt.kernel("shears_depthwise_kernel_grad");
        this.kernelGradPartial = rt.kernel("shears_depthwise_kernel_grad_partial");
        this.partsFinish = rt.kernel("shears_channel_parts_finish");
    }

    private static void checkMultiplier(String op, int multiplier) {
        if (multiplier < 1) throw new IllegalArgumentException(op + ": depth multiplier " + multiplier + " must be at least 1");
    }

    /** y [n, C*m, outH, outW] = depthwise(x [n, C, H, W], w [C*m, 1, kh, kw]), y overwritten. */
    public void forward(long x, long w, long y, KernelGeometry g, int batch, int multiplier) {
        checkMultiplier("depthwise forward", multiplier);
        if (batch == 0) return;
        rt.args().ptr(x).ptr(w).ptr(y).ints(g.packed()).i32(batch).i32(multiplier);
        rt.launch1d(forward, (long) batch * g.channels() * multiplier * g.outputPlane());
    }

    /** dx [n, C, H, W] (overwritten) from dy [n, C*m, outH, outW] and w. */
    public void inputGrad(long w, long dy, long dx, KernelGeometry g, int batch, int multiplier) {
        checkMultiplier("depthwise input gradient", multiplier);
        if (batch == 0) return;
        rt.args().ptr(w).ptr(dy).ptr(dx).ints(g.packed()).i32(batch).i32(multiplier);
        rt.launch1d(inputGrad, (long) batch * g.channels() * g.inputPlane());
    }

    /**
     * dW [C*m, 1, kh, kw] += the kernel gradient from x and dy (nothing added for an empty batch).
     * One block per weight when the weights fill the GPU ({@link ChannelParts#of} is 1); otherwise
     * {@code parts} blocks per weight write double partial sums that a second launch adds in a
     * fixed order (deterministic, no atomics), as the bias gradient does.
     */
    public void kernelGrad(long x, long dy, long dW, KernelGeometry g, int batch, int multiplier) {
        checkMultiplier("depthwise kernel gradient", multiplier);
        if (batch == 0) return;
        int weights = Math.toIntExact((long) g.channels() * multiplier * g.kernelH() * g.kernelW());
        int parts = ChannelParts.of(weights, batch * g.outputPlane(), rt.maxGrid());
        if (parts == 1) {
            rt.args().ptr(x).ptr(dy).ptr(dW).ints(g.packed()).i32(batch).i32(multiplier);
            rt.launch(kernelGrad, weights, 1, KernelRuntime.BLOCK, 0);
            return;
        }
        long partial = rt.memory().allocate(8L * weights * parts);
        try {
            rt.args().ptr(x).ptr(dy).ptr(partial).ints(g.packed()).i32(batch).i32(multiplier);
            rt.launch(kernelGradPartial, weights, parts, KernelRuntime.BLOCK, 0);
            rt.args().ptr(partial).ptr(dW).i32(weights).i32(parts).i32(1);
            rt.launch1d(partsFinish, weights);
        } finally {
            rt.memory().free(partial);
        }
    }
}
