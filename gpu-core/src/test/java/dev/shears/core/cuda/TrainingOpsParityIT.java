package dev.shears.core.cuda;

import dev.shears.core.backend.Activation;
import dev.shears.core.backend.Backend;
import dev.shears.core.backend.ConvGeometry;
import dev.shears.core.tensor.DType;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The training primitives against the CPU backend on shapes larger than the contract test's, so
 * the GPU-only paths run: grid-stride loops over many blocks, rows wider than a warp, channel
 * reductions longer than a block, pooling with padding and ceil mode. Tolerances, and why:
 * <ul>
 *   <li>exact: selections and integer results (max pooling and its arg-max, im2col, counts);</li>
 *   <li>1e-6 + 2e-5 relative: one float expression per element where the GPU's expf/tanhf/log1pf
 *       may be a few ulp from Java's correctly rounded Math (activations, bias add);</li>
 *   <li>2e-5 + 1e-4 relative: sums of hundreds to thousands of terms in a different order
 *       (softmax rows, bias gradients, batch-norm statistics, col2im, pooling backward).</li>
 * </ul>
 */
class TrainingOpsParityIT extends GpuParityFixture {
    private static final double EA = 1e-6, ER = 2e-5, RA = 2e-5, RR = 1e-4;

    /** The same data on both backends. */
    private record Pair(Tensor c, Tensor g) {}

    private Pair up(float[] v, int... dims) {
        Tensor g = keep(gpu.upload(v, Shape.of(dims)));
        return new Pair(cpu.upload(v, Shape.of(dims)), g);
    }

    private Pair ints(int[] v, int... dims) {
        Tensor g = keep(gpu.uploadInts(v, Shape.of(dims)));
        return new Pair(cpu.uploadInts(v, Shape.of(dims)), g);
    }

    private Pair zeros(DType t, int... dims) {
        Tensor g = keep(gpu.allocate(Shape.of(dims), t));
        return new Pair(cpu.allocate(Shape.of(dims), t), g);
    }

    private void close(String what, Pair p, double atol, double rtol) {
        Parity.assertClose(what, cpu.download(p.c()), gpu.download(p.g()), atol, rtol);
    }

    @Test
    void activationsForwardAndBackward() {
        int n = 300_007;
        float[] x = Parity.uniform(n, 1, -6, 6), dy = Parity.uniform(n, 2, -1, 1);
        for (Activation f : Activation.values()) {
            Pair px = up(x, n), pdy = up(dy, n), py = zeros(DType.FLOAT32, n), pdx = zeros(DType.FLOAT32, n);
            // a cap inside [-6, 6], so both kinks are crossed; HARD_SIGMOID is Keras 2's
            float alpha = f == Activation.RELU_CAPPED ? 4f : f == Activation.HARD_SIGMOID ? Activation.HARD_SIGMOID_SLOPE : 0.3f;
            float beta = f == Activation.HARD_SIGMOID ? Activation.HARD_SIGMOID_OFFSET : 0f;
            for (Backend b : new Backend[] {cpu, gpu}) {
                boolean isCpu = b == cpu;
                b.activation(f, alpha, beta, isCpu ? px.c() : px.g(), isCpu ? py.c() : py.g());
                b.activationBackward(f, alpha, beta, isCpu ? px.c() : px.g(), isCpu ? py.c() : py.g(),
                        isCpu ? pdy.c() : pdy.g(), isCpu ? pdx.c() : pdx.g());
            }
            close(f + " forward", py, EA, ER);
            close(f + " backward", pdx, EA, ER);
        }
    }

