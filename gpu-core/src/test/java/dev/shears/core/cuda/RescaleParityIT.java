package dev.shears.core.cuda;

import dev.shears.core.backend.Backend;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.layers.Rescale;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;

/**
 * The Rescale layer ({@code y = scale * x + offset}: the backend's fill with the offset, then axpy;
 * backward: copy and scale) on the GPU against the CPU, on MobileNetV3's preprocessing (pixels in
 * [0, 255], scale 1/127.5, offset -1) over more elements than one block covers. Tolerances:
 * forward 3e-7 absolute, one ulp of the product (|scale * x| is at most 2): the CPU computes
 * Math.fma, nvcc contracts {@code alpha * x[i] + y[i]} into the same fma, but the emulator's g++
 * may round the product and the sum apart; backward is one multiplication per element on both, so
 * bit-exact.
 */
class RescaleParityIT extends GpuParityFixture {

    @Test
    void forwardAndBackwardMatchTheCpu() {
        int n = 4, c = 3, h = 91, w = 97; // 105 924 elements, an odd count
        Shape s = Shape.of(n, c, h, w);
        float[] x = Parity.uniform((int) s.size(), 31, 0, 255), dy = Parity.uniform((int) s.size(), 32, -1, 1);
        float scale = 1f / 127.5f, offset = -1f;
        float[][] y = new float[2][], dx = new float[2][];
        Backend[] backends = {cpu, gpu};
        for (int i = 0; i < 2; i++) {
            Backend b = backends[i];
            Rescale r = new Rescale("rescaling", scale, offset);
            Tensor tx = b.upload(x, s), tdy = b.upload(dy, s);
            if (b == gpu) {
                keep(tx);
                keep(tdy);
            }
            ExecContext ctx = new ExecContext(b, true, 1);
            Tensor ty = r.forward(ctx, List.of(tx));
            Tensor tdx = r.backward(ctx, tdy, true).get(0);
            if (b == gpu) { // the layer's own buffers: closed before the backend, which refuses to close with buffers outstanding
                keep(ty);
                keep(tdx);
            }
            y[i] = b.download(ty);
            dx[i] = b.download(tdx);
            Parity.assertBitExact("the input is left alone (" + b + ")", x, b.download(tx));
        }
        Parity.assertClose("Rescale forward", y[0], y[1], 3e-7, 0);
        Parity.assertBitExact("Rescale backward", dx[0], dx[1]);
    }
}
