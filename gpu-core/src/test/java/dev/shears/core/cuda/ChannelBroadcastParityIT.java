package dev.shears.core.cuda;

import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Layer;
import dev.shears.core.nn.layers.Add;
import dev.shears.core.nn.layers.Multiply;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;

/**
 * The broadcasting Add and Multiply (a [C, H, W] map and a [C, 1, 1] per-channel tensor, either
 * order) on the GPU against the CPU: forward, the map's and the per-channel input's gradients.
 * Their CUDA path is the bias kernels of bias.cu (Add: shears_add_bias forward over the view
 * [1, N*C, H*W]; both: shears_bias_grad / its split form for the per-plane sums) and a batched
 * cuBLAS GEMM with k = 1 (Multiply). Shapes cover few planes (the split bias gradient), many
 * planes, and a plane larger than a block.
 *
 * <p>Tolerances ({@code |gpu - cpu| <= atol + rtol * |cpu|}; inputs uniform in [-1, 1]): forward
 * and the map's gradient are one rounded sum or product per element on both sides, so equal
 * (atol 0, rtol 0); the per-channel gradient sums H*W (up to 1,225 here) values, in float on the
 * CPU (CpuBackend.biasGrad) and in double rounded once on the GPU, so they differ by the CPU's
 * float rounding, about u * sqrt(count) * |partial sum| (u = 2^-24), well under 1e-5 for these
 * sizes: atol 1e-5, rtol 1e-5.
 *
 * <p>The layers own their output and gradient buffers, so the GPU backend is created with
 * {@link CudaBackend.LeakPolicy#RELEASE} (as in {@link SeMobileNetTrainingParityIT}) and frees them on close.
 */
class ChannelBroadcastParityIT {
    private static final double SA = 1e-5, SR = 1e-5;

    private static float[][] run(Backend be, Layer layer, float[] map, float[] per, float[] dy, Shape ms, Shape ps, boolean perFirst) {
        Tensor x = be.upload(map, ms), p = be.upload(per, ps), d = be.upload(dy, ms);
        ExecContext ctx = new ExecContext(be, true, 0);
        Tensor y = layer.forward(ctx, perFirst ? List.of(p, x) : List.of(x, p));
        float[] yv = be.download(y);
        List<Tensor> g = layer.backward(ctx, d, true);
        return new float[][]{yv, be.download(g.get(perFirst ? 1 : 0)), be.download(g.get(perFirst ? 0 : 1))};
    }

    private static void check(int n, int c, int h, int w, long seed) {
        GpuTestSupport.assumeCuda();
        try (CudaBackend gpu = CudaBackend.create(0, CudaBackend.LeakPolicy.RELEASE); CpuBackend cpu = new CpuBackend(2)) {
            check(gpu, cpu, n, c, h, w, seed);
        }
    }

    private static void check(CudaBackend gpu, CpuBackend cpu, int n, int c, int h, int w, long seed) {
        Shape ms = Shape.of(n, c, h, w), ps = Shape.of(n, c, 1, 1);
        float[] map = Parity.uniform(n * c * h * w, seed, -1, 1), per = Parity.uniform(n * c, seed + 1, -1, 1);
        float[] dy = Parity.uniform(n * c * h * w, seed + 2, -1, 1);
        for (boolean perFirst : new boolean[]{false, true}) {
            for (boolean multiply : new boolean[]{false, true}) {
                String what = (multiply ? "Multiply" : "Add") + " " + ms + " with " + ps + (perFirst ? " (per-channel first)" : "");
                float[][] ref = run(cpu, multiply ? new Multiply("m") : new Add("a"), map, per, dy, ms, ps, perFirst);
                float[][] got = run(gpu, multiply ? new Multiply("m") : new Add("a"), map, per, dy, ms, ps, perFirst);
                Parity.assertClose(what + " forward", ref[0], got[0], 0, 0);
                Parity.assertClose(what + " map gradient", ref[1], got[1], 0, 0);
                Parity.assertClose(what + " per-channel gradient", ref[2], got[2], SA, SR);
            }
        }
    }

    @Test void fewPlanes() { check(1, 3, 9, 11, 1); }

    @Test void manyPlanes() { check(4, 40, 5, 5, 11); }

    @Test void aPlaneLargerThanABlock() { check(2, 2, 35, 35, 21); }
}
