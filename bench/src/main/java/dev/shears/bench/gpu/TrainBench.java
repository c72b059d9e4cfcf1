package dev.shears.bench.gpu;

import dev.shears.cli.report.BenchJson;
import dev.shears.core.backend.Backend;
import dev.shears.core.backend.Backends;
import dev.shears.core.cuda.CudaBackend;
import dev.shears.core.cuda.CudaStepGraph;
import dev.shears.core.data.DataSources;
import dev.shears.core.data.Dataset;
import dev.shears.core.data.Split;
import dev.shears.core.nn.Architectures;
import dev.shears.core.nn.Evaluator;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.Parameter;
import dev.shears.core.optim.Optimizer;
import dev.shears.core.tensor.DType;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import dev.shears.nativebind.CudaEvent;
import dev.shears.pruning.MagnitudePruner;
import dev.shears.pruning.recipe.Recipe;
import dev.shears.pruning.recipe.Recipes;
import dev.shears.pruning.recipe.Scope;
import dev.shears.pruning.train.EpochMetrics;
import dev.shears.pruning.train.GmpTrainer;
import dev.shears.pruning.train.TrainingHistory;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Issue 5 item 3 on the Shears side: training throughput of the built-in LeNet-300-100 and
 * mnist-cnn (the Keras MNIST CNN's architecture) on Fashion-MNIST-shaped data, per batch size.
 * <ul>
 *   <li>{@code train_step}: the steady-state step exactly as {@link GmpTrainer} runs it (gather a
 *   shuffled batch on the host, write it to the device, forward, fused softmax cross-entropy
 *   with the loss read back, correct count, backward, masked optimizer update), with masks
 *   at {@code --step-sparsity} on every prunable weight so the masked path runs. Timed over
 *   {@code --steps} steps after {@code --warmup} steps and {@code --warmup-seconds}: with CUDA events on the backend's stream on
 *   CUDA (wall time beside it), wall time on the CPU.</li>
 *   <li>{@code gmp_run}: a whole GMP run ({@code --recipe}, default gmp-seed, squeezed to
 *   {@code --epochs} with {@link Recipe#withEpochs}: same cubic schedule and LR shape, shorter),
 *   wall time around {@link GmpTrainer#run} including its per-epoch test evaluation and host
 *   snapshots; images/second counts training images only.</li>
 * </ul>
 * On CUDA both rows come twice, {@code "cudaGraphs": false} and {@code true} ({@code --cuda-graphs
 * off|on|both}, default both): with graphs the step is one replay of the step captured as a CUDA
 * graph ({@link CudaStepGraph}: gather the batch into pinned memory, one graph launch, loss read
 * back), and the GMP run uses {@link GmpTrainer#useCudaGraphs}. Other backends ignore graphs and
 * write the {@code false} rows only.
 * {@code --plan FILE} writes the run's schedule (mask-update steps and targets, per-step
 * learning rate, optimizer settings) so that {@code bench/peers/train_torch.py} runs the very
 * same recipe in PyTorch.
 *
 * <pre>
 *   TrainBench --out train.json [--backend auto|cpu|cuda] [--models lenet-300-100,mnist-cnn] [--batches 128,512]
 *              [--warmup 10] [--warmup-seconds 1] [--steps 50] [--epochs 3] [--train 60000] [--test 10000]
 *              [--data fashion-mnist|IDX_DIR]
 *              [--recipe gmp-seed] [--step-sparsity 0.9] [--plan plan.json] [--seed 1] [--cuda-graphs off|on|both] [--quick]
 * </pre>
 * Data: synthetic images with Fashion-MNIST's shape ({@link SyntheticImages}) unless {@code --data}
 * names a folder of IDX files or {@code fashion-mnist} (the installed set, else the 12k/2k split
 * bundled in gpu-core, which travels with the repository to the GPU machine).
 */
public final class TrainBench {
    /** Parsed command line. */
    record Options(Path out, String backend, List<String> models, List<Integer> batches, int warmup, double warmupSeconds, int steps,
                   int epochs, int train, int test, String data, String recipe, double stepSparsity, Path plan, long seed,
                   List<Boolean> cudaGraphs) {

        static final String USAGE = "usage: TrainBench --out FILE.json [--backend auto|cpu|cuda] [--models a,b] [--batches 128,512] [--warmup N]"
                + " [--warmup-seconds S] [--steps N] [--epochs N (0: no GMP run)] [--train N] [--test N] [--data fashion-mnist|IDX_DIR] [--recipe NAME|FILE]"
                + " [--step-sparsity S] [--plan FILE.json] [--seed N] [--cuda-graphs off|on|both] [--quick]";

        static Options parse(String... args) {
            Path out = null, plan = null;
            String data = null;
            String backend = "auto", recipe = "gmp-seed";
            List<String> models = List.of("lenet-300-100", "mnist-cnn");
            List<Integer> batches = List.of(128, 512);
            int warmup = 10, steps = 50, epochs = 3, train = 60_000, test = 10_000;
            double sparsity = 0.9, warmupSeconds = 1.0;
            long seed = 1;
            boolean quick = false;
            List<Boolean> graphs = List.of(false, true);
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                switch (a) {
                    case "--out" -> out = Path.of(value(args, ++i));
                    case "--backend" -> backend = value(args, ++i);
                    case "--models" -> models = List.of(value(args, ++i).split(","));
                    case "--batches" -> batches = Arrays.stream(value(args, ++i).split(",")).map(s -> integer(a, s)).toList();
                    case "--warmup" -> warmup = integer(a, value(args, ++i));
                    case "--warmup-seconds" -> warmupSeconds = number(a, value(args, ++i));
                    case "--steps" -> steps = integer(a, value(args, ++i));
                    case "--epochs" -> epochs = integer(a, value(args, ++i));
                    case "--train" -> train = integer(a, value(args, ++i));
                    case "--test" -> test = integer(a, value(args, ++i));
                    case "--data" -> data = value(args, ++i);
                    case "--recipe" -> recipe = value(args, ++i);
                    case "--step-sparsity" -> sparsity = number(a, value(args, ++i));
                    case "--plan" -> plan = Path.of(value(args, ++i));
                    case "--seed" -> seed = integer(a, value(args, ++i));
                    case "--quick" -> quick = true;
                    case "--cuda-graphs" -> graphs = switch (value(args, ++i)) {
                        case "off" -> List.of(false);
                        case "on" -> List.of(true);
                        case "both" -> List.of(false, true);
                        default -> throw new IllegalArgumentException("--cuda-graphs takes off, on or both, got '" + args[i] + "'");
                    };
                    default -> throw new IllegalArgumentException("unknown argument " + a + "; " + USAGE);
                }
            }
            if (out == null) throw new IllegalArgumentException("--out FILE.json is required; " + USAGE);
            if (quick) {
                steps = Math.min(steps, 20);
                epochs = Math.min(epochs, 1);
                train = Math.min(train, 20_000);
            }
            for (String m : models)
                if (!Architectures.NAMES.contains(m))
                    throw new IllegalArgumentException("--models: unknown architecture '" + m + "'; built-in: " + String.join(", ", Architectures.NAMES));
            for (int b : batches) if (b < 1) throw new IllegalArgumentException("--batches: batch sizes must be >= 1, got " + b);
            if (warmup < 0 || steps < 1) throw new IllegalArgumentException("--warmup must be >= 0 and --steps >= 1, got " + warmup + " and " + steps);
            if (!(warmupSeconds >= 0)) throw new IllegalArgumentException("--warmup-seconds must be >= 0, got " + warmupSeconds);
            if (epochs < 0) throw new IllegalArgumentException("--epochs must be >= 0 (0 skips the GMP runs), got " + epochs);
            if (train < 1 || test < 1) throw new IllegalArgumentException("--train and --test must be >= 1, got " + train + " and " + test);
            if (!(sparsity >= 0 && sparsity < 1)) throw new IllegalArgumentException("--step-sparsity must be in [0, 1), got " + sparsity);
            return new Options(out, backend, models, batches, warmup, warmupSeconds, steps, epochs, train, test, data, recipe, sparsity, plan, seed,
                    graphs);
        }

        private static String value(String[] args, int i) {
            if (i >= args.length) throw new IllegalArgumentException(args[i - 1] + " needs a value");
            return args[i];
        }

        private static int integer(String flag, String s) {
            try {
                return Integer.parseInt(s.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(flag + ": '" + s + "' is not an integer");
            }
        }

        private static double number(String flag, String s) {
            try {
                return Double.parseDouble(s.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(flag + ": '" + s + "' is not a number");
            }
        }
    }

    private final Backend be;
    private final Options opt;
    private final Split data;
    private final String dataName;
    private final Recipe baseRecipe;

    TrainBench(Backend be, Options opt) {
        this.be = be;
        this.opt = opt;
        if (opt.data() != null) {
            Split s = DataSources.load(opt.data());
            this.data = new Split(s.train().head(opt.train()), s.test().head(opt.test()));
            this.dataName = s.train().name() + " / " + s.test().name() + ", first " + data.train().count() + " / " + data.test().count();
        } else {
            this.data = SyntheticImages.split(opt.train(), opt.test(), opt.seed());
            this.dataName = "synthetic, Fashion-MNIST's shape (1x28x28, 10 classes)";
        }
        Recipe r = Recipes.load(opt.recipe());
        this.baseRecipe = opt.epochs() > 0 ? r.withEpochs(opt.epochs()) : r;
    }

    public static void main(String[] args) throws IOException {
        Options opt;
        try {
            opt = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("TrainBench: " + e.getMessage());
            System.exit(2);
            return;
        }
        Backends.Selection sel;
        try {
            sel = Backends.create(opt.backend());
        } catch (IllegalStateException | IllegalArgumentException e) {
            System.err.println("TrainBench: " + e.getMessage());
            System.exit(3);
            return;
        }
        System.err.println("TrainBench: " + sel.reason());
        try (Backend be = sel.backend()) {
            TrainBench bench = new TrainBench(be, opt);
            if (opt.plan() != null) Files.writeString(opt.plan(), bench.planJson());
            bench.output.sendTo(Checkpoint.file(opt.out()));
            System.out.println(bench.run());
        }
    }

    /** The recipe a GMP run at {@code batch} uses: the base recipe with its batch size replaced. */
    Recipe recipe(int batch) {
        Recipe r = baseRecipe;
        return new Recipe(r.name(), r.description(), r.epochs(), batch, r.optimizer(), r.learningRate(), r.pruning());
    }

    /** The rows, checkpointed after each; main sends them to --out. */
    final Checkpoint output = new Checkpoint(this::document);

    /** Every measurement, as one JSON object. */
    String run() {
        // graphs only on CUDA: elsewhere the option is ignored, so its rows would repeat the uncaptured ones
        List<Boolean> graphs = be instanceof CudaBackend ? opt.cudaGraphs() : List.of(false);
        for (String model : opt.models())
            for (int batch : opt.batches())
                for (boolean g : graphs) {
                    output.add(g ? orError("train_step", model, batch, () -> trainStep(model, batch, true)) : trainStep(model, batch, false));
                    if (opt.epochs() > 0)
                        output.add(g ? orError("gmp_run", model, batch, () -> gmpRun(model, batch, true)) : gmpRun(model, batch, false));
                }
        return output.finish();
    }

    private Map<String, Object> document(List<Map<String, Object>> rows) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("device", be.name());
        out.put("backend", be.kind());
        out.put("date", Instant.now().toString());
        out.put("data", dataName);
        out.put("trainImages", data.train().count());
        out.put("testImages", data.test().count());
        out.put("recipe", baseRecipe.name() + (opt.epochs() > 0 ? " squeezed to " + opt.epochs() + " epochs" : ""));
        out.put("results", rows);
        return out;
    }

    /**
     * The CUDA-graph rows are new and not yet run on a GPU: a failure there becomes a row naming
     * the error (and goes to stderr) instead of losing the whole stage's figures.
     */
    private static Map<String, Object> orError(String op, String model, int batch, java.util.function.Supplier<Map<String, Object>> row) {
        try {
            return row.get();
        } catch (RuntimeException e) {
            System.err.println("TrainBench: " + op + " " + model + " batch " + batch + " with CUDA graphs failed:");
            e.printStackTrace();
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("op", op);
            r.put("model", model);
            r.put("batch", batch);
            r.put("cudaGraphs", true);
            r.put("error", String.valueOf(e));
            return r;
        }
    }

    private Model model(String name) {
        return Architectures.create(name, SyntheticImages.SAMPLE, SyntheticImages.CLASSES).bind(be, opt.seed());
    }

    /**
     * One steady-state training step, as GmpTrainer runs it, timed over opt.steps() steps; with
     * {@code graphs} (CUDA only) each step after the warm-up is one replay of the captured step.
     */
    Map<String, Object> trainStep(String name, int batch, boolean graphs) {
        Model model = model(name);
        List<Parameter> prunable = model.parameters().stream().filter(Parameter::prunableByDefault).toList();
        if (opt.stepSparsity() > 0) new MagnitudePruner(be).update(prunable, opt.stepSparsity(), Scope.LAYER);
        Dataset train = data.train();
        int n = train.count(), per = train.sampleSize(), rows = Math.min(batch, n);
        int classes = SyntheticImages.CLASSES;
        String logits = Evaluator.logitsNode(model);
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        SplittableRandom rng = new SplittableRandom(opt.seed());
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1), t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        int[] permuted = new int[n];
        for (int i = 0; i < n; i++) permuted[i] = train.labels()[order[i]];
        float[] staging = new float[rows * per];
        float lr = (float) baseRecipe.learningRateSchedule().at(0);
        try (Optimizer optimizer = baseRecipe.optimizer().create(be, model.parameters());
             Tensor labels = be.uploadInts(permuted, Shape.of(n));
             Tensor x = be.allocate(SyntheticImages.SAMPLE.withBatch(rows), DType.FLOAT32);
             Tensor y = be.allocate(Shape.of(rows), DType.INT32);
             Tensor dLogits = be.allocate(Shape.of(rows, classes), DType.FLOAT32)) {
            long[] step = {0};
            double[] lossSum = {0};
            Runnable one = () -> {
                int start = (int) (step[0] * rows % (n - rows + 1));
                for (int r = 0; r < rows; r++) System.arraycopy(train.features(), order[start + r] * per, staging, r * per, per);
                be.write(staging, 0, x, 0, rows * per);
                be.copy(labels, start, y, 0, rows);
                ExecContext ctx = new ExecContext(be, true, step[0]);
                Tensor out = model.forwardUntil(ctx, List.of(x), logits);
                lossSum[0] += be.softmaxCrossEntropy(out, y, dLogits, 1f / rows, rows, classes) / rows; // the call returns the batch sum
                be.countCorrect(out, y, rows, classes);
                model.zeroGrad();
                model.backwardFrom(ctx, dLogits, logits);
                optimizer.step(lr);
                step[0]++;
            };
            // the uncaptured step runs at least once first either way: it allocates the layers' buffers a capture needs
            one.run();
            CudaStepGraph[] graph = new CudaStepGraph[2];
            Runnable timed = one;
            try {
                if (graphs) {
                    // as GmpTrainer replays: two graphs in turn, the next batch gathered into one while the other runs
                    CudaBackend cuda = (CudaBackend) be;
                    Tensor[] masks = optimizer.parameters().stream().map(Parameter::mask).toArray(Tensor[]::new);
                    long before = optimizer.steps();
                    for (int k = 0; k < 2; k++)
                        graph[k] = CudaStepGraph.capture(cuda, x, y, classes, masks, () -> {
                            ExecContext ctx = new ExecContext(be, true, 0); // seed, lr and Adam step come from device memory
                            Tensor out = model.forwardUntil(ctx, List.of(x), logits);
                            cuda.softmaxCrossEntropyIntoStep(out, y, dLogits, 1f / rows, rows, classes);
                            cuda.countCorrectIntoStep(out, y, rows, classes);
                            model.zeroGrad();
                            model.backwardFrom(ctx, dLogits, logits);
                            optimizer.step(0f);
                        });
                    optimizer.restoreSteps(before);
                    java.util.function.LongConsumer fill = st -> {
                        CudaStepGraph g = graph[(int) (st & 1)];
                        int start = (int) (st * rows % (n - rows + 1));
                        MemorySegment in = g.input();
                        for (int r = 0; r < rows; r++)
                            MemorySegment.copy(train.features(), order[start + r] * per, in, ValueLayout.JAVA_FLOAT, (long) r * per * 4, per);
                        MemorySegment.copy(permuted, start, g.labels(), ValueLayout.JAVA_INT, 0, rows);
                    };
                    long[] filled = {-1};
                    timed = () -> {
                        long st = step[0];
                        CudaStepGraph g = graph[(int) (st & 1)];
                        if (filled[0] != st) fill.accept(st);
                        long s = optimizer.steps();
                        g.submit(lr, s + 1, st);
                        optimizer.restoreSteps(s + 1);
                        fill.accept(st + 1);
                        filled[0] = st + 1;
                        lossSum[0] += g.await().lossSum() / rows;
                        step[0]++;
                    };
                }
                // at least --warmup steps and --warmup-seconds: the JIT compiles the step's Java path during the first configuration
                long warmEnd = System.nanoTime() + (long) (opt.warmupSeconds() * 1e9);
                for (int i = 0; i < opt.warmup() || System.nanoTime() < warmEnd; i++) timed.run();
                be.synchronize();
                double[] ms = timeSteps(timed, opt.steps());
                return stepRow(name, rows, graphs, model.parameterCount(), ms, lossSum[0] / step[0]);
            } finally {
                for (CudaStepGraph g : graph) if (g != null) g.close();
            }
        }
    }

    private Map<String, Object> stepRow(String name, int rows, boolean graphs, long parameters, double[] ms, double meanLoss) {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("op", "train_step");
        row.put("model", name);
        row.put("batch", rows);
        row.put("cudaGraphs", graphs);
        row.put("parameters", parameters);
        row.put("maskedSparsity", opt.stepSparsity());
        row.put("steps", opt.steps());
        row.put("timing", ms[1] >= 0 ? "cuda-events" : "wall");
        double used = ms[1] >= 0 ? ms[1] : ms[0];
        row.put("msPerStep", used / opt.steps());
        row.put("imagesPerSec", 1000.0 * rows * opt.steps() / used);
        row.put("wallImagesPerSec", 1000.0 * rows * opt.steps() / ms[0]);
        row.put("meanLoss", meanLoss);
        return row;
    }

    /** {wall ms, CUDA-event ms or -1} for {@code steps} runs of {@code step}. */
    private double[] timeSteps(Runnable step, int steps) {
        if (be instanceof CudaBackend cuda) {
            try (CudaEvent start = CudaEvent.create(); CudaEvent end = CudaEvent.create()) {
                long t0 = System.nanoTime();
                start.record(cuda.stream());
                for (int i = 0; i < steps; i++) step.run();
                end.record(cuda.stream());
                end.synchronize();
                return new double[] {(System.nanoTime() - t0) / 1e6, end.millisSince(start)};
            }
        }
        long t0 = System.nanoTime();
        for (int i = 0; i < steps; i++) step.run();
        be.synchronize();
        return new double[] {(System.nanoTime() - t0) / 1e6, -1};
    }

    /** A whole GMP run of the recipe at {@code batch}, wall time. */
    Map<String, Object> gmpRun(String name, int batch, boolean graphs) {
        Model model = model(name);
        Recipe r = recipe(batch);
        GmpTrainer trainer = new GmpTrainer(model, data.train(), data.test(), r, opt.seed()).useCudaGraphs(graphs);
        long t0 = System.nanoTime();
        TrainingHistory h = trainer.run();
        be.synchronize();
        double sec = (System.nanoTime() - t0) / 1e9;
        EpochMetrics last = h.last();
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("op", "gmp_run");
        row.put("model", name);
        row.put("batch", batch);
        row.put("cudaGraphs", graphs);
        row.put("replayedSteps", trainer.replayedSteps());
        row.put("epochs", r.epochs());
        row.put("stepsPerEpoch", trainer.stepsPerEpoch());
        row.put("maskUpdates", h.pruning().size());
        row.put("trainImages", (long) r.epochs() * data.train().count());
        row.put("wallSec", sec);
        row.put("imagesPerSec", r.epochs() * (double) data.train().count() / sec);
        row.put("epochSec", h.epochs().stream().skip(1).mapToDouble(EpochMetrics::seconds).toArray());
        row.put("finalSparsity", last.sparsity());
        row.put("testAccuracy", last.testAccuracy());
        return row;
    }

    /** The GMP runs' schedules for the PyTorch peer: what happens at every step, per batch size. */
    String planJson() {
        Map<String, Object> plan = new LinkedHashMap<>();
        plan.put("recipe", baseRecipe.name());
        plan.put("models", opt.models());
        plan.put("batches", opt.batches());
        plan.put("data", Map.of("synthetic", opt.data() == null, "train", data.train().count(), "test", data.test().count()));
        plan.put("step", Map.of("warmup", opt.warmup(), "warmupSeconds", opt.warmupSeconds(), "steps", opt.steps(),
                "maskedSparsity", opt.stepSparsity()));
        List<Object> runs = new ArrayList<>();
        if (opt.epochs() > 0) for (int b : opt.batches()) runs.add(GmpRunPlan.of(recipe(b), data.train().count()).toMap());
        plan.put("runs", runs);
        return BenchJson.write(plan);
    }
}
