package dev.shears.core.cuda;

import dev.shears.core.backend.ConvGeometry;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * shears_im2col_batch and shears_col2im_batch (im2col.cu) against their CPU twins
 * CpuBackend.im2colBatch and col2imBatch on seeded random images: geometries with stride,
 * dilation, uneven padding, ceil mode, a 1x1 kernel and one channel, at offsets into both buffers,
 * with the rest of the output left alone. Tolerance: im2colBatch exact (it only moves values);
 * col2imBatch into zeros exact too (both sum an element's taps in (ki, kj) order from 0, which is
 * what Conv2D does), and into a non-zero dx within 1 ulp-scale rounding (the GPU adds the taps'
 * sum to dx, the CPU adds each tap to dx).
 */
class Im2colBatchParityIT extends GpuParityFixture {
    private void check(ConvGeometry g, int images, long seed) {
        int image = g.channels() * g.height() * g.width(), size = images * g.colRows() * g.colCols();
        int xOff = 5, cOff = 3;
        float[] x = Parity.uniform(xOff + images * image, seed, -1, 1), c0 = Parity.uniform(cOff + size + 2, seed + 1, -1, 1);
        Tensor cx = cpu.upload(x, Shape.of(x.length)), ccols = cpu.upload(c0, Shape.of(c0.length));
        cpu.im2colBatch(cx, xOff, images, g, ccols, cOff);
        float[] cols = Parity.uniform(size, seed + 2, -1, 1), dx0 = Parity.uniform(xOff + images * image, seed + 3, -1, 1);
        Tensor ccv = cpu.upload(cols, Shape.of(size));
        Tensor cdx = cpu.upload(dx0, Shape.of(dx0.length)), cdz = cpu.allocate(Shape.of(dx0.length), dev.shears.core.tensor.DType.FLOAT32);
        cpu.col2imBatch(ccv, 0, images, g, cdx, xOff);
        cpu.col2imBatch(ccv, 0, images, g, cdz, xOff);
        try (Tensor gx = gpu.upload(x, Shape.of(x.length)); Tensor gcols = gpu.upload(c0, Shape.of(c0.length));
             Tensor gcv = gpu.upload(cols, Shape.of(size)); Tensor gdx = gpu.upload(dx0, Shape.of(dx0.length));
             Tensor gdz = gpu.allocate(Shape.of(dx0.length), dev.shears.core.tensor.DType.FLOAT32)) {
            gpu.im2colBatch(gx, xOff, images, g, gcols, cOff);
            Parity.assertBitExact(g + ", " + images + " images: im2colBatch", cpu.download(ccols), gpu.download(gcols));
            gpu.col2imBatch(gcv, 0, images, g, gdz, xOff);
            Parity.assertBitExact(g + ", " + images + " images: col2imBatch into zeros", cpu.download(cdz), gpu.download(gdz));
            gpu.col2imBatch(gcv, 0, images, g, gdx, xOff);
            Parity.assertClose(g + ", " + images + " images: col2imBatch accumulating", cpu.download(cdx), gpu.download(gdx), 1e-6, 1e-6);
        }
    }

    @Test void matchesTheCpuTwins() {
        // channels, H, W, kh, kw, strideH, strideW, padTop, padLeft, padBottom, padRight, dilationH, dilationW, ceil
        check(new ConvGeometry(8, 9, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, false), 3, 1);
        check(new ConvGeometry(6, 7, 8, 3, 2, 2, 1, 1, 0, 2, 1, 2, 1, false), 4, 2);
        check(new ConvGeometry(1, 5, 6, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, false), 5, 3);
        check(new ConvGeometry(12, 5, 5, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, false), 2, 4);
        check(new ConvGeometry(3, 7, 7, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, true), 3, 5);
        check(new ConvGeometry(2, 6, 6, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, false), 1, 6);
        // big enough that each thread of a capped grid (the emulator's 64 blocks of 256) takes several
        // grid-stride steps over odd sizes: the kernels' Digits counters carry through every digit
        check(new ConvGeometry(6, 29, 23, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, false), 10, 7);
    }
}