    /** HARD_SIGMOID's slope and offset reach the kernel: Keras 3's 1/6, 0.5 (kinks +-3), a negative slope, an offset above 1. */
    @Test
    void hardSigmoidWithSlopeAndOffset() {
        int n = 100_003;
        float[] x = Parity.uniform(n, 11, -6, 6), dy = Parity.uniform(n, 12, -1, 1);
        x[0] = -3f; x[1] = 3f; x[2] = -0.75f; x[3] = 1.75f; // on the kinks of the first two
        float[][] params = {{1f / 6, 0.5f}, {-0.4f, 0.3f}, {0.5f, 1.5f}};
        for (float[] ab : params) {
            Pair px = up(x, n), pdy = up(dy, n), py = zeros(DType.FLOAT32, n), pdx = zeros(DType.FLOAT32, n);
            for (Backend b : new Backend[] {cpu, gpu}) {
                boolean isCpu = b == cpu;
                b.activation(Activation.HARD_SIGMOID, ab[0], ab[1], isCpu ? px.c() : px.g(), isCpu ? py.c() : py.g());
                b.activationBackward(Activation.HARD_SIGMOID, ab[0], ab[1], isCpu ? px.c() : px.g(), isCpu ? py.c() : py.g(),
                        isCpu ? pdy.c() : pdy.g(), isCpu ? pdx.c() : pdx.g());
            }
            close("HARD_SIGMOID " + ab[0] + ", " + ab[1] + " forward", py, EA, ER);
            // the kinks are computed by the same IEEE division on both sides: the gradient's mask is identical
            close("HARD_SIGMOID " + ab[0] + ", " + ab[1] + " backward", pdx, 0, 0);
        }
    }

    @Test
    void biasAndPrelu() {
        int outer = 64, channels = 37, inner = 300;
        int n = outer * channels * inner;
        Pair x = up(Parity.uniform(n, 3, -1, 1), n), bias = up(Parity.uniform(channels, 4, -1, 1), channels);
        Pair dBias = up(Parity.uniform(channels, 5, -1, 1), channels);
        cpu.addBias(x.c(), bias.c(), outer, channels, inner);
        gpu.addBias(x.g(), bias.g(), outer, channels, inner);
        close("addBias", x, EA, ER);
        for (boolean acc : new boolean[] {true, false}) {
            cpu.biasGrad(x.c(), dBias.c(), outer, channels, inner, acc);
            gpu.biasGrad(x.g(), dBias.g(), outer, channels, inner, acc);
            close("biasGrad accumulate=" + acc, dBias, RA * inner, RR);
        }
        Pair slope = up(Parity.uniform(channels, 6, 0, 0.5), channels), y = zeros(DType.FLOAT32, n);
        Pair dy = up(Parity.uniform(n, 7, -1, 1), n), dx = zeros(DType.FLOAT32, n), dSlope = zeros(DType.FLOAT32, channels);
        cpu.prelu(x.c(), slope.c(), y.c(), outer, channels, inner);
        gpu.prelu(x.g(), slope.g(), y.g(), outer, channels, inner);
        close("prelu", y, EA, ER);
        cpu.preluBackward(x.c(), slope.c(), dy.c(), dx.c(), dSlope.c(), outer, channels, inner);
        gpu.preluBackward(x.g(), slope.g(), dy.g(), dx.g(), dSlope.g(), outer, channels, inner);
        close("prelu dx", dx, EA, ER);
        close("prelu dSlope", dSlope, RA * inner, RR);
    }

