package dev.shears.kernels;

/** im2col and col2im for one NCHW image (im2col.cu). */
public final class ConvKernels {
    private final KernelRuntime rt;
    private final Kernel im2col, im2colTapMajor, col2im;

    public ConvKernels(KernelRuntime rt) {
        this.rt = rt;
        this.im2col = rt.kernel("shears_im2col");
        this.im2colTapMajor = rt.kernel("shears_im2col_tap_major");
        this.col2im = rt.kernel("shears_col2im");
    }

    /** cols [C*kh*kw, outH*outW] from the image at x. */
    public void im2col(long x, KernelGeometry g, long cols) {
        rt.args().ptr(x).ints(g.packed()).ptr(cols);
        rt.launch1d(im2col, (long) g.channels() * g.kernelH() * g.kernelW() * g.outputPlane());
    }

    /** cols [kh*kw*C, outH*outW] from the image at x, rows in (ki, kj, c) order. */
    public void im2colTapMajor(long x, KernelGeometry g, long cols) {
        rt.args().ptr(x).ints(g.packed()).ptr(cols);
        rt.launch1d(im2colTapMajor, (long) g.channels() * g.kernelH() * g.kernelW() * g.outputPlane());
    }

    /** dx += fold(cols). */
    public void col2im(long cols, KernelGeometry g, long dx) {
        rt.args().ptr(cols).ints(g.packed()).ptr(dx);
        rt.launch1d(col2im, g.channels() * g.inputPlane());
    }
}
