package dev.shears.pruning.train;

import dev.shears.core.backend.Activation;
import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.data.Dataset;
import dev.shears.core.nn.Evaluator;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.Parameter;
import dev.shears.core.nn.layers.ActivationLayer;
import dev.shears.core.nn.layers.Conv2D;
import dev.shears.core.nn.layers.Dense;
import dev.shears.core.nn.layers.Flatten;
import dev.shears.core.nn.layers.MaxPool2D;
import dev.shears.core.sparse.NmMatrix;
import dev.shears.core.sparse.SparseModel;
import dev.shears.core.sparse.SparsePlanner;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import dev.shears.pruning.TestModels;
import dev.shears.pruning.checkpoint.Checkpoint;
import dev.shears.pruning.recipe.Recipe;
import dev.shears.pruning.recipe.RecipeParser;
import dev.shears.pruning.recipe.RecipeWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * 2:4 GMP on a small CNN (4-channel 8x8 inputs: conv 3x3 4->8, conv 3x3 8->8, conv 1x1 8->8, pool,
 * dense): every Conv2D kernel ends in NVIDIA's pattern (at each output channel and kernel position,
 * every 4 consecutive input channels hold at most 2 nonzeros, read off the OIHW array) and keeps
 * it through training and through a kill and {@code --resume} from the checkpoint file, which
 * ends with the uninterrupted run's masks. The sparse planner offers NmMatrix for the 1x1
 * convolution only (its groups are consecutive im2col columns), and the planned model predicts
 * like the dense one. A checkpoint whose convolution masks follow the old grouping (along the
 * flattened in*kh*kw axis) is refused on resume, naming the kernel.
 */
class NmConvTrainingTest {
    private static final int C = 4, H = 8, W = 8, CLASSES = 5, EPOCHS = 4;
    private final Dataset train = image(TestModels.blobs("blobs-train", 300, C * H * W, CLASSES, 0.4, 1));
    private final Dataset test = image(TestModels.blobs("blobs-test", 150, C * H * W, CLASSES, 0.4, 2));
    private final Recipe recipe = RecipeParser.parse("""
            epochs: 4
            batchSize: 30
            optimizer: {type: sgd, momentum: 0.9, nesterov: true, weightDecay: 1e-4}
            learningRate: [{type: constant, lr: 0.03}]
            pruning:
              - {type: gmp, structure: "2:4", startEpoch: 1, endEpoch: 3, updateFrequency: 0.5}
            """, "nm conv test recipe", "nm-conv");

    private static Dataset image(Dataset flat) {
        return new Dataset(flat.name(), Shape.of(C, H, W), flat.features(), flat.labels(), flat.classes());
    }

    static Model cnn() {
        return Model.builder().input("x", Shape.of(C, H, W))
                .then(Conv2D.of("conv1", C, 8, 3, 1, 1, true)).then(new ActivationLayer("relu1", Activation.RELU))
                .then(Conv2D.of("conv2", 8, 8, 3, 1, 1, true)).then(new ActivationLayer("relu2", Activation.RELU))
                .then(Conv2D.of("conv3", 8, 8, 1, 1, 0, true)).then(new ActivationLayer("relu3", Activation.RELU))
                .then(new MaxPool2D("pool", 2, 2, 2, 2, 0, 0, 0, 0, false))
                .then(new Flatten("flatten"))
                .then(new Dense("fc", 8 * (H / 2) * (W / 2), CLASSES, true))
                .build();
    }