    /**
     * Few channels, so BiasKernels splits each channel over several blocks (partial sums, then a
     * second launch adding them in order): within the reduction tolerance of the CPU twin, and the
     * same bits on a second run (no atomics). Shapes: a conv-like [64, 3, 300] and a dense-like
     * [5000, 3, 1] (inner 1: the bias of a Linear layer).
     */
    @Test
    void biasGradSplitOverBlocksIsCloseAndDeterministic() {
        int[][] shapes = {{64, 3, 300}, {5000, 3, 1}};
        for (int[] sh : shapes) {
            int outer = sh[0], channels = sh[1], inner = sh[2], n = outer * channels * inner;
            Pair dy = up(Parity.uniform(n, 11, -1, 1), n);
            for (boolean acc : new boolean[] {false, true}) {
                float[] start = Parity.uniform(channels, 12, -1, 1);
                Pair dBias = up(start, channels);
                cpu.biasGrad(dy.c(), dBias.c(), outer, channels, inner, acc);
                gpu.biasGrad(dy.g(), dBias.g(), outer, channels, inner, acc);
                String what = "biasGrad [" + outer + ", " + channels + ", " + inner + "] accumulate=" + acc;
                close(what, dBias, RA * Math.max(inner, Math.sqrt(outer)), RR);
                Pair again = up(start, channels);
                gpu.biasGrad(dy.g(), again.g(), outer, channels, inner, acc);
                assertArrayEquals(gpu.download(dBias.g()), gpu.download(again.g()), what + ": differs between two runs");
            }
        }
    }

    @Test
    void softmaxFamilyAndCrossEntropy() {
        for (int cols : new int[] {10, 33, 1000}) {
            int rows = 517, n = rows * cols;
            float[] xs = Parity.uniform(n, cols, -8, 8);
            Pair x = up(xs, rows, cols), y = zeros(DType.FLOAT32, rows, cols), ly = zeros(DType.FLOAT32, rows, cols);
            Pair dy = up(Parity.uniform(n, 9, -1, 1), rows, cols), dx = zeros(DType.FLOAT32, rows, cols);
            Pair ldx = zeros(DType.FLOAT32, rows, cols);
            cpu.softmax(x.c(), y.c(), rows, cols);
            gpu.softmax(x.g(), y.g(), rows, cols);
            close("softmax cols=" + cols, y, RA, RR);
            cpu.logSoftmax(x.c(), ly.c(), rows, cols);
            gpu.logSoftmax(x.g(), ly.g(), rows, cols);
            close("logSoftmax cols=" + cols, ly, RA, RR);
            cpu.softmaxBackward(y.c(), dy.c(), dx.c(), rows, cols);
            gpu.softmaxBackward(y.g(), dy.g(), dx.g(), rows, cols);
            close("softmaxBackward cols=" + cols, dx, RA, RR);
            cpu.logSoftmaxBackward(ly.c(), dy.c(), ldx.c(), rows, cols);
            gpu.logSoftmaxBackward(ly.g(), dy.g(), ldx.g(), rows, cols);
            close("logSoftmaxBackward cols=" + cols, ldx, RA * Math.sqrt(cols), RR);

            // the naive kernel (one thread per row) agrees with the warp-per-row one
            Pair yn = zeros(DType.FLOAT32, rows, cols);
            gpu.softmaxKernels().softmax(((CudaTensor) x.g()).pointer(), ((CudaTensor) yn.g()).pointer(), rows, cols, false, true);
            Parity.assertClose("naive softmax cols=" + cols, gpu.download(y.g()), gpu.download(yn.g()), RA, RR);

            int[] labels = new int[rows];
            SplittableRandom r = new SplittableRandom(cols);
            for (int i = 0; i < rows; i++) labels[i] = r.nextInt(cols);
            Pair lab = ints(labels, rows), dl = zeros(DType.FLOAT32, rows, cols);
            double lc = cpu.softmaxCrossEntropy(x.c(), lab.c(), dl.c(), 1f / rows, rows, cols);
            double lg = gpu.softmaxCrossEntropy(x.g(), lab.g(), dl.g(), 1f / rows, rows, cols);
            Parity.assertClose("cross-entropy loss cols=" + cols, lc, lg, 1e-3, 1e-5);
            close("cross-entropy gradient cols=" + cols, dl, 1e-7, RR);
            assertEquals(cpu.countCorrect(x.c(), lab.c(), rows, cols), gpu.countCorrect(x.g(), lab.g(), rows, cols));
        }
    }

