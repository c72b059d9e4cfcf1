package dev.shears.pruning.thin;

import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.data.DataSources;
import dev.shears.core.data.Dataset;
import dev.shears.core.data.Split;
import dev.shears.core.nn.Architectures;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.Parameter;
import dev.shears.core.tensor.Tensor;
import dev.shears.pruning.ChannelLayout;
import dev.shears.pruning.recipe.Recipe;
import dev.shears.pruning.recipe.RecipeParser;
import dev.shears.pruning.train.GmpTrainer;
import dev.shears.pruning.train.PruningEvent;
import dev.shears.pruning.train.TrainingListener;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A short channel GMP run of mobilenet-v2-mini (2 epochs, 100 Fashion-MNIST images): the trainer
 * prunes each residual pair as one set through every update (the same channels zero in both,
 * masks only gaining them), logs the sets, and thinning removes the set's channels from both
 * projections with the thinned model computing what the trained, masked one does.
 */
class TiedChannelGmpTest {
    private static final Backend BE = new CpuBackend(1);
    private static final String[][] PAIRS = {{"block_2_project", "block_3_project"}, {"block_4_project", "block_5_project"}};

    private static boolean[] zero(Model m, String layer) {
        Parameter p = m.parameter(layer + "/kernel");
        return ChannelLayout.of(p.name(), p.shape()).zeroChannels(BE.download(p.value()));
    }

    @Test
    void residualPairsArePrunedTogetherThroughTrainingAndThin() {
        Split data = DataSources.bundledFashionMnist();
        Dataset train = data.train().head(100), test = data.test().head(50);
        Model model = Architectures.create("mobilenet-v2-mini", train.sampleShape(), 10).bind(BE, 3);
        Recipe r = RecipeParser.parse("""
                epochs: 2
                batchSize: 50
                optimizer: {type: sgd, momentum: 0.9, nesterov: true}
                learningRate: [{type: constant, lr: 0.05}]
                pruning:
                  - {type: gmp, structure: channels, initSparsity: 0.25, finalSparsity: 0.5, startEpoch: 0, endEpoch: 1, updateFrequency: 0.5}
                """, "tied test recipe", "tied");
        List<String> log = new ArrayList<>();
        Handler h = new Handler() {
            @Override public void publish(LogRecord rec) { log.add(rec.getMessage()); }
            @Override public void flush() {}
            @Override public void close() {}
        };
        Logger jul = Logger.getLogger(GmpTrainer.class.getName());
        jul.addHandler(h);
        GmpTrainer trainer;
        try {
            trainer = new GmpTrainer(model, train, test, r, 3);
        } finally {
            jul.removeHandler(h);
        }
        assertTrue(log.stream().anyMatch(l -> l.contains("pruning[0] (channels): pruning [block_2_project/kernel, block_3_project/kernel] together")), log.toString());
        assertTrue(log.stream().anyMatch(l -> l.contains("leaving out [predictions/kernel]")), log.toString());

        List<String> perUpdate = new ArrayList<>();
        trainer.addListener(new TrainingListener() {
            @Override public void masksUpdated(PruningEvent e) {
                for (String[] pair : PAIRS) {
                    boolean[] a = zero(model, pair[0]), b = zero(model, pair[1]);
                    assertArrayEquals(a, b, pair[0] + " and " + pair[1] + " at step " + e.step());
                    perUpdate.add(pair[0] + " " + java.util.Arrays.toString(a));
                }
            }
        });
        trainer.run();
        assertTrue(perUpdate.size() >= 4, "at least two updates: " + perUpdate);
        for (String[] pair : PAIRS) {
            boolean[] a = zero(model, pair[0]);
            int n = 0;
            for (boolean z : a) if (z) n++;
            assertEquals(a.length / 2, n, pair[0]);
        }

        float[] x = new float[4 * train.sampleSize()];
        System.arraycopy(test.features(), 0, x, 0, x.length);
        ThinnedModel t = ChannelThinning.thin(model);
        assertEquals(12, ((dev.shears.core.nn.layers.Conv2D) t.model().layer("block_3_project")).outChannels());
        assertEquals(16, ((dev.shears.core.nn.layers.Conv2D) t.model().layer("block_5_project")).outChannels());
        float[] before, after;
        try (Tensor in = BE.upload(x, train.sampleShape().withBatch(4))) {
            before = BE.download(model.forward(ExecContext.inference(BE), in)).clone();
            after = BE.download(t.model().forward(ExecContext.inference(BE), in)).clone();
        }
        for (int i = 0; i < before.length; i++) assertEquals(before[i], after[i], 1e-4 + 1e-4 * Math.abs(before[i]), "logit " + i);
    }
}