    /** Groups of 4 input channels at fixed (o, r, s) of an OIHW kernel with at most {@code n} nonzeros each; fails naming the first other one. */
    static void assertInputChannelPattern(String what, float[] k, Shape s, int n, boolean exact) {
        int out = s.dim(0), in = s.dim(1), kh = s.dim(2), kw = s.dim(3);
        for (int o = 0; o < out; o++)
            for (int r = 0; r < kh; r++)
                for (int c = 0; c < kw; c++)
                    for (int i0 = 0; i0 < in; i0 += 4) {
                        int nz = 0;
                        for (int i = i0; i < Math.min(in, i0 + 4); i++) if (k[((o * in + i) * kh + r) * kw + c] != 0f) nz++;
                        String at = what + ": output " + o + ", input channels " + i0 + ".." + (Math.min(in, i0 + 4) - 1) + ", position (" + r + ", " + c + ")";
                        if (exact) assertEquals(Math.min(n, Math.min(in, i0 + 4) - i0), nz, at);
                        else assertTrue(nz <= n, at + ": " + nz + " nonzeros");
                    }
    }

    private static List<Conv2D> convs(Model m) {
        return m.layers().stream().filter(l -> l instanceof Conv2D).map(l -> (Conv2D) l).toList();
    }

    /** A kill right after the checkpoint of the cut epoch hit the disk. */
    private static final class Killed extends RuntimeException {}

    @Test void twoOfFourConvKeepsNvidiasPatternThroughTrainingAndResume(@TempDir Path dir) {
        try (Backend be = new CpuBackend(1)) {
            // the uninterrupted run, with the pattern checked after every mask update (once the updates keep 2)
            Model straight = cnn().bind(be, 5);
            GmpTrainer st = new GmpTrainer(straight, train, test, recipe, 11);
            Map<String, byte[]> last = new HashMap<>();
            int[] checked = {0};
            st.addListener(new TrainingListener() {
                @Override public void masksUpdated(PruningEvent e) {
                    for (Conv2D c : convs(straight)) {
                        Parameter k = c.kernel();
                        byte[] now = be.downloadBytes(k.mask());
                        byte[] before = last.put(k.name(), now);
                        if (before != null)
                            for (int i = 0; i < now.length; i++) if (before[i] == 0) assertEquals(0, now[i], k.name() + "[" + i + "] came back");
                        assertInputChannelPattern(k.name() + " at step " + e.step(), be.download(k.value()), k.shape(), e.update().keepPerGroup(), false);
                        checked[0]++;
                    }
                }
            });
            TrainingHistory h = st.run();
            assertTrue(checked[0] >= 3 * 4, "the pattern was checked at every update: " + checked[0]);
            assertTrue(h.last().testAccuracy() > 0.6, "test accuracy " + h.last().testAccuracy());
            for (Conv2D c : convs(straight)) {
                float[] k = be.download(c.kernel().value());
                assertInputChannelPattern(c.name() + " (final)", k, c.kernel().shape(), 2, true);
                assertEquals(0.5, h.last().layerSparsity().get(c.kernel().name()), 1e-12, c.name());
            }

            // killed after epoch 2 (inside the ramp), resumed from the file: same weights and masks, same pattern
            Path file = dir.resolve("model.shears");
            Model first = cnn().bind(be, 5);
            String yaml = RecipeWriter.toYaml(recipe);
            GmpTrainer killed = new GmpTrainer(first, train, test, recipe, 11).saveEachEpoch(s -> {
                new Checkpoint(first, yaml, null, s).write(file);
                if (s.epoch() == 2) throw new Killed();
            });
            assertThrows(Killed.class, killed::run);
            Checkpoint c = Checkpoint.read(file, be);
            new GmpTrainer(c.model(), train, test, recipe, 11).resumeFrom(c.training()).run();
            // Same weights to the last bit and same masks: the CPU backend gives the same bits cold and hot (it did not while
            // its lane sums used reduceLanes, whose order changes when C2 compiles a method: JitDeterminismTest)
            for (Parameter p : straight.parameters()) {
                Parameter q = c.model().parameter(p.name());
                assertArrayEquals(be.download(p.value()), be.download(q.value()), p.name() + " after resume");
                if (p.mask() != null) assertArrayEquals(be.downloadBytes(p.mask()), be.downloadBytes(q.mask()), p.name() + " mask after resume");
            }
            for (Conv2D conv : convs(c.model()))
                assertInputChannelPattern(conv.name() + " (resumed)", be.download(conv.kernel().value()), conv.kernel().shape(), 2, true);

            // the planner: NmMatrix is a candidate exactly where the im2col rows are 2:4, which the 1x1 conv is and the 3x3 ones are not
            SparsePlanner planner = new SparsePlanner(SparsePlanner.Options.quick());
            for (Conv2D conv : convs(straight)) {
                Shape s = conv.kernel().shape();
                int rows = s.dim(0), cols = s.dim(1) * s.dim(2) * s.dim(3);
                float[] a = be.download(conv.kernel().value());
                boolean consecutive = NmMatrix.follows(a, rows, cols, 2, 4);
                assertEquals(s.dim(2) * s.dim(3) == 1, consecutive, conv.name() + ": groups of input channels are consecutive im2col columns only for 1x1");
                var timings = planner.choose(a, rows, cols, H * W, false).timings();
                assertEquals(consecutive, timings.stream().anyMatch(t -> t.format().equals("2:4")), conv.name() + ": " + timings);
            }
            SparseModel sm = SparseModel.plan(straight, 30, planner);
            float[] x = new float[30 * C * H * W];
            System.arraycopy(test.features(), 0, x, 0, x.length);
            try (Tensor in = be.upload(x, Shape.of(30, C, H, W))) {
                float[] dense = be.download(straight.forward(ExecContext.inference(be), in));
                float[] sparse = be.download(sm.forward(in));
                for (int i = 0; i < dense.length; i++) assertEquals(dense[i], sparse[i], 1e-4 + 1e-4 * Math.abs(dense[i]), "logit " + i);
            }
            assertEquals(Evaluator.evaluate(straight, test, 30).accuracy(), sm.evaluate(test, 30).accuracy(), 1e-12);
        }
    }