    @Test
    void crossEntropyRejectsALabelOutOfRangeNamingTheRow() {
        Pair x = up(new float[12], 3, 4), lab = ints(new int[] {0, 4, 1}, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> gpu.softmaxCrossEntropy(x.g(), lab.g(), null, 1f, 3, 4));
        assertTrue(e.getMessage().contains("row 1"), e.getMessage());
    }

    @Test
    void im2colCol2imAndPooling() {
        ConvGeometry[] geometries = {
                ConvGeometry.simple(3, 28, 28, 5, 1, 2),
                new ConvGeometry(8, 17, 13, 3, 2, 2, 1, 1, 0, 2, 1, 2, 1, false),
                new ConvGeometry(4, 15, 15, 3, 3, 2, 2, 0, 0, 0, 0, 1, 1, true)};
        for (ConvGeometry g : geometries) {
            int in = g.channels() * g.height() * g.width(), colN = g.colRows() * g.colCols();
            Pair x = up(Parity.uniform(in, in, -1, 1), in), cols = zeros(DType.FLOAT32, colN);
            cpu.im2col(x.c(), 0, g, cols.c(), 0);
            gpu.im2col(x.g(), 0, g, cols.g(), 0);
            Parity.assertBitExact("im2col " + g, cpu.download(cols.c()), gpu.download(cols.g()));
            Pair dx = up(Parity.uniform(in, 5, -1, 1), in);
            cpu.col2im(cols.c(), 0, g, dx.c(), 0);
            gpu.col2im(cols.g(), 0, g, dx.g(), 0);
            close("col2im " + g, dx, RA, RR);

            int batch = 5, out = batch * g.channels() * g.outH() * g.outW(), inB = batch * in;
            Pair xb = up(Parity.uniform(inB, 77, -1, 1), inB), y = zeros(DType.FLOAT32, out), arg = zeros(DType.INT32, out);
            cpu.maxPool(xb.c(), y.c(), arg.c(), g, batch);
            gpu.maxPool(xb.g(), y.g(), arg.g(), g, batch);
            Parity.assertBitExact("maxPool " + g, cpu.download(y.c()), gpu.download(y.g()));
            assertArrayEquals(dev.shears.core.cpu.CpuTensor.i(arg.c()), gpu.downloadInts(arg.g()), "maxPool argmax " + g);
            Pair dy = up(Parity.uniform(out, 78, -1, 1), out), dxb = up(Parity.uniform(inB, 79, -1, 1), inB);
            cpu.maxPoolBackward(dy.c(), arg.c(), dxb.c(), g, batch);
            gpu.maxPoolBackward(dy.g(), arg.g(), dxb.g(), g, batch);
            close("maxPoolBackward " + g, dxb, RA, RR);
            for (boolean includePad : new boolean[] {true, false}) {
                cpu.avgPool(xb.c(), y.c(), g, batch, includePad);
                gpu.avgPool(xb.g(), y.g(), g, batch, includePad);
                close("avgPool " + g + " includePad=" + includePad, y, RA, RR);
                cpu.avgPoolBackward(dy.c(), dxb.c(), g, batch, includePad);
                gpu.avgPoolBackward(dy.g(), dxb.g(), g, batch, includePad);
                close("avgPoolBackward " + g + " includePad=" + includePad, dxb, RA, RR);
            }
        }
    }

