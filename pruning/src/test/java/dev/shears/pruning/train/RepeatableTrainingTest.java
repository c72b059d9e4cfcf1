package dev.shears.pruning.train;

import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.data.Dataset;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.Parameter;
import dev.shears.core.tensor.Shape;
import dev.shears.pruning.TestModels;
import dev.shears.pruning.recipe.Recipe;
import dev.shears.pruning.recipe.RecipeParser;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * The same GMP run of a small CNN, repeated in one JVM on two threads, ends with the same weights
 * to the last bit every time. The first runs execute the CPU kernels interpreted or C1-compiled,
 * the later ones C2-compiled: a kernel whose result depends on the JIT's state (as the lane sums
 * did with {@code reduceLanes}: every parameter changed its last bits from the 3rd or 4th run on)
 * fails here, and with it the promise that a run can be repeated and resumed bit-exactly.
 */
class RepeatableTrainingTest {
    private static final int RUNS = 6;

    @Test void aCnnRunRepeatedInOneJvmGivesTheSameBits() {
        Dataset flat = TestModels.blobs("blobs", 300, 4 * 8 * 8, 5, 0.4, 1);
        Dataset train = new Dataset(flat.name(), Shape.of(4, 8, 8), flat.features(), flat.labels(), flat.classes());
        Recipe recipe = RecipeParser.parse("""
                epochs: 3
                batchSize: 30
                optimizer: {type: sgd, momentum: 0.9, nesterov: true, weightDecay: 1e-4}
                learningRate: [{type: constant, lr: 0.03}]
                pruning:
                  - {type: gmp, initSparsity: 0.2, finalSparsity: 0.7, startEpoch: 1, endEpoch: 2, updateFrequency: 0.5}
                """, "repeatable cnn recipe", "repeatable");
        Map<String, float[]> first = null;
        try (Backend be = new CpuBackend(2)) {
            for (int run = 0; run < RUNS; run++) {
                Model m = NmConvTrainingTest.cnn().bind(be, 5);
                new GmpTrainer(m, train, train, recipe, 11).run();
                Map<String, float[]> now = new LinkedHashMap<>();
                for (Parameter p : m.parameters()) now.put(p.name(), be.download(p.value()));
                if (first == null) first = now;
                else for (var e : first.entrySet()) assertArrayEquals(e.getValue(), now.get(e.getKey()), e.getKey() + " in run " + (run + 1));
            }
        }
    }
}
