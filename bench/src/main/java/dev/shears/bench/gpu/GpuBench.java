package dev.shears.bench.gpu;

import dev.shears.cli.report.BenchJson;
import dev.shears.core.cuda.CudaBackend;
import dev.shears.core.tensor.DType;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import dev.shears.kernels.OptimizerKernels;
import dev.shears.nativebind.Cuda;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * The GPU side of issue 5's comparison: the batched magnitude threshold and the fused masked
 * optimizer updates, timed with CUDA events on the backend's stream after warm-up, L2 flushed
 * (a 256 MiB memset) before every repetition, median of the repetitions. Prints and writes one
 * JSON object; {@code bench/peers/compare.py} joins it with the PyTorch figures.
 *
 * <pre>
 *   GpuBench --out shears.json [--shapes shapes.json] [--reps 10] [--max-n 1000000000] [--quick]
 * </pre>
 * Bandwidth figures count the bytes each op must move: one read of 4N bytes for the threshold's
 * lower bound; 21 B/parameter for SGD-momentum with a byte mask (read w, g, v, mask; write w, v);
 * 29 B/parameter for Adam (read w, g, m, v, mask; write w, m, v). The copy bandwidth is a
 * device-to-device cuMemcpy of 1 GiB, counting read + write.
 */
public final class GpuBench {
    /** Parsed command line. */
    record Options(Path out, Path shapes, int reps, long maxN, boolean quick) {
        static Options parse(String... args) {
            Path out = null, shapes = null;
            int reps = 10;
            long maxN = 1_000_000_000L;
            boolean quick = false;
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--out" -> out = Path.of(value(args, ++i));
                    case "--shapes" -> shapes = Path.of(value(args, ++i));
                    case "--reps" -> reps = Integer.parseInt(value(args, ++i));
                    case "--max-n" -> maxN = Long.parseLong(value(args, ++i));
                    case "--quick" -> quick = true;
                    default -> throw new IllegalArgumentException("unknown argument " + args[i]
                            + "; usage: GpuBench --out FILE.json [--shapes FILE.json] [--reps N] [--max-n N] [--quick]");
                }
            }
            if (out == null) throw new IllegalArgumentException("--out FILE.json is required");
            if (reps < 1) throw new IllegalArgumentException("--reps must be at least 1, got " + reps);
            return new Options(out, shapes, reps, maxN, quick);
        }

        private static String value(String[] args, int i) {
            if (i >= args.length) throw new IllegalArgumentException(args[i - 1] + " needs a value");
            return args[i];
        }
    }

    static final List<String> MODELS = List.of("resnet50", "vgg19", "dense32x4096");
    static final double[] SPARSITIES = {0.5, 0.9, 0.95};

    private final CudaBackend be;
    private final Options opt;
    private final Tensor flush;
    private final List<Map<String, Object>> results = new ArrayList<>();
    private double copyGBs;

    GpuBench(CudaBackend be, Options opt) {
        this.be = be;
        this.opt = opt;
        this.flush = be.allocate(Shape.of(64 << 20), DType.FLOAT32); // 256 MiB, beyond any L2
    }

    public static void main(String[] args) throws IOException {
        Options opt;
        try {
            opt = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("GpuBench: " + e.getMessage());
            System.exit(2);
            return;
        }
        String cause = CudaBackend.unavailabilityCause();
        if (cause != null) {
            System.err.println("GpuBench: CUDA unavailable: " + cause);
            System.exit(3);
        }
        if (opt.shapes() != null) Files.writeString(opt.shapes(), LayerShapes.json(MODELS));
        try (CudaBackend be = CudaBackend.create()) {
            String json = new GpuBench(be, opt).run();
            Files.writeString(opt.out(), json);
            System.out.println(json);
        }
    }

    /** Median milliseconds of {@code op} over the repetitions, after one warm-up, L2 flushed each time. */
    double time(Runnable op) {
        return EventTiming.medianMs(be.stream(), opt.reps(), r -> be.fill(flush, r), op);
    }

    String run() {
        measureCopy();
        List<Long> sizes = new ArrayList<>(List.of(1_000_000L, 10_000_000L, 100_000_000L, 1_000_000_000L));
        sizes.removeIf(n -> n > opt.maxN() || (opt.quick() && n > 10_000_000L));
        for (long n : sizes) thresholdSingle(n);
        for (String model : MODELS) {
            if (opt.quick() && !model.equals("resnet50")) continue;
            for (boolean global : new boolean[] {false, true}) thresholdMany(model, global);
        }
        long updateN = opt.quick() ? 10_000_000L : Math.min(100_000_000L, opt.maxN());
        updates(updateN);
        be.synchronize();
        flush.close();
        return BenchJson.write(document(be.name(), Cuda.driverVersion(), Instant.now(), copyGBs, results));
    }

    private void measureCopy() {
        long n = 256L << 20; // 1 GiB of floats
        try (Tensor a = be.allocate(Shape.of(n), DType.FLOAT32); Tensor b = be.allocate(Shape.of(n), DType.FLOAT32)) {
            double ms = time(() -> be.copy(a, b));
            copyGBs = 2.0 * 4 * n / (ms * 1e6);
        }
        results.add(copyRow(8L * n, copyGBs));
    }

    /** Gaussian-ish weights with 20% exact zeros, filled in parallel (host), uploaded once. */
    private Tensor randomWeights(long n, long seed) {
        float[] w = new float[Math.toIntExact(n)];
        int chunks = 64;
        IntStream.range(0, chunks).parallel().forEach(c -> {
            SplittableRandom r = new SplittableRandom(seed * 1_000_003 + c);
            int from = (int) (n * c / chunks), to = (int) (n * (c + 1) / chunks);
            for (int i = from; i < to; i++) {
                double u = r.nextDouble();
                w[i] = u < 0.2 ? 0f : (float) ((r.nextDouble() + r.nextDouble() + r.nextDouble() - 1.5) * 0.1);
            }
        });
        return be.upload(w, Shape.of(n));
    }

    private void thresholdSingle(long n) {
        try (Tensor w = randomWeights(n, n)) {
            for (double s : SPARSITIES) {
                long k = Math.max(1, Math.round(s * n));
                float[] t = new float[1];
                long[] below = new long[1], equal = new long[1];
                double ms = time(() -> be.magnitudeThresholds(List.of(w), new long[] {k}, false, t, below, equal));
                results.add(thresholdSingleRow(n, s, ms, copyGBs));
            }
        }
    }

    private void thresholdMany(String model, boolean global) {
        List<LayerShapes.Layer> layers = LayerShapes.byName(model);
        List<Tensor> ws = new ArrayList<>();
        long total = 0;
        try {
            for (int i = 0; i < layers.size(); i++) {
                long n = layers.get(i).size();
                ws.add(randomWeights(n, 7000 + i));
                total += n;
            }
            double s = 0.9;
            long[] k = global ? new long[] {Math.round(s * total)} : ws.stream().mapToLong(t -> Math.max(1, Math.round(s * t.size()))).toArray();
            int t = ws.size();
            float[] thr = new float[t];
            long[] below = new long[t], equal = new long[t];
            double ms = time(() -> be.magnitudeThresholds(ws, k, global, thr, below, equal));
            results.add(thresholdManyRow(global, model, t, total, s, ms, copyGBs));
        } finally {
            ws.forEach(Tensor::close);
        }
    }

    private void updates(long n) {
        Shape s = Shape.of(n);
        byte[] mask = new byte[Math.toIntExact(n)];
        SplittableRandom r = new SplittableRandom(5);
        for (int i = 0; i < mask.length; i++) mask[i] = (byte) (r.nextDouble() < 0.1 ? 1 : 0);
        try (Tensor w = randomWeights(n, 1); Tensor g = randomWeights(n, 2); Tensor v = be.allocate(s, DType.FLOAT32);
             Tensor m2 = be.allocate(s, DType.FLOAT32); Tensor mk = be.uploadBytes(mask, s)) {
            for (OptimizerKernels.Variant variant : new OptimizerKernels.Variant[] {OptimizerKernels.Variant.NAIVE, OptimizerKernels.Variant.VECTORIZED}) {
                long pw = ptr(w), pg = ptr(g), pv = ptr(v), pm = ptr(mk), p2 = ptr(m2);
                double sgd = time(() -> be.optimizerKernels().sgd(pw, pg, pv, pm, n, 0.01f, 0.9f, 1e-4f, false, variant));
                results.add(updateRow("sgd_momentum_masked", variant, n, sgd, 21, copyGBs));
                long[] step = {1};
                double adam = time(() -> be.optimizerKernels().adam(pw, pg, p2, pv, pm, n, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, true,
                        step[0]++, variant));
                results.add(updateRow("adamw_masked", variant, n, adam, 29, copyGBs));
            }
        }
    }

    private static long ptr(Tensor t) { return ((dev.shears.core.cuda.CudaTensor) t).pointer(); }

    // ------------------------------------------------------------------ JSON (BenchJson; figures rounded as printed since the start)

    /** The whole output: the device, the driver, when, the copy bandwidth and every row. */
    static Map<String, Object> document(String device, int driver, Instant date, double copyGBs, List<Map<String, Object>> results) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("device", device);
        o.put("driver", driver);
        o.put("date", date.toString());
        o.put("copyGBs", BenchJson.fixed(copyGBs, 1));
        o.put("results", results);
        return o;
    }

    static Map<String, Object> copyRow(long bytes, double copyGBs) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("op", "copy");
        o.put("bytes", bytes);
        o.put("GBs", BenchJson.fixed(copyGBs, 1));
        return o;
    }

    /** One tensor of n floats: the threshold's time against one read of it at the copy bandwidth. */
    static Map<String, Object> thresholdSingleRow(long n, double sparsity, double ms, double copyGBs) {
        double oneReadMs = 4.0 * n / (copyGBs * 1e6);
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("op", "threshold");
        o.put("scope", "single");
        o.put("n", n);
        o.put("sparsity", BenchJson.fixed(sparsity, 2));
        o.put("medianMs", BenchJson.fixed(ms, 4));
        o.put("readGBs", BenchJson.fixed(4.0 * n / (ms * 1e6), 1));
        o.put("vsOneRead", BenchJson.fixed(ms / oneReadMs, 2));
        return o;
    }

    /** All of a model's weight tensors in one call, per layer or one global threshold. */
    static Map<String, Object> thresholdManyRow(boolean global, String model, int tensors, long total, double sparsity, double ms, double copyGBs) {
        double oneReadMs = 4.0 * total / (copyGBs * 1e6);
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("op", "threshold");
        o.put("scope", global ? "global" : "layer");
        o.put("model", model);
        o.put("tensors", tensors);
        o.put("n", total);
        o.put("sparsity", BenchJson.fixed(sparsity, 2));
        o.put("medianMs", BenchJson.fixed(ms, 4));
        o.put("vsOneRead", BenchJson.fixed(ms / oneReadMs, 2));
        return o;
    }

    /** A fused optimizer update: achieved bandwidth from the bytes it must move, and as a share of the copy's. */
    static Map<String, Object> updateRow(String op, OptimizerKernels.Variant variant, long n, double ms, int bytesPerParam, double copyGBs) {
        double gbs = (double) bytesPerParam * n / (ms * 1e6);
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("op", op);
        o.put("kernel", variant.name().toLowerCase(Locale.ROOT));
        o.put("n", n);
        o.put("medianMs", BenchJson.fixed(ms, 4));
        o.put("bytesPerParam", bytesPerParam);
        o.put("GBs", BenchJson.fixed(gbs, 1));
        o.put("ofCopy", BenchJson.fixed(gbs / copyGBs, 3));
        return o;
    }
}