    @Test
    void batchNormTrainInferenceAndBackward() {
        int outer = 32, channels = 16, inner = 14 * 14, n = outer * channels * inner;
        Pair x = up(Parity.uniform(n, 1, -3, 5), n), gamma = up(Parity.uniform(channels, 2, 0.5, 1.5), channels);
        Pair beta = up(Parity.uniform(channels, 3, -1, 1), channels), rm = up(new float[channels], channels);
        float[] ones = new float[channels];
        java.util.Arrays.fill(ones, 1f);
        Pair rv = up(ones, channels), y = zeros(DType.FLOAT32, n), sm = zeros(DType.FLOAT32, channels), si = zeros(DType.FLOAT32, channels);
        cpu.batchNormTrain(x.c(), gamma.c(), beta.c(), rm.c(), rv.c(), 0.99f, 1e-3f, y.c(), sm.c(), si.c(), outer, channels, inner);
        gpu.batchNormTrain(x.g(), gamma.g(), beta.g(), rm.g(), rv.g(), 0.99f, 1e-3f, y.g(), sm.g(), si.g(), outer, channels, inner);
        close("bn y", y, RA, RR);
        close("bn saved mean", sm, RA, RR);
        close("bn saved invStd", si, RA, RR);
        close("bn running mean", rm, RA, RR);
        close("bn running var", rv, RA, RR);
        Pair yi = zeros(DType.FLOAT32, n);
        cpu.batchNormInference(x.c(), gamma.c(), beta.c(), rm.c(), rv.c(), 1e-3f, yi.c(), outer, channels, inner);
        gpu.batchNormInference(x.g(), gamma.g(), beta.g(), rm.g(), rv.g(), 1e-3f, yi.g(), outer, channels, inner);
        close("bn inference", yi, EA, ER);
        Pair dy = up(Parity.uniform(n, 4, -1, 1), n), dx = zeros(DType.FLOAT32, n);
        Pair dg = zeros(DType.FLOAT32, channels), db = zeros(DType.FLOAT32, channels);
        cpu.batchNormBackward(x.c(), dy.c(), gamma.c(), sm.c(), si.c(), dx.c(), dg.c(), db.c(), outer, channels, inner);
        gpu.batchNormBackward(x.g(), dy.g(), gamma.g(), sm.g(), si.g(), dx.g(), dg.g(), db.g(), outer, channels, inner);
        close("bn dx", dx, RA, RR);
        close("bn dGamma", dg, RA * 10, RR);
        close("bn dBeta", db, RA * 10, RR);
    }

