package dev.shears.kernels;

/** im2col and col2im for one NCHW image, and for a batch of images side by side (im2col.cu). */
public final class ConvKernels {
    private final KernelRuntime rt;
    private final Kernel im2col, im2colTapMajor, col2im, im2colBatch, col2imBatch;

    public ConvKernels(KernelRuntime rt) {
        this.rt = rt;
        this.im2col = rt.kernel("shears_im2col");
        this.im2colTapMajor = rt.kernel("shears_im2col_tap_major");
        this.col2im = rt.kernel("shears_col2im");
        this.im2colBatch = rt.kernel("shears_im2col_batch");
        this.col2imBatch = rt.kernel("shears_col2im_batch");
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

    /** cols [C*kh*kw, images*outH*outW] from the images [images, C, H, W] at x, image i in columns [i*outH*outW, (i+1)*outH*outW). */
    public void im2colBatch(long x, KernelGeometry g, int images, long cols) {
        rt.args().ptr(x).ints(g.packed()).i32(images).ptr(cols);
        rt.launch1d(im2colBatch, (long) g.channels() * g.kernelH() * g.kernelW() * g.outputPlane() * images);
    }

    /** dx [images, C, H, W] += fold(cols [C*kh*kw, images*outH*outW]). */
    public void col2imBatch(long cols, KernelGeometry g, int images, long dx) {
        rt.args().ptr(cols).ints(g.packed()).i32(images).ptr(dx);
        rt.launch1d(col2imBatch, (long) g.channels() * g.inputPlane() * images);
    }
}