    @Test void aRunSavedWithTheOldFlattenedConvGroupingIsRefusedOnResume(@TempDir Path dir) {
        try (Backend be = new CpuBackend(1)) {
            Path file = dir.resolve("model.shears");
            Model first = cnn().bind(be, 5);
            String yaml = RecipeWriter.toYaml(recipe);
            GmpTrainer killed = new GmpTrainer(first, train, test, recipe, 11).saveEachEpoch(s -> {
                new Checkpoint(first, yaml, null, s).write(file);
                if (s.epoch() == 2) throw new Killed();
            });
            assertThrows(Killed.class, killed::run);

            // what an older Shears saved: conv2 pruned with the same keep along the flattened in*kh*kw axis, (out, in*kh*kw, 1)
            Checkpoint c = Checkpoint.read(file, be);
            int keep = c.training().history().pruning().getLast().update().keepPerGroup();
            Parameter k = c.model().parameter("conv2/kernel");
            Shape s = k.shape();
            SplittableRandom r = new SplittableRandom(3);
            float[] w = new float[s.intSize()];
            for (int i = 0; i < w.length; i++) w[i] = (float) r.nextGaussian();
            be.write(w, 0, k.value(), 0, w.length);
            byte[] ones = new byte[w.length];
            java.util.Arrays.fill(ones, (byte) 1);
            Tensor saved = k.mask();
            k.setMask(be.uploadBytes(ones, s));
            saved.close();
            be.updateMaskNm(k.value(), k.mask(), s.dim(0), (long) s.dim(1) * s.dim(2) * s.dim(3), 1, keep, 4);
            byte[] before = be.downloadBytes(k.mask());

            GmpTrainer resumed = new GmpTrainer(c.model(), train, test, recipe, 11);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> resumed.resumeFrom(c.training()));
            assertTrue(e.getMessage().contains("conv2/kernel") && e.getMessage().contains("flattened in x kh x kw")
                    && e.getMessage().contains("input channels") && e.getMessage().contains("start the run again"), e.getMessage());
            assertArrayEquals(before, be.downloadBytes(k.mask()), "nothing is touched");
        }
    }
}
