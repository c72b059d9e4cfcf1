package dev.shears.core.cpu;

import dev.shears.core.nn.Architectures;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Layer;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.layers.Conv2D;
import dev.shears.core.nn.layers.Conv2DLayoutOverride;
import dev.shears.core.tensor.DType;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Where one CPU training step of a built-in architecture's time goes (a measurement tool, not a
 * test; run with the test classpath, e.g. -Dshears.threads=1): the whole step (forward, loss,
 * backward) timed over several repetitions after warm-up, then each layer on its own, its forward
 * and its backward with input gradient, on seeded inputs and output gradients of the shapes it
 * sees in the model. Prints the median time of each and the share of the summed per-layer time.
 *
 * <p>Arguments: [architecture (default mobilenet-v2-mini)] [batch (default 128)] [repetitions (default 10)].
 */
public final class MobileNetStepProfileMain {
    private static final java.lang.management.ThreadMXBean BEAN = java.lang.management.ManagementFactory.getThreadMXBean();
    /**
     * With one thread every kernel runs on this thread, so its CPU time is the work's, without the
     * time the OS gave to other processes (this machine is shared); with more, wall time.
     */
    private static final boolean CPU_TIME = Parallel.threads() == 1;

    private static long now() { return CPU_TIME ? BEAN.getCurrentThreadCpuTime() : System.nanoTime(); }

    public static void main(String[] args) {
        String arch = args.length > 0 ? args[0] : "mobilenet-v2-mini";
        int batch = args.length > 1 ? Integer.parseInt(args[1]) : 128;
        int reps = args.length > 2 ? Integer.parseInt(args[2]) : 10;
        int classes = 10;
        CpuBackend be = CpuBackend.create();
        System.out.printf(Locale.ROOT, "%s, batch %d, %d threads, %d repetitions (medians), %s%n", arch, batch, Parallel.threads(), reps,
                CPU_TIME ? "this thread's CPU time" : "wall time");
        SplittableRandom rng = new SplittableRandom(11);
        Shape in = Shape.of(1, 28, 28);
        Model net = Architectures.create(arch, in, classes).bind(be, 3);
        Tensor x = be.upload(random(rng, batch * in.intSize()), in.withBatch(batch));
        int[] labels = new int[batch];
        for (int i = 0; i < batch; i++) labels[i] = rng.nextInt(classes);
        Tensor y = be.uploadInts(labels, Shape.of(batch));
        Tensor dLogits = be.allocate(Shape.of(batch, classes), DType.FLOAT32);
        // whole steps, the grouped GEMM path (reference) and the direct depthwise path alternating
        // step by step so that both see the same load; 10 steps of each first warm the JIT
        long[][] step = new long[2][reps];
        for (int r = -10; r < reps; r++) {
            for (int mode = 0; mode < 2; mode++) {
                Conv2DLayoutOverride.directDepthwise(mode == 1);
                long t0 = now();
                ExecContext ctx = new ExecContext(be, true, r);
                net.zeroGrad();
                be.softmaxCrossEntropy(net.forward(ctx, x), y, dLogits, 1f / batch, batch, classes);
                net.backward(ctx, dLogits);
                be.download(dLogits);
                if (r >= 0) step[mode][r] = now() - t0;
            }
        }
        for (int mode = 0; mode < 2; mode++) {
            double stepMs = median(step[mode]) / 1e6;
            System.out.printf(Locale.ROOT, "whole step, %s: %.1f ms (%.0f images/s); min %.1f ms%n",
                    mode == 0 ? "depthwise by grouped GEMM" : "depthwise direct        ", stepMs, batch / stepMs * 1e3,
                    java.util.Arrays.stream(step[mode]).min().getAsLong() / 1e6);
        }
        boolean direct = !Boolean.getBoolean("profile.reference");
        Conv2DLayoutOverride.directDepthwise(direct);
        System.out.println("per layer, depthwise " + (direct ? "direct" : "by grouped GEMM (-Dprofile.reference=true)") + ":");

        List<String> rows = new ArrayList<>();
        List<double[]> times = new ArrayList<>();
        double sum = 0;
        for (Model.Node n : net.nodes()) {
            Layer l = n.layer();
            List<Tensor> ins = new ArrayList<>();
            for (String name : n.inputs()) ins.add(be.upload(random(rng, batch * net.shapeOf(name).intSize()), net.shapeOf(name).withBatch(batch)));
            Shape outShape = net.shapeOf(n.name()).withBatch(batch);
            Tensor dy = be.upload(random(rng, (int) outShape.size()), outShape);
            long[] f = new long[reps], b = new long[reps];
            for (int r = -5; r < reps; r++) {
                ExecContext ctx = new ExecContext(be, true, r);
                long t0 = now();
                be.download(l.forward(ctx, ins)); // download: waits for (and counts) the work
                long t1 = now();
                List<Tensor> g = l.backward(ctx, dy, true);
                for (Tensor t : g) if (t != null) be.download(t);
                long t2 = now();
                if (r >= 0) { f[r] = t1 - t0; b[r] = t2 - t1; }
            }
            double fm = median(f) / 1e6, bm = median(b) / 1e6;
            sum += fm + bm;
            String kind = l.type() + (l instanceof Conv2D c ? (c.depthwise() ? " dw3x3" : " " + c.kernelH() + "x" + c.kernelW()) : "");
            rows.add(String.format(Locale.ROOT, "%-26s %-16s %-14s", l.name(), kind, outShape));
            times.add(new double[]{fm, bm});
        }
        System.out.printf(Locale.ROOT, "%-26s %-16s %-14s %9s %9s %7s%n", "layer", "type", "output", "fwd ms", "bwd ms", "share");
        double dw = 0, conv = 0;
        for (int i = 0; i < rows.size(); i++) {
            double[] t = times.get(i);
            System.out.printf(Locale.ROOT, "%s %9.2f %9.2f %6.1f%%%n", rows.get(i), t[0], t[1], 100 * (t[0] + t[1]) / sum);
            if (rows.get(i).contains("dw3x3")) dw += t[0] + t[1];
            else if (rows.get(i).contains("Conv2D")) conv += t[0] + t[1];
        }
        System.out.printf(Locale.ROOT, "sum of layers %.1f ms; depthwise convolutions %.1f ms (%.1f%%), other convolutions %.1f ms (%.1f%%)%n",
                sum, dw, 100 * dw / sum, conv, 100 * conv / sum);
        be.close();
    }

    private static float[] random(SplittableRandom r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (r.nextDouble() * 2 - 1);
        return v;
    }

    private static double median(long[] v) {
        long[] s = v.clone();
        java.util.Arrays.sort(s);
        return s[s.length / 2];
    }
}
