package dev.shears.core.cpu;

import dev.shears.core.nn.Architectures;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Layer;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.Parameter;
import dev.shears.core.nn.layers.Add;
import dev.shears.core.nn.layers.Multiply;
import dev.shears.core.tensor.DType;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;

import java.util.List;
import java.util.SplittableRandom;
import java.util.zip.CRC32;

/**
 * Run in a child JVM by {@link ThreadCountDeterminismTest} (the pool's size is fixed when the JVM
 * starts): one training step's forward and backward of each CNN named in the arguments, a
 * product on Sgemm's dot-product path big enough to split over threads, and the broadcasting Add
 * and Multiply ([C, H, W] map and [C, 1, 1] per-channel tensor, both orders) forward and backward;
 * prints "name crc" per case, the CRC32 of every result's float bits.
 */
public final class ThreadCountStepMain {
    /** an odd batch: image-by-image convolutions end in a shorter chunk */
    static final int BATCH = 37, CLASSES = 10;

    public static void main(String[] args) {
        System.out.println("threads " + Parallel.threads());
        CpuBackend be = CpuBackend.create();
        SplittableRandom rng = new SplittableRandom(11);
        float[] pixels = new float[BATCH * 28 * 28];
        for (int i = 0; i < pixels.length; i++) pixels[i] = (float) rng.nextDouble();
        int[] labels = new int[BATCH];
        for (int i = 0; i < BATCH; i++) labels[i] = rng.nextInt(CLASSES);
        for (String name : args) {
            Model net = Architectures.create(name, Shape.of(1, 28, 28), CLASSES).bind(be, 3);
            Tensor x = be.upload(pixels, Shape.of(BATCH, 1, 28, 28));
            Tensor y = be.uploadInts(labels, Shape.of(BATCH));
            Tensor dLogits = be.allocate(Shape.of(BATCH, CLASSES), DType.FLOAT32);
            ExecContext ctx = new ExecContext(be, true, 0);
            Tensor logits = net.forward(ctx, x);
            be.softmaxCrossEntropy(logits, y, dLogits, 1f / BATCH, BATCH, CLASSES);
            net.zeroGrad();
            net.backward(ctx, dLogits);
            CRC32 crc = new CRC32();
            add(crc, be.download(logits));
            for (Parameter p : net.parameters()) if (p.grad() != null) add(crc, be.download(p.grad()));
            System.out.println(name + " " + Long.toHexString(crc.getValue()));
        }
        // A * B^T, m*n <= Sgemm.DOT_MAX_MN, k >= DOT_MIN_K, above the parallel threshold; m not a
        // multiple of DOT_ROWS, n not of 4, k not of the vector length
        int m = 47, n = 83, k = 1001;
        float[] a = new float[m * k], b = new float[n * k], c = new float[m * n];
        for (int i = 0; i < a.length; i++) a[i] = (float) rng.nextDouble(-1, 1);
        for (int i = 0; i < b.length; i++) b[i] = (float) rng.nextDouble(-1, 1);
        Sgemm.gemm(false, true, m, n, k, 1f, a, 0, k, b, 0, k, 0f, c, 0, n);
        CRC32 crc = new CRC32();
        add(crc, c);
        System.out.println("dotGemm " + Long.toHexString(crc.getValue()));

        // the per-channel gradients are sums over H*W per (image, channel) plane
        Shape mapShape = Shape.of(BATCH, 24, 13, 11), perShape = Shape.of(BATCH, 24, 1, 1);
        float[] map = new float[mapShape.intSize()], per = new float[perShape.intSize()], dy = new float[map.length];
        for (int i = 0; i < map.length; i++) { map[i] = (float) rng.nextDouble(-1, 1); dy[i] = (float) rng.nextDouble(-1, 1); }
        for (int i = 0; i < per.length; i++) per[i] = (float) rng.nextDouble(-1, 1);
        CRC32 bc = new CRC32();
        for (boolean perFirst : new boolean[]{false, true}) {
            for (Layer layer : new Layer[]{new Add("add"), new Multiply("mul")}) {
                Tensor xm = be.upload(map, mapShape), xp = be.upload(per, perShape), d = be.upload(dy, mapShape);
                ExecContext ctx = new ExecContext(be, true, 0);
                add(bc, be.download(layer.forward(ctx, perFirst ? List.of(xp, xm) : List.of(xm, xp))));
                for (Tensor g : layer.backward(ctx, d, true)) add(bc, be.download(g));
            }
        }
        System.out.println("channelBroadcast " + Long.toHexString(bc.getValue()));
    }

    private static void add(CRC32 crc, float[] v) {
        for (float f : v) {
            int bits = Float.floatToRawIntBits(f);
            crc.update(bits);
            crc.update(bits >>> 8);
            crc.update(bits >>> 16);
            crc.update(bits >>> 24);
        }
    }
}
