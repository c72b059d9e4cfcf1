package dev.shears.core.cpu;

import dev.shears.core.nn.Architectures;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.layers.BatchNorm;
import dev.shears.core.tensor.Shape;

import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The CPU batch-norm kernels alone (CpuNorm's training forward, backward and inference forward)
 * on every BatchNorm shape of a built-in architecture (a measurement tool, not a test). Unlike
 * MobileNetStepProfileMain's per-layer rows it leaves out the layer's download of its output, and
 * it calls only CpuNorm's package-private static methods, so the same class compiled against an
 * earlier CpuNorm measures that one. With -Dshears.threads=1 it times this thread's CPU time, else
 * wall time. Every layer's arrays are separate (the whole set is larger than the caches, as in a
 * training step), and each call reads its inputs from memory, not from a previous call's cache.
 *
 * <p>Run with the test classpath: java --add-modules jdk.incubator.vector -Dshears.threads=1 -cp ...
 * dev.shears.core.cpu.BatchNormKernelProfileMain [architecture (mobilenet-v2-mini)] [batch (128)] [repetitions (15)]
 */
public final class BatchNormKernelProfileMain {
    private static final java.lang.management.ThreadMXBean BEAN = java.lang.management.ManagementFactory.getThreadMXBean();
    private static final boolean CPU_TIME = Parallel.threads() == 1;

    private static long now() { return CPU_TIME ? BEAN.getCurrentThreadCpuTime() : System.nanoTime(); }

    public static void main(String[] args) {
        String arch = args.length > 0 ? args[0] : "mobilenet-v2-mini";
        int batch = args.length > 1 ? Integer.parseInt(args[1]) : 128;
        int reps = args.length > 2 ? Integer.parseInt(args[2]) : 15;
        Model net = Architectures.create(arch, Shape.of(1, 28, 28), 10);
        SplittableRandom rng = new SplittableRandom(5);
        System.out.printf(Locale.ROOT, "%s, batch %d, %d threads, %d repetitions (medians), %s%n", arch, batch, Parallel.threads(), reps,
                CPU_TIME ? "this thread's CPU time" : "wall time");
        System.out.printf(Locale.ROOT, "%-26s %-16s %9s %9s %9s%n", "layer", "input", "train ms", "bwd ms", "infer ms");
        double[] total = new double[3];
        float[] flush = new float[16 << 20]; // 64 MB written between calls: inputs come from memory
        for (Model.Node node : net.nodes()) {
            if (!(node.layer() instanceof BatchNorm bn)) continue;
            Shape per = net.shapeOf(node.inputs().get(0));
            int c = bn.channels(), inner = (int) (per.size() / c), n = batch * c * inner;
            float[] x = random(rng, n, -1, 3), dy = random(rng, n, -1, 1), y = new float[n], dx = new float[n];
            float[] g = random(rng, c, 0.5, 1.5), b = random(rng, c, -1, 1), rm = new float[c], rv = random(rng, c, 0.5, 2);
            float[] mean = new float[c], inv = new float[c], dg = new float[c], db = new float[c];
            long[][] t = new long[3][reps];
            for (int r = -10; r < reps; r++) {
                evict(flush);
                long t0 = now();
                CpuNorm.batchNormTrain(x, g, b, rm, rv, 0.99f, 1e-3f, y, mean, inv, batch, c, inner);
                long t1 = now();
                evict(flush);
                long t2 = now();
                CpuNorm.batchNormBackward(x, dy, g, mean, inv, dx, dg, db, batch, c, inner);
                long t3 = now();
                evict(flush);
                long t4 = now();
                CpuNorm.batchNormInference(x, g, b, rm, rv, 1e-3f, y, batch, c, inner);
                long t5 = now();
                if (r >= 0) { t[0][r] = t1 - t0; t[1][r] = t3 - t2; t[2][r] = t5 - t4; }
            }
            double[] ms = new double[3];
            for (int k = 0; k < 3; k++) { ms[k] = median(t[k]) / 1e6; total[k] += ms[k]; }
            System.out.printf(Locale.ROOT, "%-26s %-16s %9.2f %9.2f %9.2f%n", bn.name(), per.withBatch(batch), ms[0], ms[1], ms[2]);
        }
        System.out.printf(Locale.ROOT, "%-26s %-16s %9.2f %9.2f %9.2f%n", "all BatchNorm layers", "", total[0], total[1], total[2]);
    }

    private static void evict(float[] flush) {
        for (int i = 0; i < flush.length; i += 16) flush[i] += 1;
    }

    private static float[] random(SplittableRandom r, int n, double lo, double hi) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) r.nextDouble(lo, hi);
        return v;
    }

    private static double median(long[] v) {
        long[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }
}
