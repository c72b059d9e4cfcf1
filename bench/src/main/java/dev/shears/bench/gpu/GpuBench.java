package dev.shears.bench.gpu;

import dev.shears.cli.report.BenchJson;
import dev.shears.core.cuda.CudaBackend;
import dev.shears.core.cuda.EventTiming;
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
 * JSON object (checkpointed after every row, {@link Checkpoint}); {@code bench/peers/compare.py} joins it with the PyTorch figures.
 *
 * <pre>
 *   GpuBench --out shears.json [--shapes shapes.json] [--reps 10] [--max-n 1000000000] [--quick]
 *            [--sizes 1e6,1e7] [--models resnet50,vgg19,dense32x4096] [--update-n 1e8] [--copy-mib 1024] [--flush-mib 256]
 * </pre>
 * Bandwidth figures count the bytes each op must move: one read of 4N bytes for the threshold's
 * lower bound; 21 B/parameter for SGD-momentum with a byte mask (read w, g, v, mask; write w, v);
 * 29 B/parameter for Adam (read w, g, m, v, mask; write w, m, v). The copy bandwidth is a
 * device-to-device cuMemcpy of 1 GiB, counting read + write.
 */
public final class GpuBench {
    /**
     * Parsed command line. {@code sizes}, {@code models}, {@code updateN}, {@code copyMib} and
     * {@code flushMib} shrink the run below its defaults (the emulator tests run every stage at
     * tiny sizes with them); {@code run-gpu.sh} leaves them unset. {@code sizes},
     * {@code models} and {@code updateN} are null when not given (the defaults then depend on {@code quick}).
     */
    record Options(Path out, Path shapes, int reps, long maxN, boolean quick, List<Long> sizes, List<String> models, Long updateN,
                   long copyMib, long flushMib) {
        static final String USAGE = "usage: GpuBench --out FILE.json [--shapes FILE.json] [--reps N] [--max-n N] [--quick]"
                + " [--sizes N,N,...] [--models resnet50,vgg19,dense32x4096|denseCxS] [--update-n N] [--copy-mib M] [--flush-mib M]";

        static Options parse(String... args) {
            Path out = null, shapes = null;
            int reps = 10;
            long maxN = 1_000_000_000L, copyMib = 1024, flushMib = 256;
            boolean quick = false;
            List<Long> sizes = null;
            List<String> models = null;
            Long updateN = null;
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                switch (a) {
                    case "--out" -> out = Path.of(value(args, ++i));
                    case "--shapes" -> shapes = Path.of(value(args, ++i));
                    case "--reps" -> reps = (int) count(a, value(args, ++i));
                    case "--max-n" -> maxN = count(a, value(args, ++i));
                    case "--quick" -> quick = true;
                    case "--sizes" -> sizes = java.util.Arrays.stream(value(args, ++i).split(",")).map(v -> count(a, v)).toList();
                    case "--models" -> models = List.of(value(args, ++i).split(","));
                    case "--update-n" -> updateN = count(a, value(args, ++i));
                    case "--copy-mib" -> copyMib = count(a, value(args, ++i));
                    case "--flush-mib" -> flushMib = count(a, value(args, ++i));
                    default -> throw new IllegalArgumentException("unknown argument " + a + "; " + USAGE);
                }
            }
            if (out == null) throw new IllegalArgumentException("--out FILE.json is required; " + USAGE);
            if (reps < 1) throw new IllegalArgumentException("--reps must be at least 1, got " + reps);
            if (models != null) for (String m : models) LayerShapes.byName(m); // fails naming the model and the known ones
            if (sizes != null) for (long n : sizes) if (n < 1) throw new IllegalArgumentException("--sizes: sizes must be >= 1, got " + n);
            if (updateN != null && updateN < 1) throw new IllegalArgumentException("--update-n must be >= 1, got " + updateN);
            if (copyMib < 1 || flushMib < 1) throw new IllegalArgumentException("--copy-mib and --flush-mib must be >= 1, got " + copyMib + " and " + flushMib);
            return new Options(out, shapes, reps, maxN, quick, sizes, models, updateN, copyMib, flushMib);
        }

        /** The single-tensor sizes: {@code --sizes}, else 1e6..1e9 (1e6, 1e7 with --quick), capped by --max-n. */
        List<Long> singleSizes() {
            List<Long> out = new ArrayList<>(sizes != null ? sizes : List.of(1_000_000L, 10_000_000L, 100_000_000L, 1_000_000_000L));
            out.removeIf(n -> n > maxN || (sizes == null && quick && n > 10_000_000L));
            return out;
        }

        /** The models of the many-tensor thresholds: {@code --models}, only resnet50 of the default ones with --quick. */
        List<String> thresholdModels() {
            return models != null ? models : quick ? List.of("resnet50") : MODELS;
        }

        /** Parameters of the fused updates: {@code --update-n}, else 1e8 (1e7 with --quick), capped by --max-n. */
        long updateCount() {
            return updateN != null ? updateN : quick ? 10_000_000L : Math.min(100_000_000L, maxN);
        }

        private static String value(String[] args, int i) {
            if (i >= args.length) throw new IllegalArgumentException(args[i - 1] + " needs a value");
            return args[i];
        }

