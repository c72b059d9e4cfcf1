package dev.shears.pruning.tools;

import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.data.DataSources;
import dev.shears.core.data.Split;
import dev.shears.core.nn.Architectures;
import dev.shears.core.nn.Model;
import dev.shears.pruning.checkpoint.Checkpoint;
import dev.shears.pruning.recipe.Recipe;
import dev.shears.pruning.recipe.RecipeWriter;
import dev.shears.pruning.recipe.Recipes;
import dev.shears.pruning.train.EpochMetrics;
import dev.shears.pruning.train.GmpTrainer;
import dev.shears.pruning.train.PruningEvent;
import dev.shears.pruning.train.TrainingHistory;
import dev.shears.pruning.train.TrainingListener;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A command-line runner for tuning recipes on real data (not part of the {@code shears} CLI):
 * trains a built-in architecture with one or more recipes in sequence (e.g. a dense recipe, then
 * a GMP recipe starting from its weights) and prints one line per epoch and a summary.
 *
 * <pre>
 * java -cp ... dev.shears.pruning.tools.Experiment --data fashion-mnist --arch lenet-300-100 \
 *      --recipe dense.yaml --recipe gmp-seed [--final 0.95] [--epochs N] [--seed 1] [--log FILE]
 *      [--load FILE.shears] [--save FILE.shears] [--limit TRAIN_SAMPLES]
 * </pre>
 * {@code --final} and {@code --epochs} apply to the recipe given just before them.
 */
public final class Experiment {
    private Experiment() {}

    public static void main(String[] args) throws Exception {
        String data = "fashion-mnist", arch = "lenet-300-100";
        long seed = 1;
        Path log = null, load = null, save = null;
        int limit = 0;
        List<Recipe> recipes = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            String v = i + 1 < args.length ? args[i + 1] : null;
            switch (a) {
                case "--data" -> { data = v; i++; }
                case "--arch" -> { arch = v; i++; }
                case "--seed" -> { seed = Long.parseLong(v); i++; }
                case "--log" -> { log = Path.of(v); i++; }
                case "--limit" -> { limit = Integer.parseInt(v); i++; }
                case "--load" -> { load = Path.of(v); i++; }
                case "--save" -> { save = Path.of(v); i++; }
                case "--recipe" -> { recipes.add(Recipes.load(v)); i++; }
                case "--final" -> { recipes.set(recipes.size() - 1, recipes.getLast().withFinalSparsity(Double.parseDouble(v))); i++; }
                case "--epochs" -> { recipes.set(recipes.size() - 1, recipes.getLast().withEpochs(Integer.parseInt(v))); i++; }
                default -> throw new IllegalArgumentException("unknown argument " + a + "; see the class comment for usage");
            }
        }
        if (recipes.isEmpty()) throw new IllegalArgumentException("give at least one --recipe NAME|FILE");
        // "bundled": the small split that ships in the jar (what `shears demo` uses without the full set)
        Split split = data.equals("bundled") ? DataSources.bundledFashionMnist() : DataSources.load(data);
        if (limit > 0) split = new Split(split.train().head(limit), split.test());
        PrintStream out = log == null ? System.out : new PrintStream(Files.newOutputStream(log), true);
        try (Backend be = CpuBackend.create()) {
            Model model = load != null ? Checkpoint.read(load, be).model()
                    : Architectures.create(arch, split.train().sampleShape(), split.train().classes()).bind(be, seed);
            if (load != null) out.println("# starting from " + load);
            out.printf(Locale.ROOT, "# %s on %s (%d train, %d test), backend %s, seed %d%n", arch, data,
                    split.train().count(), split.test().count(), be.name(), seed);
            int phase = 0;
            for (Recipe r : recipes) {
                phase++;
                out.println("# phase " + phase + ": " + r.describe().replace("\n", "\n# "));
                out.println("# " + RecipeWriter.toYaml(r).strip().replace("\n", "\n# "));
                long t0 = System.nanoTime();
                final int ph = phase;
                TrainingHistory h = new GmpTrainer(model, split.train(), split.test(), r, seed + phase)
                        .addListener(new TrainingListener() {
                            @Override public void epochFinished(EpochMetrics m) {
                                out.printf(Locale.ROOT, "phase %d epoch %3d lr %.5f train %.4f/%.4f test %.4f/%.4f sparsity %.4f (target %.4f) %.2fs %s%n",
                                        ph, m.epoch(), m.lr(), m.trainLoss(), m.trainAccuracy(), m.testLoss(), m.testAccuracy(),
                                        m.sparsity(), m.targetSparsity(), m.seconds(), m.layerSparsity());
                            }
                            @Override public void masksUpdated(PruningEvent e) {
                                if (e.isFinal()) out.printf(Locale.ROOT, "# final sparsity reached at step %d (epoch %.3f): %s%n", e.step(), e.epoch(), e.update().describe());
                            }
                        }).run();
                double best = h.epochs().stream().skip(1).mapToDouble(EpochMetrics::testAccuracy).max().orElse(Double.NaN);
                out.printf(Locale.ROOT, "# phase %d done in %.1f s: dense %.4f, final test accuracy %.4f (best %.4f), sparsity %.4f%n",
                        phase, (System.nanoTime() - t0) / 1e9, h.dense().map(x -> x.accuracy()).orElse(Double.NaN),
                        h.last().testAccuracy(), best, h.last().sparsity());
            }
            if (save != null) {
                new Checkpoint(model, RecipeWriter.toYaml(recipes.getLast()), null).write(save);
                out.println("# saved " + save);
            }
        }
    }
}