    /**
     * Few channels, so batch norm and the PReLU slope gradient split each channel over several
     * blocks (ChannelParts: on the emulator's 2 SMs, 3 channels of 19,200 values take 3 blocks
     * each, 1 channel 8): the launch counts show the split path ran (training 3 launches instead
     * of 1, backward 2, PReLU backward 3 instead of 2); within the tolerances of
     * batchNormTrainInferenceAndBackward and biasAndPrelu; the same bits on a second run.
     */
    @Test
    void batchNormAndPreluSlopeSplitOverBlocksAreCloseAndDeterministic() {
        int outer = 64, inner = 300;
        for (int channels : new int[] {3, 1}) {
            int n = outer * channels * inner;
            String shape = "[" + outer + ", " + channels + ", " + inner + "]";
            Pair x = up(Parity.uniform(n, 21, -3, 5), n), gamma = up(Parity.uniform(channels, 22, 0.5, 1.5), channels);
            Pair beta = up(Parity.uniform(channels, 23, -1, 1), channels), dy = up(Parity.uniform(n, 24, -1, 1), n);
            float[] ones = new float[channels];
            java.util.Arrays.fill(ones, 1f);
            List<float[]> first = null;
            for (int run = 0; run < 2; run++) {
                Pair rm = up(new float[channels], channels), rv = up(ones, channels), y = zeros(DType.FLOAT32, n);
                Pair sm = zeros(DType.FLOAT32, channels), si = zeros(DType.FLOAT32, channels);
                cpu.batchNormTrain(x.c(), gamma.c(), beta.c(), rm.c(), rv.c(), 0.99f, 1e-3f, y.c(), sm.c(), si.c(), outer, channels, inner);
                long launches = gpu.launchesIssued();
                gpu.batchNormTrain(x.g(), gamma.g(), beta.g(), rm.g(), rv.g(), 0.99f, 1e-3f, y.g(), sm.g(), si.g(), outer, channels, inner);
                assertEquals(3, gpu.launchesIssued() - launches, shape + ": batchNormTrain split over blocks");
                close("bn y " + shape, y, RA, RR);
                close("bn saved mean " + shape, sm, RA, RR);
                close("bn saved invStd " + shape, si, RA, RR);
                close("bn running mean " + shape, rm, RA, RR);
                close("bn running var " + shape, rv, RA, RR);
                Pair dx = zeros(DType.FLOAT32, n), dg = up(ones, channels), db = up(ones, channels);
                cpu.batchNormBackward(x.c(), dy.c(), gamma.c(), sm.c(), si.c(), dx.c(), dg.c(), db.c(), outer, channels, inner);
                launches = gpu.launchesIssued();
                gpu.batchNormBackward(x.g(), dy.g(), gamma.g(), sm.g(), si.g(), dx.g(), dg.g(), db.g(), outer, channels, inner);
                assertEquals(2, gpu.launchesIssued() - launches, shape + ": batchNormBackward split over blocks");
                close("bn dx " + shape, dx, RA, RR);
                close("bn dGamma " + shape, dg, RA * 10, RR);
                close("bn dBeta " + shape, db, RA * 10, RR);
                Pair slope = up(Parity.uniform(channels, 25, 0, 0.5), channels), pdx = zeros(DType.FLOAT32, n);
                Pair dSlope = up(Parity.uniform(channels, 26, -1, 1), channels);
                cpu.preluBackward(x.c(), slope.c(), dy.c(), pdx.c(), dSlope.c(), outer, channels, inner);
                launches = gpu.launchesIssued();
                gpu.preluBackward(x.g(), slope.g(), dy.g(), pdx.g(), dSlope.g(), outer, channels, inner);
                assertEquals(3, gpu.launchesIssued() - launches, shape + ": preluBackward's slope gradient split over blocks");
                close("prelu dx " + shape, pdx, EA, ER);
                close("prelu dSlope " + shape, dSlope, RA * inner, RR);
                List<float[]> got = new ArrayList<>();
                for (Pair p : new Pair[] {y, sm, si, rm, rv, dx, dg, db, dSlope}) got.add(gpu.download(p.g()));
                if (first == null) first = got;
                else for (int i = 0; i < got.size(); i++) assertArrayEquals(first.get(i), got.get(i), shape + ": output " + i + " differs between two runs");
            }
        }
    }

    @Test
    void reductionsAndElementwise() {
        int n = 2_000_003;
        float[] a = Parity.uniform(n, 1, -1, 1), b = Parity.uniform(n, 2, -1, 1);
        Pair pa = up(a, n), pb = up(b, n), out = zeros(DType.FLOAT32, n);
        Parity.assertClose("sum", cpu.sum(pa.c()), gpu.sum(pa.g()), 1e-9 * n, 1e-12);
        Parity.assertClose("sumSquares", cpu.sumSquares(pa.c()), gpu.sumSquares(pa.g()), 1e-9 * n, 1e-12);
        double naive = gpu.elementwiseKernels().sum(((CudaTensor) pa.g()).pointer(), n, false, true);
        Parity.assertClose("naive sum", cpu.sum(pa.c()), naive, 1e-9 * n, 1e-12);
        cpu.add(pa.c(), pb.c(), out.c());
        gpu.add(pa.g(), pb.g(), out.g());
        Parity.assertBitExact("add", cpu.download(out.c()), gpu.download(out.g()));
        cpu.mul(pa.c(), pb.c(), out.c());
        gpu.mul(pa.g(), pb.g(), out.g());
        Parity.assertBitExact("mul", cpu.download(out.c()), gpu.download(out.g()));
        cpu.scale(out.c(), 0.37f);
        gpu.scale(out.g(), 0.37f);
        Parity.assertBitExact("scale", cpu.download(out.c()), gpu.download(out.g()));
        cpu.axpy(-1.5f, pa.c(), out.c()); // the CPU fuses (Math.fma); the GPU rounds twice
        gpu.axpy(-1.5f, pa.g(), out.g());
        close("axpy", out, 1e-7, 1e-6);
    }
}