        /** An integer, also written as 1e7 (as run-gpu.sh and the peers write sizes). */
        private static long count(String flag, String s) {
            try {
                double d = Double.parseDouble(s.trim());
                if (d != Math.rint(d) || Math.abs(d) > Long.MAX_VALUE / 2) throw new NumberFormatException();
                return (long) d;
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(flag + ": '" + s + "' is not an integer");
            }
        }
    }

    static final List<String> MODELS = List.of("resnet50", "vgg19", "dense32x4096");
    static final double[] SPARSITIES = {0.5, 0.9, 0.95};

    private final CudaBackend be;
    private final Options opt;
    private final Tensor flush;
    private double copyGBs;
    /** The rows, checkpointed after each; main sends them to --out. The header's copy bandwidth is the measured one once known. */
    final Checkpoint output = new Checkpoint(this::document);

    GpuBench(CudaBackend be, Options opt) {
        this.be = be;
        this.opt = opt;
        this.flush = be.allocate(Shape.of(opt.flushMib() << 18), DType.FLOAT32); // default 256 MiB, beyond any L2
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
        if (opt.shapes() != null) Files.writeString(opt.shapes(), LayerShapes.json(opt.thresholdModels()));
        try (CudaBackend be = CudaBackend.create()) {
            GpuBench bench = new GpuBench(be, opt);
            bench.output.sendTo(Checkpoint.file(opt.out()));
            System.out.println(bench.run());
        }
    }

    /** Median milliseconds of {@code op} over the repetitions, after one warm-up, L2 flushed each time. */
    double time(Runnable op) {
        return EventTiming.medianMillis(be.stream(), 1, opt.reps(), r -> be.fill(flush, r), op);
    }

    String run() {
        measureCopy();
        for (long n : opt.singleSizes()) thresholdSingle(n);
        for (String model : opt.thresholdModels()) thresholdMany(model);
        updates(opt.updateCount());
        be.synchronize();
        flush.close();
        return output.finish();
    }

    private void measureCopy() {
        long n = opt.copyMib() << 18; // default 1 GiB of floats
        try (Tensor a = be.allocate(Shape.of(n), DType.FLOAT32); Tensor b = be.allocate(Shape.of(n), DType.FLOAT32)) {
            double ms = time(() -> be.copy(a, b));
            copyGBs = 2.0 * 4 * n / (ms * 1e6);
        }
        output.add(copyRow(8L * n, copyGBs));
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
                output.add(thresholdSingleRow(n, s, ms, copyGBs));
            }
        }
    }

    /**
     * A model's weight tensors, generated and uploaded once (dense32x4096's are 2 GiB), then timed
     * with a threshold per layer and with one global threshold.
     */
    private void thresholdMany(String model) {
        List<LayerShapes.Layer> layers = LayerShapes.byName(model);
        List<Tensor> ws = new ArrayList<>();
        long sum = 0;
        try {
            for (int i = 0; i < layers.size(); i++) {
                long n = layers.get(i).size();
                ws.add(randomWeights(n, 7000 + i));
                sum += n;
            }
            long total = sum;
            double s = 0.9;
            int t = ws.size();
            for (boolean global : new boolean[] {false, true}) {
                long[] k = global ? new long[] {Math.round(s * total)} : ws.stream().mapToLong(w -> Math.max(1, Math.round(s * w.size()))).toArray();
                float[] thr = new float[t];
                long[] below = new long[t], equal = new long[t];
                double ms = time(() -> be.magnitudeThresholds(ws, k, global, thr, below, equal));
                output.add(thresholdManyRow(global, model, t, total, s, ms, copyGBs));
            }
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
                output.add(updateRow("sgd_momentum_masked", variant, n, sgd, 21, copyGBs));
                long[] step = {1};
                double adam = time(() -> be.optimizerKernels().adam(pw, pg, p2, pv, pm, n, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, true,
                        step[0]++, variant));
                output.add(updateRow("adamw_masked", variant, n, adam, 29, copyGBs));
            }
        }
    }

    private static long ptr(Tensor t) { return ((dev.shears.core.cuda.CudaTensor) t).pointer(); }

    // ------------------------------------------------------------------ JSON (BenchJson; figures rounded as printed since the start)

    /** This run's document around {@code rows}, as it stands now (before the copy is measured, its bandwidth is 0). */
    private Map<String, Object> document(List<Map<String, Object>> rows) {
        return document(be.name(), Cuda.driverVersion(), Instant.now(), copyGBs, rows);
    }

    /** The whole output: the device, the driver, when, the copy bandwidth and every row. */
    static Map<String, Object> document(String device, int driver, Instant date, double copyGBs, List<Map<String, Object>> results) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("device", device);
        o.put("driver", driver);
        o.put("date", date.toString());
        o.put("copyGBs", BenchJson.fixed(copyGBs, 3));
        o.put("results", results);
        return o;
    }

    static Map<String, Object> copyRow(long bytes, double copyGBs) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("op", "copy");
        o.put("bytes", bytes);
        o.put("GBs", BenchJson.fixed(copyGBs, 3));
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
        o.put("readGBs", BenchJson.fixed(4.0 * n / (ms * 1e6), 3));
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
        o.put("GBs", BenchJson.fixed(gbs, 3));
        o.put("ofCopy", BenchJson.fixed(gbs / copyGBs, 3));
        return o;
    }
}
