package dev.shears.core.cuda;

import dev.shears.core.backend.ConvGeometry;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.tensor.DType;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/**
 * shears_im2col_tap_major (im2col.cu) against its CPU twin CpuBackend.im2colTapMajor on seeded
 * random images, for geometries with stride, dilation, uneven padding, non-square kernels and one
 * channel, at an offset into a batch and into the cols buffer. Tolerance: exact, bit for bit (the
 * kernel only moves values). Also checks that the tap-major rows are the standard im2col's rows
 * reordered on the device, so the two kernels agree with each other as well as with the CPU.
 */
class Im2colTapMajorParityIT extends GpuParityFixture {
    private void check(ConvGeometry g, long seed) {
        int image = g.channels() * g.height() * g.width(), k = g.colRows(), hw = g.colCols(), taps = g.kernelH() * g.kernelW();
        float[] x = Parity.uniform(2 * image, seed, -1, 1);
        int off = 3; // cols written at an offset
        Tensor cx = cpu.upload(x, Shape.of(2 * image)), ccols = cpu.allocate(Shape.of(off + k * hw), DType.FLOAT32);
        cpu.im2colTapMajor(cx, image, g, ccols, off);
        float[] expected = cpu.download(ccols);
        try (Tensor gx = gpu.upload(x, Shape.of(2 * image)); Tensor gcols = gpu.allocate(Shape.of(off + k * hw), DType.FLOAT32);
             Tensor gstd = gpu.allocate(Shape.of(k * hw), DType.FLOAT32)) {
            gpu.write(new float[off + k * hw], 0, gcols, 0, off + k * hw);
            gpu.im2colTapMajor(gx, image, g, gcols, off);
            float[] got = gpu.download(gcols);
            assertArrayEquals(expected, got, g + ": tap-major im2col, GPU against its CPU twin");
            gpu.im2col(gx, image, g, gstd, 0);
            float[] std = gpu.download(gstd);
            for (int c = 0; c < g.channels(); c++)
                for (int t = 0; t < taps; t++)
                    for (int j = 0; j < hw; j++)
                        if (std[(c * taps + t) * hw + j] != got[off + (t * g.channels() + c) * hw + j])
                            fail(g + ": channel " + c + ", tap " + t + ", column " + j + " is not the standard im2col's row moved");
        }
    }

    @Test void matchesTheCpuTwinExactly() {
        // channels, H, W, kh, kw, strideH, strideW, padTop, padLeft, padBottom, padRight, dilationH, dilationW
        check(new ConvGeometry(8, 9, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, false), 1);
        check(new ConvGeometry(6, 7, 8, 3, 2, 2, 1, 1, 0, 2, 1, 2, 1, false), 2);
        check(new ConvGeometry(1, 5, 6, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, false), 3);
        check(new ConvGeometry(12, 5, 5, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, false), 4);
    }
}
